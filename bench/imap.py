"""IMAP throughput: N clients for T seconds against a real `yizhan serve` process, each running the mix Dovecot's
imaptest uses: LOGIN, LIST, SELECT, then rounds of FETCH (headers of the last messages), FETCH (a whole message),
STORE (flags), STORE (\\Deleted), EXPUNGE and APPEND, and LOGOUT; then again from a new connection.

    python bench/imap.py [--clients 10] [--seconds 20] [--mailboxes 10] [--messages 50] [--rounds 3]
                         [--size 3] [--readonly] [--profile FILE] [--workers 1]

Prints one JSON line: commands, seconds, commands/s, errors (tagged NO/BAD, dropped connections) with the first few,
ms per command (mean and p95) for each command, the server's CPU seconds over the run (and per command), its peak
resident memory, the cores each of its thread groups kept busy, and the load average before and after (the machine
may be shared). Several clients share each mailbox, so sessions see each other's EXPUNGEs and new messages as real
clients do. The clients are a lean asyncio IMAP client in this process (one command at a time, no pipelining), the
server a separate process, as in production.
`--profile FILE` runs py-spy on the server during the measured run and writes there its flame graph (FILE.svg) or
its collapsed stacks (any other name).
`--workers N` (N > 1) runs the server as a supervisor and N worker processes (YIZHAN_SERVER__WORKERS=N). The server's
figures cover its whole process tree (bench/machine.py): server_cpu_s is summed over the supervisor and every
descendant; server_peak_rss_mb is the sum of their peaks (more than they use together, since they share pages),
each one's in server_peak_rss_mb_each; server_threads_cores groups threads by name across the processes, main threads
keeping their process's name ("yizhan" for the supervisor, "python3.11" or the like for workers started as
`python -m`: where each process's event loop runs). The time of threads that ended, and of reaped child processes,
shows there as "(ended)", so the groups add up to server_cpu_s. With --profile, py-spy samples the workers too.
Target (2-core machine, 10 and 50 clients): >= 1900 commands/s with 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import (
    calibration_ms,
    cpu_snapshot,
    machine_report,
    process_tree,
    processes_report,
    thread_cpu,
    thread_shares,
    tree_cpu_seconds,
)

PORT_FLAGS = [f"--{name}-port=0" for name in ("smtp", "submission", "smtps", "lmtp", "imap", "imaps", "pop3",
                                               "pop3s", "http")]
PASSWORD = "bench-password-1"
_LITERAL = re.compile(rb"\{(\d+)\}\r\n\Z")


def yizhan() -> list[str]:
    script = Path(sys.executable).with_name("yizhan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "yizhan.app.main"]


def environment(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIZHAN_")}
    return env | {"YIZHAN_DATA": str(data), "COLUMNS": "200", **extra}


def start_server(data: Path, connections: int, tls: bool = False,
                 workers: int = 1) -> tuple[subprocess.Popen[str], int]:
    """`yizhan serve` with every port picked by the kernel, as a supervisor and `workers` worker processes if more
    than one; returns the process and its IMAP port (STARTTLS, or implicit TLS with `tls`)."""
    # Every bench connection comes from 127.0.0.1 and logs in to one of a few mailboxes: the per-address and
    # per-account limits are raised to fit, with room for the connections a client has left (after LOGOUT) that the
    # server is still closing while the client reconnects.
    room = str(max(50, 2 * connections + 10))
    env = environment(data, YIZHAN_LOG__LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
                      YIZHAN_IMAP__MAX_CONNECTIONS_PER_IP=room, YIZHAN_IMAP__MAX_CONNECTIONS_PER_ACCOUNT=room)
    if workers > 1:
        env["YIZHAN_SERVER__WORKERS"] = str(workers)
    process = subprocess.Popen([*yizhan(), "serve", *PORT_FLAGS], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    port = 0
    for line in process.stdout:
        match = re.search(r"IMAP over TLS +│ [\d.]+:(\d+)" if tls else r"IMAP +│ [\d.]+:(\d+)", line)
        if match:
            port = int(match.group(1))
        if line.startswith("ready"):
            return process, port
    raise SystemExit("yizhan serve did not start")


def add_mailboxes(data: Path, count: int) -> list[str]:
    addresses = [f"bench{index}@localhost" for index in range(count)]
    for address in addresses:
        subprocess.run([*yizhan(), "user", "add", address, "--password", PASSWORD], env=environment(data),
                       check=True, stdout=subprocess.DEVNULL)
    return addresses


def make_message(number: int, size_kb: int) -> bytes:
    line = b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
    head = (f"From: sender@example.org\r\nTo: bench@localhost\r\nSubject: bench message {number}\r\n"
            f"Message-ID: <imap-bench-{number}-{random.random()}@example.org>\r\n"
            "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n").encode()
    return head + line * max(1, (size_kb * 1024 - len(head)) // len(line))


class Failed(Exception):
    """A tagged NO or BAD."""


class Client:
    """One IMAP connection: commands one at a time, each answer read to its tagged line (literals included)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 timings: dict[str, list[float]]) -> None:
        self.reader = reader
        self.writer = writer
        self.timings = timings
        self.counter = 0
        self.exists = 0

    @classmethod
    async def connect(cls, port: int, timings: dict[str, list[float]]) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer, timings)
        greeting = await reader.readline()
        if not greeting.startswith(b"* OK"):
            raise ConnectionError(f"greeting {greeting!r}")
        return client

    async def command(self, name: str, text: bytes) -> list[bytes]:
        self.counter += 1
        tag = b"b%d" % self.counter
        start = time.perf_counter()
        self.writer.write(tag + b" " + text + b"\r\n")
        lines = await self._answer(tag)
        self.timings[name].append(time.perf_counter() - start)
        last = lines[-1]
        if not last.startswith(tag + b" OK"):
            raise Failed(f"{name}: {last[:200]!r}")
        return lines

    async def _answer(self, tag: bytes) -> list[bytes]:
        lines: list[bytes] = []
        prefix = tag + b" "
        while True:
            line = await self.reader.readline()
            if not line:
                raise ConnectionError("connection closed")
            while (match := _LITERAL.search(line)) is not None:
                line += await self.reader.readexactly(int(match.group(1)))
                line += await self.reader.readline()
            if line.startswith(b"* ") and line.endswith(b" EXISTS\r\n"):
                self.exists = int(line.split()[1])
            elif line.startswith(b"* ") and line.endswith(b" EXPUNGE\r\n"):
                self.exists -= 1
            lines.append(line)
            if line.startswith(prefix):
                return lines

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def session(port: int, address: str, rounds: int, size_kb: int, timings: dict[str, list[float]],
                  readonly: bool = False) -> None:
    """One connection's mix (imaptest's default states): login, list, select, rounds of work, logout. `readonly`
    keeps only what changes nothing (FETCH with BODY.PEEK), to tell the cost of reads from that of writes."""
    client = await Client.connect(port, timings)
    try:
        await client.command("LOGIN", f'LOGIN "{address}" "{PASSWORD}"'.encode())
        await client.command("LIST", b'LIST "" "*"')
        await client.command("SELECT", b"SELECT INBOX")
        for _ in range(rounds):
            if client.exists:
                low = max(1, client.exists - 9)
                await client.command("FETCH headers", b"FETCH %d:* (UID FLAGS RFC822.SIZE INTERNALDATE "
                                     b"BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)])" % low)
                await client.command("FETCH body", b"FETCH %d (%s)" % (random.randint(1, client.exists),
                                                                      b"BODY.PEEK[]" if readonly else b"BODY[]"))
                if readonly:
                    continue
                await client.command("STORE flags", b"STORE %d +FLAGS (\\Flagged $Bench)"
                                     % random.randint(1, client.exists))
                await client.command("STORE deleted", b"STORE %d +FLAGS.SILENT (\\Deleted)"
                                     % random.randint(1, client.exists))
                await client.command("EXPUNGE", b"EXPUNGE")
            if readonly:
                continue
            body = make_message(random.randrange(1 << 30), size_kb)
            await client.command("APPEND", b"APPEND INBOX (\\Seen) {%d+}\r\n%s" % (len(body), body))
        await client.command("LOGOUT", b"LOGOUT")
    finally:
        await client.close()


async def worker(port: int, address: str, deadline: float, rounds: int, size_kb: int,
                 timings: dict[str, list[float]], errors: list[str], readonly: bool = False) -> None:
    while time.perf_counter() < deadline:
        try:
            await session(port, address, rounds, size_kb, timings, readonly)
        except (Failed, ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            errors.append(repr(exc))


async def fill(port: int, addresses: list[str], messages: int, size_kb: int) -> None:
    """Put `messages` messages in each INBOX before the run (not measured)."""
    async def one(address: str) -> None:
        client = await Client.connect(port, defaultdict(list))
        await client.command("LOGIN", f'LOGIN "{address}" "{PASSWORD}"'.encode())
        for number in range(messages):
            body = make_message(number, size_kb)
            await client.command("APPEND", b"APPEND INBOX {%d+}\r\n%s" % (len(body), body))
        await client.command("LOGOUT", b"LOGOUT")
        await client.close()
    await asyncio.gather(*(one(address) for address in addresses))


async def run(port: int, clients: int, seconds: float, addresses: list[str], rounds: int,
              size_kb: int, readonly: bool = False) -> dict[str, object]:
    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(worker(port, addresses[index % len(addresses)], deadline, rounds, size_kb, timings,
                                  errors, readonly) for index in range(clients)))
    elapsed = time.perf_counter() - start
    commands = sum(len(values) for values in timings.values())
    per_command = {}
    for name, values in sorted(timings.items()):
        values.sort()
        per_command[name] = {"count": len(values), "mean_ms": round(1000 * sum(values) / len(values), 2),
                             "p95_ms": round(1000 * values[int(0.95 * (len(values) - 1))], 2)}
    return {"commands": commands, "seconds": round(elapsed, 2), "commands_per_s": round(commands / elapsed, 1),
            "errors": len(errors), "first_errors": errors[:3], "per_command": per_command}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--mailboxes", type=int, default=10, help="accounts; clients share them")
    parser.add_argument("--messages", type=int, default=50, help="messages in each INBOX before the run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of fetch/store/expunge/append per session")
    parser.add_argument("--size", type=int, default=3, help="KB per message")
    parser.add_argument("--readonly", action="store_true", help="only commands that change nothing (diagnosis)")
    parser.add_argument("--profile", type=Path, help="write a py-spy flame graph of the server here")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (YIZHAN_SERVER__WORKERS)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        process, port = start_server(data, args.clients, workers=args.workers)
        spy: subprocess.Popen[bytes] | None = None
        try:
            addresses = add_mailboxes(data, args.mailboxes)
            asyncio.run(fill(port, addresses, args.messages, args.size))
            # A short warm-up (caches, credential cache), not counted.
            asyncio.run(run(port, 2, 1, addresses, args.rounds, args.size))
            if args.profile:
                # A .svg name gets a flame graph, any other the collapsed stacks (one line per stack) for grep.
                kind = "flamegraph" if args.profile.suffix == ".svg" else "raw"
                # BENCH_SPY_FLAGS="--gil" samples only the thread holding the GIL (where Python time goes).
                flags = os.environ.get("BENCH_SPY_FLAGS", "--nonblocking").split()
                if args.workers > 1:
                    flags.append("--subprocesses")
                spy = subprocess.Popen(["py-spy", "record", "-p", str(process.pid), "-d", str(int(args.seconds)),
                                        "-o", str(args.profile), "--format", kind, *flags],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            load = os.getloadavg()[0]
            calibration = calibration_ms()
            machine = cpu_snapshot()
            processes = process_tree(process.pid)
            cpu = tree_cpu_seconds(process.pid)
            threads = thread_cpu(process.pid)
            result = asyncio.run(run(port, args.clients, args.seconds, addresses, args.rounds, args.size,
                                     args.readonly))
            cpu = tree_cpu_seconds(process.pid) - cpu
            report = machine_report(machine, calibration)
            seconds = result["seconds"]
            assert isinstance(seconds, float)
            threads = thread_shares(threads, thread_cpu(process.pid), seconds)
            memory = processes_report(process.pid, processes)
            if spy is not None:
                spy.wait(60)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    commands = result["commands"]
    assert isinstance(commands, int)
    print(json.dumps({"bench": "imap", "mix": "readonly" if args.readonly else "imaptest", "clients": args.clients,
                      "workers": args.workers, "mailboxes": args.mailboxes, "size_kb": args.size,
                      **result, "server_cpu_s": round(cpu, 2),
                      "server_cpu_ms_per_command": round(1000 * cpu / max(1, commands), 3),
                      **memory, "server_threads_cores": threads,
                      "cpus": os.cpu_count(), "load_before": round(load, 2),
                      "load_after": round(os.getloadavg()[0], 2), "machine": report}), flush=True)


if __name__ == "__main__":
    main()
