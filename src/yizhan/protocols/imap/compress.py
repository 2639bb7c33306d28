"""COMPRESS=DEFLATE (RFC 4978): raw deflate (RFC 1951) over an IMAP connection, both ways.

`Deflate` holds one connection's two zlib streams: `compress(data)` deflates one burst of responses and ends it with
a sync flush, so the client can inflate everything written so far (RFC 4978 §4); `feed(data)` takes octets from
the socket and `inflate()` hands back what they decompress to, in pieces.

Invariants:
- Raw deflate (no zlib or gzip header) both ways, as RFC 4978 §3 requires; the inflater accepts the largest window
  (32 KiB) a client may use. Our deflater uses a 2 KiB window and memLevel 4, about 22 KB instead of 150 KB with
  zlib's defaults: any inflater reads a stream made with a smaller window, and IMAP responses are short, so the
  ratio barely changes.
- Our deflater lives only for one burst: each burst ends with a sync flush (a byte-aligned, non-final block), and
  the next burst's fresh deflater simply continues the stream with blocks of its own that refer to nothing before
  them, which any inflater reads as the same stream. An idle connection (IDLE, a client between commands) so
  holds no deflater at all; only the inflater's 32 KiB window, which the client's stream needs, stays.
- Inflating is bounded: one `inflate()` call returns at most `chunk` octets and keeps the rest of the input for
  the next call, so a small "zip bomb" never expands in memory beyond one chunk plus what the framer's own limits
  let it buffer.
- A corrupt stream raises `CompressionError` (a `ConnectionError`): the connection is closed, nothing is guessed.
"""

from __future__ import annotations

import zlib

# RFC 4978 §4 suggests a quick level for servers: most IMAP traffic is small and interactive.
_LEVEL = 1
# The client's stream may use the full 32 KiB window (RFC 1951), so the inflater must accept it.
_INFLATE_WBITS = -15
# Our own stream: a 2 KiB window and memLevel 4 (measured with tracemalloc: 22 KB per deflater, against 150 KB
# for a 32 KiB window and memLevel 5), so idling COMPRESS clients such as Thunderbird cost little.
_DEFLATE_WBITS = -11
_MEM_LEVEL = 4


class CompressionError(ConnectionError):
    """The client's deflate stream is corrupt."""


class Deflate:
    """The deflater of our responses and the inflater of the client's commands, for one connection."""

    __slots__ = ("_inflater", "_more", "_pending", "chunk")

    def __init__(self, chunk: int = 64 * 1024) -> None:
        self._inflater = zlib.decompressobj(_INFLATE_WBITS)
        self._pending = b""
        # True when the last inflate filled its chunk: zlib may hold more output even with no input left.
        self._more = False
        self.chunk = chunk

    def compress(self, data: bytes) -> bytes:
        """`data` deflated and sync-flushed (RFC 4978 §4: the client must be able to read it now)."""
        deflater = zlib.compressobj(_LEVEL, zlib.DEFLATED, _DEFLATE_WBITS, _MEM_LEVEL)
        return deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH)

    @property
    def has_input(self) -> bool:
        """Whether compressed octets are waiting to be inflated."""
        return bool(self._pending) or self._more

    def feed(self, data: bytes) -> None:
        """Octets read from the socket; `inflate()` returns what they stand for."""
        self._pending += data

    def inflate(self) -> bytes:
        """Up to `chunk` octets of the client's plaintext (b"" when the input so far holds no more)."""
        if not self.has_input:
            return b""
        try:
            out = self._inflater.decompress(self._pending, self.chunk)
        except zlib.error as exc:
            self._pending = b""
            raise CompressionError(f"corrupt deflate stream: {exc}") from exc
        self._pending = self._inflater.unconsumed_tail
        self._more = len(out) >= self.chunk
        if self._inflater.eof:
            # RFC 4978 has no end of compression but the end of the connection: octets after a final block are
            # not part of the session.
            self._pending = b""
            raise CompressionError("deflate stream ended")
        return out
