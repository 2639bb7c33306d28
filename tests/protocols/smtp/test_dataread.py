"""The chunked DATA reader agrees with a line-by-line reading of RFC 5321 (as aiosmtpd does it), however the bytes
arrive, and gives back what a client pipelined after the final dot."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.protocols.smtp.dataread import DataRead, read_data


def line_by_line(stream: bytes, limit: int, line_limit: int) -> tuple[DataRead, bytes] | None:
    """The reference: read CR LF-terminated lines until a lone dot, unstuff each, count sizes and line lengths."""
    lines: list[bytes] = []
    position, size, long_line = 0, 0, False
    while True:
        end = stream.find(b"\r\n", position)
        if end < 0:
            return None
        line = stream[position:end + 2]
        position = end + 2
        if line == b".\r\n":
            break
        size += len(line)
        long_line = long_line or len(line) > line_limit
        lines.append(line[1:] if line.startswith(b".") else line)
    rest = stream[position:]
    if size > limit:
        return DataRead(None, too_big=True), rest
    if long_line:
        return DataRead(None, line_too_long=True), rest
    return DataRead(b"".join(lines)), rest


async def chunked(stream: bytes, cuts: list[int], limit: int, line_limit: int) -> tuple[DataRead | None, bytes]:
    reader = asyncio.StreamReader(limit=line_limit)
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})

    async def feed() -> None:
        for a, b in itertools.pairwise(points):
            reader.feed_data(stream[a:b])
            await asyncio.sleep(0)
        reader.feed_eof()

    feeder = asyncio.create_task(feed())
    result = await read_data(reader, limit, line_limit)
    await feeder
    return result, await reader.read()


PIECES = [b"\r\n", b".", b"\n", b"\r", b"x", b"..", "Subject: 北京\r\n".encode(), b"y" * 40, b"\r\n.\r\n", b"\n.\r\n",
          b"\r\n.\n", b"QUIT\r\n"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join), st.lists(st.integers(0, 10_000), max_size=6),
       st.sampled_from([60, 4096]), st.sampled_from([30, 1001]))
def test_chunked_reading_agrees_with_reading_lines(stream: bytes, cuts: list[int], limit: int,
                                                   line_limit: int) -> None:
    expected = line_by_line(stream, limit, line_limit)
    got, rest = asyncio.run(chunked(stream, cuts, limit, line_limit))
    if expected is None:
        assert got is None
        return
    assert got == expected[0]
    assert rest == expected[1]


@pytest.mark.parametrize(("stream", "content", "rest"), [
    (b".\r\n", b"", b""),
    (b"a\r\n.\r\nQUIT\r\n", b"a\r\n", b"QUIT\r\n"),
    (b"..leading dot\r\n.\r\n", b".leading dot\r\n", b""),
    # A bare LF before the dot never ends the data (SMTP smuggling).
    (b"a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n", b"a\n.\r\nMAIL FROM:<x@y>\r\n", b""),
    # A line ".<LF>b" starts with a dot, which unstuffing removes; it is not the end either.
    (b"a\r\n.\nb\r\n.\r\n", b"a\r\n\nb\r\n", b""),
])
def test_examples(stream: bytes, content: bytes, rest: bytes) -> None:
    got, left = asyncio.run(chunked(stream, [1, 3], 4096, 1001))
    assert got == DataRead(content) and left == rest
