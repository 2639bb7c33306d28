"""Memory of idling IMAP connections: N connections logged in, INBOX selected, in IDLE, against a real `yizhan serve`
process; reports what each costs the server: (RSS with them − RSS before) / N.

    python bench/imap_idle.py [--connections 1000] [--mailboxes 10] [--tls]

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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imap import PASSWORD, add_mailboxes, make_message, start_server


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def expect(reader: asyncio.StreamReader, prefix: bytes) -> bytes:
    """Read lines until one starts with `prefix` (untagged lines on the way are skipped)."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed")
        if line.startswith(prefix):
            return line


class Idler:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def start(cls, port: int, address: str, context: ssl.SSLContext | None) -> Idler:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context,
                                                       server_hostname="localhost" if context else None)
        await expect(reader, b"* OK")
        writer.write(f'a LOGIN "{address}" "{PASSWORD}"\r\nb SELECT INBOX\r\nc IDLE\r\n'.encode())
        line = await expect(reader, b"a ")
        if not line.startswith(b"a OK"):
            raise ConnectionError(f"LOGIN: {line!r}")
        await expect(reader, b"b OK")
        await expect(reader, b"+ ")
        return cls(reader, writer)

    async def stop(self) -> None:
        self.writer.write(b"DONE\r\nd LOGOUT\r\n")
        try:
            await asyncio.wait_for(expect(self.reader, b"d "), 30)
        finally:
            self.writer.close()


async def append(port: int, address: str, number: int, context: ssl.SSLContext | None) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context,
                                                   server_hostname="localhost" if context else None)
    await expect(reader, b"* OK")
    body = make_message(number, 2)
    writer.write(f'a LOGIN "{address}" "{PASSWORD}"\r\n'.encode() + b"b APPEND INBOX {%d+}\r\n%s\r\nc LOGOUT\r\n"
                 % (len(body), body))
    line = await expect(reader, b"b ")
    if not line.startswith(b"b OK"):
        raise ConnectionError(f"APPEND: {line!r}")
    writer.close()


async def run(pid: int, port: int, connections: int, addresses: list[str],
              context: ssl.SSLContext | None) -> dict[str, object]:
    errors: list[str] = []
    warm = await asyncio.gather(*(Idler.start(port, addresses[i % len(addresses)], context) for i in range(20)))
    for idler in warm:
        await idler.stop()
    await asyncio.sleep(2)
    before = rss_kb(pid)
    idlers: list[Idler] = []
    for start in range(0, connections, 50):
        batch = await asyncio.gather(*(Idler.start(port, addresses[i % len(addresses)], context)
                                       for i in range(start, min(connections, start + 50))),
                                     return_exceptions=True)
        idlers += [item for item in batch if isinstance(item, Idler)]
        errors += [repr(item) for item in batch if not isinstance(item, Idler)]
    await asyncio.sleep(3)
    after = rss_kb(pid)
    # Every idler is live: a new message in each mailbox reaches all of them while they idle.
    for number, address in enumerate(addresses):
        await append(port, address, number, context)
    told = await asyncio.gather(*(asyncio.wait_for(expect(idler.reader, b"* 1 EXISTS"), 60) for idler in idlers),
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
            result = asyncio.run(run(process.pid, port, args.connections, addresses, context))
            seconds = time.perf_counter() - started
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    print(json.dumps({"bench": "imap_idle", "tls": args.tls, **result, "seconds": round(seconds, 1),
                      "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}), flush=True)


if __name__ == "__main__":
    main()
