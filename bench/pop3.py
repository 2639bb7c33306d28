"""POP3 download speed: one session retrieving every message of a maildrop over implicit TLS (pop3s).

    python bench/pop3.py [--count 1000] [--size 10240] [--rounds 3]

A server runs in this process on port 0 with a fresh data directory; the client runs in a separate process (so the
two do not share an interpreter) and times, after login: `sequential` — poplib's RETR, one command at a time, as
ordinary clients do (poplib's line-by-line reading costs the client much of the time); `sequential_raw` — the same
one-at-a-time pattern from a client reading whole replies; `pipelined` — every RETR sent at once (RFC 2449
PIPELINING), replies read as they come.
Prints one JSON line per variant and round: messages, bytes, seconds for all RETRs, messages/s, MB/s, and the
client's and the server's CPU seconds (login, TLS handshake and process start included), to tell a slow client
from a slow server.
Target (2-core machine, issue 4): <= 0.35 s for 1000 RETRs of 10 KB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import poplib
import resource
import socket
import ssl
import sys
import tempfile
import time
from pathlib import Path

from yizhan.app.server import Server
from yizhan.config.paths import DataPaths
from yizhan.config.settings import load_settings

ADDRESS = "bench@example.com"
PASSWORD = "bench-password"
ALL_PORTS = ("smtp", "submission", "smtps", "lmtp", "imap", "imaps", "pop3", "pop3s", "http")


def make_message(index: int, size: int) -> bytes:
    head = (f"From: Sender <sender@example.org>\r\nTo: {ADDRESS}\r\nSubject: message {index}\r\n"
            f"Date: Wed, 01 May 2024 09:30:00 +0000\r\nMessage-ID: <bench.{index}@example.org>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n").encode()
    line = b"The quick brown fox jumps over the lazy dog; .dots at the start of some lines follow.\r\n"
    body = bytearray()
    while len(head) + len(body) < size:
        body += (b"." if len(body) % 7 == 0 else b"") + line
    return head + bytes(body)[: size - len(head)]


def client_context(cafile: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile)


def run_sequential(port: int, cafile: str, count: int) -> tuple[float, int]:
    session = poplib.POP3_SSL("127.0.0.1", port, context=client_context(cafile), timeout=60)
    session.user(ADDRESS)
    session.pass_(PASSWORD)
    received = 0
    start = time.perf_counter()
    for number in range(1, count + 1):
        received += session.retr(number)[2]
    seconds = time.perf_counter() - start
    session.quit()
    return seconds, received


def raw_login(port: int, cafile: str) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock = client_context(cafile).wrap_socket(raw, server_hostname="127.0.0.1")
    sock.sendall(f"USER {ADDRESS}\r\nPASS {PASSWORD}\r\n".encode())
    replies = b""
    while replies.count(b"\r\n") < 3:  # The greeting, then one reply to each command.
        replies += sock.recv(4096)
    assert all(line.startswith(b"+OK") for line in replies.split(b"\r\n")[:3]), replies
    return sock


def run_sequential_raw(port: int, cafile: str, count: int) -> tuple[float, int]:
    sock = raw_login(port, cafile)
    received = 0
    start = time.perf_counter()
    for number in range(1, count + 1):
        sock.sendall(b"RETR %d\r\n" % number)
        reply = b""
        while not reply.endswith(b"\r\n.\r\n"):
            chunk = sock.recv(1 << 18)
            if not chunk:
                raise RuntimeError("server closed the connection")
            reply += chunk
        received += len(reply)
    seconds = time.perf_counter() - start
    sock.sendall(b"QUIT\r\n")
    sock.close()
    return seconds, received


def run_pipelined(port: int, cafile: str, count: int) -> tuple[float, int]:
    sock = raw_login(port, cafile)
    start = time.perf_counter()
    sock.sendall(b"".join(b"RETR %d\r\n" % n for n in range(1, count + 1)))
    done = 0
    received = 0
    tail = b""
    while done < count:
        chunk = sock.recv(1 << 18)
        if not chunk:
            raise RuntimeError("server closed the connection")
        received += len(chunk)
        window = tail + chunk
        done += window.count(b"\r\n.\r\n")
        tail = window[-4:]
    seconds = time.perf_counter() - start
    sock.sendall(b"QUIT\r\n")
    sock.close()
    return seconds, received


def client_main(port: int, cafile: str, count: int, variant: str) -> None:
    run = {"sequential": run_sequential, "sequential_raw": run_sequential_raw, "pipelined": run_pipelined}[variant]
    before = resource.getrusage(resource.RUSAGE_SELF)
    seconds, received = run(port, cafile, count)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps({"seconds": seconds, "received": received, "client_cpu": cpu}))


async def serve_and_measure(count: int, size: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="yizhan-bench-pop3-") as tmp:
        data = Path(tmp) / "data"
        settings = load_settings(None, environ={}, overrides={"listen": dict.fromkeys(ALL_PORTS, 0),
                                                              "log": {"level": "WARNING"}})
        server = Server(settings, DataPaths(data))
        await server.start()
        try:
            services = server.services
            assert services is not None
            await services.directory.add_domain("example.com")
            await services.directory.add_account(ADDRESS, PASSWORD)
            for first in range(0, count, 100):
                await asyncio.gather(*(services.delivery.deliver(make_message(i, size), "sender@example.org",
                                                                 [ADDRESS])
                                       for i in range(first, min(first + 100, count))))
            cafile = str(data / "tls" / "cert.pem")
            port = server.port("pop3s")
            for variant in ("sequential", "sequential_raw", "pipelined"):
                for round_ in range(1, rounds + 1):
                    before = resource.getrusage(resource.RUSAGE_SELF)
                    process = await asyncio.create_subprocess_exec(
                        sys.executable, __file__, "--client", str(port), "--cafile", cafile, "--count", str(count),
                        "--variant", variant, stdout=asyncio.subprocess.PIPE)
                    out, _ = await process.communicate()
                    after = resource.getrusage(resource.RUSAGE_SELF)
                    server_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                    if process.returncode != 0:
                        raise SystemExit(f"client failed ({variant})")
                    result = json.loads(out)
                    seconds = result["seconds"]
                    print(json.dumps({
                        "bench": "pop3", "variant": variant, "round": round_, "messages": count,
                        "message_bytes": size, "received_bytes": result["received"], "seconds": round(seconds, 3),
                        "messages_per_s": round(count / seconds, 1),
                        "mb_per_s": round(result["received"] / seconds / 1e6, 1), "target_seconds": 0.35,
                        "client_cpu_seconds": round(result["client_cpu"], 3),
                        "server_cpu_seconds": round(server_cpu, 3),
                    }), flush=True)
        finally:
            await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="messages in the maildrop")
    parser.add_argument("--size", type=int, default=10240, help="bytes per message")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per variant")
    parser.add_argument("--client", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cafile", help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="sequential", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args.client, args.cafile, args.count, args.variant)
    else:
        asyncio.run(serve_and_measure(args.count, args.size, args.rounds))


if __name__ == "__main__":
    main()
