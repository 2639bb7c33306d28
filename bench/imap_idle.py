"""Memory of idling IMAP connections: N connections logged in, INBOX selected, in IDLE, against a real `yizhan serve`
process; reports what each costs the server: (RSS with them − RSS before) / N.

    python bench/imap_idle.py [--connections 1000] [--mailboxes 10] [--tls] [--compress]

Before measuring, a few connections go through the same steps and leave (imports, caches and pools warmed up, as
they would be on a running server). Once all N are idling, one message is appended to each mailbox and the bench
checks that every idling connection was told (`* n EXISTS`), so the connections measured are really live.
Prints one JSON line: connections, RSS before and after (MB), KB per connection, how many saw the new message,
errors, and the load average. Target: <= 100 KB per connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import ssl
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imap import PASSWORD, add_mailboxes, make_message, start_server


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Stream:
    """Lines in, octets out over one connection; raw deflate both ways once `compress()` was called (RFC 4978)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buffer = b""
        self.deflater: Any = None
        self.inflater: Any = None

    def compress(self) -> None:
        self.deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.inflater = zlib.decompressobj(-15)

    def write(self, data: bytes) -> None:
        if self.deflater is not None:
            data = self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH)
        self.writer.write(data)

    async def readline(self) -> bytes:
        if self.inflater is None:
            return await self.reader.readline()
        while b"\n" not in self.buffer:
            chunk = await self.reader.read(65536)
            if not chunk:
                return b""
            self.buffer += self.inflater.decompress(chunk)
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"


async def expect(stream: Stream, prefix: bytes) -> bytes:
    """Read lines until one starts with `prefix` (untagged lines on the way are skipped)."""
    while True:
        line = await stream.readline()
        if not line:
            raise ConnectionError("connection closed")
        if line.startswith(prefix):
            return line


class Idler:
    def __init__(self, stream: Stream) -> None:
        self.stream = stream

    @classmethod
    async def start(cls, port: int, address: str, context: ssl.SSLContext | None, compress: bool) -> Idler:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context,
                                                       server_hostname="localhost" if context else None)
        stream = Stream(reader, writer)
        await expect(stream, b"* OK")
        stream.write(f'a LOGIN "{address}" "{PASSWORD}"\r\n'.encode())
        line = await expect(stream, b"a ")
        if not line.startswith(b"a OK"):
            raise ConnectionError(f"LOGIN: {line!r}")
        if compress:
            stream.write(b"z COMPRESS DEFLATE\r\n")
            line = await expect(stream, b"z ")
            if not line.startswith(b"z OK"):
                raise ConnectionError(f"COMPRESS: {line!r}")
            stream.compress()
        stream.write(b"b SELECT INBOX\r\nc IDLE\r\n")
        await expect(stream, b"b OK")
        await expect(stream, b"+ ")
        return cls(stream)

    async def stop(self) -> None:
        self.stream.write(b"DONE\r\nd LOGOUT\r\n")
        try:
            await asyncio.wait_for(expect(self.stream, b"d "), 30)
        finally:
            self.stream.writer.close()


async def append(port: int, address: str, number: int, context: ssl.SSLContext | None) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context,
                                                   server_hostname="localhost" if context else None)
    stream = Stream(reader, writer)
    await expect(stream, b"* OK")
    body = make_message(number, 2)
    writer.write(f'a LOGIN "{address}" "{PASSWORD}"\r\n'.encode() + b"b APPEND INBOX {%d+}\r\n%s\r\nc LOGOUT\r\n"
                 % (len(body), body))
    line = await expect(stream, b"b ")
    if not line.startswith(b"b OK"):
        raise ConnectionError(f"APPEND: {line!r}")
    writer.close()


async def run(pid: int, port: int, connections: int, addresses: list[str],
              context: ssl.SSLContext | None, compress: bool) -> dict[str, object]:
    errors: list[str] = []
    warm = await asyncio.gather(*(Idler.start(port, addresses[i % len(addresses)], context, compress)
                                  for i in range(20)))
    for idler in warm:
        await idler.stop()
    await asyncio.sleep(2)
    before = rss_kb(pid)
    idlers: list[Idler] = []
    for start in range(0, connections, 50):
        batch = await asyncio.gather(*(Idler.start(port, addresses[i % len(addresses)], context, compress)
                                       for i in range(start, min(connections, start + 50))),
                                     return_exceptions=True)
        idlers += [item for item in batch if isinstance(item, Idler)]
        errors += [repr(item) for item in batch if not isinstance(item, Idler)]
    await asyncio.sleep(3)
    after = rss_kb(pid)
    # Every idler is live: a new message in each mailbox reaches all of them while they idle.
    for number, address in enumerate(addresses):
        await append(port, address, number, context)
    told = await asyncio.gather(*(asyncio.wait_for(expect(idler.stream, b"* 1 EXISTS"), 60) for idler in idlers),
                                return_exceptions=True)
    seen = sum(1 for item in told if isinstance(item, bytes))
    results = await asyncio.gather(*(idler.stop() for idler in idlers), return_exceptions=True)
    errors += [repr(item) for item in results if isinstance(item, BaseException)]
    return {"connections": len(idlers), "rss_before_mb": round(before / 1024, 1),
            "rss_after_mb": round(after / 1024, 1),
            "kb_per_connection": round((after - before) / max(1, len(idlers)), 1), "saw_new_message": seen,
            "errors": len(errors), "first_errors": errors[:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--mailboxes", type=int, default=10)
    parser.add_argument("--tls", action="store_true", help="connect to the imaps port (TLS costs memory too)")
    parser.add_argument("--compress", action="store_true", help="COMPRESS=DEFLATE after login, as Thunderbird does")
    args = parser.parse_args()
    # Each connection is a descriptor here and one in the server (which inherits this limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2 * args.connections + 200 <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (2 * args.connections + 200, hard))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        process, port = start_server(data, args.connections, tls=args.tls)
        try:
            addresses = add_mailboxes(data, args.mailboxes)
            context = None
            if args.tls:
                context = ssl.create_default_context(cafile=str(data / "tls" / "cert.pem"))
            load = os.getloadavg()[0]
            started = time.perf_counter()
            result = asyncio.run(run(process.pid, port, args.connections, addresses, context, args.compress))
            seconds = time.perf_counter() - started
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    print(json.dumps({"bench": "imap_idle", "tls": args.tls, "compress": args.compress, **result,
                      "seconds": round(seconds, 1),
                      "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}), flush=True)


if __name__ == "__main__":
    main()
