"""The COMPRESS=DEFLATE streams of one connection (protocols/imap/compress.py), without a socket: bursts deflated
by a fresh deflater each are one valid raw deflate stream to a client's single inflater, and an idle connection's
compression state stays small."""

from __future__ import annotations

import tracemalloc
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.protocols.imap.compress import Deflate


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=5000), min_size=1, max_size=12))
def test_bursts_read_as_one_stream_by_one_inflater(bursts: list[bytes]) -> None:
    deflate = Deflate()
    client = zlib.decompressobj(-15)
    received = sent = b""
    for burst in bursts:
        # After each burst the client can read everything sent so far (RFC 4978 §4).
        received += client.decompress(deflate.compress(burst))
        sent += burst
        assert received == sent
    assert not client.eof


def test_repeated_responses_still_compress() -> None:
    deflate = Deflate()
    response = b"* 1 FETCH (FLAGS (\\Seen) UID 1 RFC822.SIZE 2048)\r\n" * 200
    assert len(deflate.compress(response)) < len(response) // 10


def test_an_idle_connection_keeps_only_the_inflater() -> None:
    # The client's commands, compressed beforehand (its own compressor is not the server's memory).
    client = zlib.compressobj(6, zlib.DEFLATED, -15)
    commands = [client.compress(b"a%d NOOP\r\n" % n) + client.flush(zlib.Z_SYNC_FLUSH) for n in range(20)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        deflate = Deflate()
        for number, command in enumerate(commands):
            deflate.compress(b"* %d EXISTS\r\n" % number * 50)
            deflate.feed(command)
            assert deflate.inflate() == b"a%d NOOP\r\n" % number
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # The inflater's 32 KiB window and state (about 40 KB); no deflater is kept between bursts.
    assert held < 48_000, held
