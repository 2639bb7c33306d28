"""Framing: bytes as they arrive from the socket → complete commands with their literals (RFC 9051 §2.2, §4.3).

`CommandReader.feed(data)` buffers; `next_event()` returns what the session must act on, or None when more bytes
are needed:

- `CommandFrame(data)`: one complete command without its final CRLF. Every literal is kept in place as its
  header, CRLF and exactly its octets (`A1 LOGIN {5}\\r\\nalice {9}\\r\\npassword1`), with line ends made CRLF;
  `parser.parse_command` reads this form.
- `ContinuationNeeded(tag, size)`: a synchronising literal `{n}` / `~{n}` (RFC 3516 literal8) was announced and
  accepted; the session sends `+ ...` and the client then sends the octets.
- `FramingError(...)`: a limit was hit. The framer has already discarded what belonged to the refused command.
  `fatal` means the stream cannot be resynchronised (the client is sending octets we will not read: a line too
  long, a non-synchronising literal too large): send BYE and close. Otherwise answer the tag (`toobig` →
  `NO [TOOBIG]`, RFC 9051 §7.1; else BAD) and carry on: for a refused synchronising literal the client sends
  nothing more of that command (RFC 9051 §7.5).

Non-synchronising literals `{n+}` (RFC 7888 LITERAL+ / LITERAL-) need no continuation. RFC 7888 §4 has no `{n-}`
syntax: LITERAL- is the same `{n+}` limited to 4096 octets (`literal_minus=True`); `{n-}` is left to the parser,
which answers BAD. Invariants: the buffer never holds more than one line of `max_line` octets plus the literals of
one command (`max_command`); a literal's size is checked against `max_literal` from its header, before any of
its octets are read; nothing here raises on any input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LITERAL_MINUS_MAX = 4096
_LITERAL_AT_END = re.compile(rb"(~?)\{([0-9]{1,20})(\+?)\}\Z")
_TAG = re.compile(rb"[^\x00-\x20(){%*\"\\+\x7f-\xff]+")


@dataclass(frozen=True, slots=True)
class CommandFrame:
    data: bytes


@dataclass(frozen=True, slots=True)
class ContinuationNeeded:
    tag: str | None
    size: int


@dataclass(frozen=True, slots=True)
class FramingError:
    tag: str | None
    message: str
    fatal: bool = False
    toobig: bool = False


Event = CommandFrame | ContinuationNeeded | FramingError


@dataclass(frozen=True, slots=True)
class FramingLimits:
    """Limits of one command: a line between literals, one literal, and the whole command."""

    max_line: int = 64 * 1024
    max_literal: int = 64 * 1024 * 1024
    max_command: int = 80 * 1024 * 1024


def read_tag(line: bytes) -> str | None:
    """The tag at the start of a command line (RFC 9051 §9 `tag`), or None if it is not a valid tag."""
    match = _TAG.match(line)
    if match is None or line[match.end():match.end() + 1] not in (b" ", b"\r", b"\n", b""):
        return None
    return match.group().decode("ascii")


class CommandReader:
    """Incremental framer for one connection; see the module docstring."""

    def __init__(self, limits: FramingLimits | None = None, *, literal_minus: bool = False) -> None:
        self.limits = limits or FramingLimits()
        # With only LITERAL- advertised, non-synchronising literals are limited to 4096 octets (RFC 7888 §4).
        self.literal_minus = literal_minus
        self._buffer = bytearray()
        self._data = bytearray()
        self._started = False
        self._size = 0
        self._tag: str | None = None
        self._literal = -1  # Octets of literal still expected; -1 when reading a line.

    @property
    def pending(self) -> bool:
        """Whether part of a command has been received (e.g. a literal awaited)."""
        return self._started or bool(self._buffer)

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def abort_command(self) -> None:
        """Drop the command whose synchronising literal the session refused (a tagged NO/BAD instead of `+`).

        RFC 9051 §7.5: the client then sends nothing more of that command, so framing resumes at the next line.
        Call it only right after a `ContinuationNeeded` event.
        """
        self._reset()

    def take_buffered(self) -> bytes:
        """Remove and return the octets received after the last complete command (e.g. compressed data that follows
        COMPRESS, RFC 4978 §3). Call it only between commands."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest

    def _reset(self) -> None:
        self._data = bytearray()
        self._started = False
        self._size = 0
        self._tag = None
        self._literal = -1

    def _fail(self, message: str, *, fatal: bool = False, toobig: bool = False) -> FramingError:
        tag = self._tag
        self._reset()
        if fatal:
            self._buffer.clear()
        return FramingError(tag, message, fatal=fatal, toobig=toobig)

    def next_event(self) -> Event | None:
        """The next complete event from the buffered bytes, or None when more bytes are needed."""
        while True:
            if self._literal >= 0:
                if len(self._buffer) < self._literal:
                    return None
                self._data += self._buffer[:self._literal]
                del self._buffer[:self._literal]
                self._literal = -1
            end = self._buffer.find(b"\n", 0, self.limits.max_line + 2)
            if end < 0:
                if len(self._buffer) > self.limits.max_line + 1:
                    if not self._started:
                        self._tag = read_tag(bytes(self._buffer[:200]))
                    return self._fail("line too long", fatal=True)
                return None
            line = bytes(self._buffer[:end])
            del self._buffer[:end + 1]
            if line.endswith(b"\r"):
                line = line[:-1]
            if not self._started:
                if not line:
                    continue  # An empty line between commands is ignored.
                self._started = True
                self._tag = read_tag(line)
            if len(line) > self.limits.max_line:
                return self._fail("line too long", fatal=True)
            self._size += len(line) + 2
            if self._size > self.limits.max_command:
                return self._fail("command too long", fatal=True)
            match = _LITERAL_AT_END.search(line)
            if match is None:
                self._data += line
                data = bytes(self._data)
                self._reset()
                return CommandFrame(data)
            size = int(match.group(2))
            synchronising = not match.group(3)
            self._data += line + b"\r\n"
            if size > self.limits.max_literal or self._size + size > self.limits.max_command:
                return self._fail("literal too large", fatal=not synchronising, toobig=True)
            if not synchronising and self.literal_minus and size > LITERAL_MINUS_MAX:
                return self._fail("non-synchronising literal above 4096 octets (LITERAL-)", fatal=True)
            self._size += size
            self._literal = size
            if synchronising:
                return ContinuationNeeded(self._tag, size)
