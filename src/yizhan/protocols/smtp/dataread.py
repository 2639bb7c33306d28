"""Reading a transaction's DATA in large chunks rather than line by line.

aiosmtpd reads DATA one line at a time (an await per line, about 130 for a 10 KB message); this reads what the
socket has, up to 64 KiB at a time, and looks for the end of the data in it.

RFC 5321 §4.1.1.4: the data ends with CR LF "." CR LF, whose first CR LF may be the one that ended the DATA command
(so ".\\r\\n" at once is an empty message). Only that sequence ends it: a bare LF or a bare CR next to a dot never
does (SMTP smuggling). §4.5.2: a line that starts with "." has that dot removed. Lines are what CR LF separates, as
aiosmtpd counts them.

Invariants:
- At most `limit` bytes of data (plus one chunk) are held; past that the rest is read and dropped until the end of
  the data, and the result says the data was too big (the reply comes after the data, RFC 5321 §4.2.5).
- Bytes after the end of the data (commands a client pipelined after the final dot) are given back to the reader,
  so the command loop reads them next.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

_END = b"\r\n.\r\n"
_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class DataRead:
    """What DATA delivered: the message (dot-unstuffed), or why not."""

    content: bytes | None
    too_big: bool = False
    line_too_long: bool = False


def unstuff(data: bytes) -> bytes:
    """Remove the leading dot of each line (RFC 5321 §4.5.2); `data` starts at the start of a line."""
    if data.startswith(b"."):
        data = data[1:]
    return data.replace(b"\r\n.", b"\r\n")


def _give_back(reader: asyncio.StreamReader, extra: bytes | bytearray) -> None:
    # aiosmtpd itself reaches into the StreamReader's buffer (for STARTTLS); this puts pipelined bytes back in front.
    if extra:
        reader._buffer[0:0] = extra  # type: ignore[attr-defined]


async def read_data(reader: asyncio.StreamReader, limit: int | None, line_limit: int) -> DataRead | None:
    """Read up to and including the end of the data; None when the connection closed first."""
    # The CR LF that ended the DATA command, so that an empty message's lone dot is found like any other end.
    buffer = bytearray(b"\r\n")
    searched = 0
    too_big = False
    while True:
        end = buffer.find(_END, searched)
        if end >= 0:
            break
        if limit and len(buffer) - 2 > limit + len(_END):
            # Too much: keep only what could be the start of the end of the data, and drain the rest.
            too_big = True
            del buffer[:-(len(_END) - 1)]
        searched = max(len(buffer) - len(_END) + 1, 0)
        chunk = await reader.read(_CHUNK)
        if not chunk:
            return None
        buffer += chunk
    _give_back(reader, buffer[end + len(_END):])
    if too_big:
        return DataRead(None, too_big=True)
    # The data proper: from after DATA's CR LF to the CR LF that starts the end sequence (kept, as a line end).
    data = bytes(buffer[2:end + 2])
    if limit and len(data) > limit:
        return DataRead(None, too_big=True)
    # A line longer than `line_limit` with its CR LF is refused, as aiosmtpd does (a split is C speed; a pattern
    # for "a run of N bytes" retries at every position).
    if data and max(map(len, data.split(b"\r\n"))) > line_limit - 2:
        return DataRead(None, line_too_long=True)
    return DataRead(unstuff(data))
