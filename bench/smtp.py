"""SMTP delivery throughput end to end: N connections sending M messages of S KB to local mailboxes through the MX
listener of a real `yizhan serve` process; a message counts when its 250 arrived, i.e. when it was stored, indexed and
fsynced.

    python bench/smtp.py [--connections 10] [--messages 3000] [--size 10] [--mailboxes 10] [--workers 1]

Prints one JSON line: messages, seconds, messages/s, errors, the server's CPU seconds over the run (and per
message), its peak resident memory (MB), the cores each of its thread groups kept busy, and the load average before
and after (the machine may be shared).
The clients are a lean asyncio SMTP client (MAIL, RCPT and DATA pipelined, RFC 2920) in this process, the server a
separate process, as in production. Target (2-core machine, 10 connections, 10 KB): >= 500 messages/s.

`--workers N` (N > 1) runs the server as a supervisor and N worker processes (YIZHAN_SERVER__WORKERS=N). The server's
figures cover its whole process tree (bench/machine.py): server_cpu_s is summed over the supervisor and every
descendant; server_peak_rss_mb is the sum of their peaks (more than they use together, since they share pages),
each one's in server_peak_rss_mb_each; server_threads_cores groups threads by name across the processes, main threads
keeping their process's name ("yizhan" for the supervisor, "python3.11" or the like for workers started as
`python -m`: where each process's event loop runs). The time of threads that ended, and of reaped child processes,
shows there as "(ended)", so the groups add up to server_cpu_s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
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
    tree_cpu_times,
)
from tests.support.dnsserver import DnsTestServer

PORT_FLAGS = [f"--{name}-port=0" for name in ("smtp", "submission", "smtps", "lmtp", "imap", "imaps", "pop3",
                                               "pop3s", "http")]


def yizhan() -> list[str]:
    script = Path(sys.executable).with_name("yizhan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "yizhan.app.main"]


def start_server(data: Path, nameserver: str, connections: int = 10,
                 workers: int = 1) -> tuple[subprocess.Popen[str], int]:
    # All the bench's connections come from 127.0.0.1: the per-address limit (20 by default) is raised to fit.
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIZHAN_")} | {
        "YIZHAN_DATA": str(data), "COLUMNS": "200", "YIZHAN_DNS__NAMESERVERS": nameserver,
        "YIZHAN_LOG__LEVEL": "WARNING", "YIZHAN_SMTP__MAX_CONNECTIONS_PER_IP": str(max(20, connections))}
    if workers > 1:
        env["YIZHAN_SERVER__WORKERS"] = str(workers)
    process = subprocess.Popen([*yizhan(), "serve", *PORT_FLAGS], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    port = 0
    for line in process.stdout:
        match = re.search(r"SMTP \(inbound MX\) +│ [\d.]+:(\d+)", line)
        if match:
            port = int(match.group(1))
        if line.startswith("ready"):
            return process, port
    raise SystemExit("yizhan serve did not start")


def add_mailboxes(data: Path, count: int) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIZHAN_")} | {"YIZHAN_DATA": str(data)}
    addresses = [f"bench{index}@localhost" for index in range(count)]
    for address in addresses:
        subprocess.run([*yizhan(), "user", "add", address, "--password", "bench-password-1"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
    return addresses


def make_message(number: int, size_kb: int, recipient: str) -> bytes:
    line = "The quick brown fox jumps over the lazy dog; 会议在北京.\r\n".encode()
    head = (f"From: sender@example.org\r\nTo: {recipient}\r\nSubject: bench message {number}\r\n"
            f"Message-ID: <bench-{number}@example.org>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n").encode()
    body = line * max(1, (size_kb * 1024 - len(head)) // len(line))
    return head + body


async def read_reply(reader: asyncio.StreamReader) -> bytes:
    """One (possibly multi-line) reply; returns its last line."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed")
        if line[3:4] != b"-":
            return line


async def client(port: int, numbers: list[int], size_kb: int, mailboxes: list[str], errors: list[str],
                 lmtp: bool = False, per_connection: int = 100) -> int:
    """Send the numbered messages, `per_connection` per session (the server's default limit), as an MTA does."""
    sent = 0
    for start in range(0, len(numbers), per_connection):
        sent += await session(port, numbers[start:start + per_connection], size_kb, mailboxes, errors, lmtp)
    return sent


async def session(port: int, numbers: list[int], size_kb: int, mailboxes: list[str], errors: list[str],
                  lmtp: bool) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    try:
        await read_reply(reader)
        writer.write(b"LHLO bench.example.org\r\n" if lmtp else b"EHLO bench.example.org\r\n")
        await read_reply(reader)
        for number in numbers:
            recipient = mailboxes[number % len(mailboxes)]
            writer.write(f"MAIL FROM:<sender@example.org> BODY=8BITMIME\r\nRCPT TO:<{recipient}>\r\nDATA\r\n"
                         .encode())
            replies = [await read_reply(reader) for _ in range(3)]
            if not (replies[0].startswith(b"250") and replies[1].startswith(b"250") and replies[2].startswith(b"354")):
                errors.append(b" / ".join(replies).decode("utf-8", "replace").strip())
                writer.write(b"RSET\r\n")
                await read_reply(reader)
                continue
            writer.write(make_message(number, size_kb, recipient) + b".\r\n")
            reply = await read_reply(reader)
            if reply.startswith(b"250"):
                sent += 1
            else:
                errors.append(reply.decode("utf-8", "replace").strip())
        writer.write(b"QUIT\r\n")
        await read_reply(reader)
    except ConnectionError as exc:
        errors.append(repr(exc))
    finally:
        writer.close()
    return sent


def load_average() -> float:
    return os.getloadavg()[0]


async def run(port: int, connections: int, messages: int, size_kb: int, mailboxes: list[str]) -> dict[str, object]:
    errors: list[str] = []
    shares = [list(range(index, messages, connections)) for index in range(connections)]
    start = time.perf_counter()
    results = await asyncio.gather(*(client(port, share, size_kb, mailboxes, errors) for share in shares),
                                   return_exceptions=True)
    seconds = time.perf_counter() - start
    delivered = sum(result for result in results if isinstance(result, int))
    errors += [repr(result) for result in results if isinstance(result, BaseException)]
    return {"messages": delivered, "seconds": round(seconds, 2), "messages_per_s": round(delivered / seconds, 1),
            "errors": len(errors), "first_errors": errors[:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--size", type=int, default=10, help="KB per message")
    parser.add_argument("--mailboxes", type=int, default=10)
    parser.add_argument("--dns-ttl", type=int, default=300, help="TTL of the sender's SPF and DMARC records")
    parser.add_argument("--profile", type=Path, help="write py-spy's samples of the server (GIL holder) here")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (YIZHAN_SERVER__WORKERS)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, DnsTestServer() as dns:
        # The sender's domain publishes SPF and DMARC on the project's DNS server, as a real sender's would, with
        # a TTL (5 minutes by default, as is common); the server checks both for every message, through its
        # resolver's cache. --dns-ttl 0 makes every message ask the DNS server again.
        dns.add("example.org", "TXT", "v=spf1 ip4:127.0.0.1 -all", ttl=args.dns_ttl)
        dns.add("_dmarc.example.org", "TXT", "v=DMARC1; p=none", ttl=args.dns_ttl)
        data = Path(tmp) / "data"
        process, port = start_server(data, dns.address, args.connections, args.workers)
        try:
            mailboxes = add_mailboxes(data, args.mailboxes)
            # A short warm-up (connections, caches), not counted.
            asyncio.run(run(port, 2, 20, args.size, mailboxes))
            load = load_average()
            spy = None
            if args.profile:
                # Collapsed stacks of the thread holding the GIL, until interrupted after the run.
                # With workers, --subprocesses samples the worker processes too.
                spy = subprocess.Popen(["py-spy", "record", "-p", str(process.pid), "-o", str(args.profile),
                                        "--format", "raw", "--gil",
                                        *(["--subprocesses"] if args.workers > 1 else [])],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1)
            calibration = calibration_ms()
            machine = cpu_snapshot()
            processes = process_tree(process.pid)
            user, system = tree_cpu_times(process.pid)
            threads = thread_cpu(process.pid)
            result = asyncio.run(run(port, args.connections, args.messages, args.size, mailboxes))
            user, system = (after - before for after, before in zip(tree_cpu_times(process.pid), (user, system),
                                                                    strict=True))
            cpu = user + system
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
            report = machine_report(machine, calibration)
            seconds = result["seconds"]
            assert isinstance(seconds, float)
            threads = thread_shares(threads, thread_cpu(process.pid), seconds)
            delivered = result["messages"]
            assert isinstance(delivered, int)
            memory = processes_report(process.pid, processes)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    print(json.dumps({"bench": "smtp", "connections": args.connections, "workers": args.workers,
                      "size_kb": args.size, "dns_ttl": args.dns_ttl, **result,
                      "server_cpu_s": round(cpu, 2),
                      "server_cpu_ms_per_message": round(1000 * cpu / max(1, delivered), 2),
                      "server_system_cpu_share": round(system / cpu, 2) if cpu else 0.0,
                      **memory, "server_threads_cores": threads,
                      "cpus": os.cpu_count(), "load_before": round(load, 2),
                      "load_after": round(load_average(), 2),
                      "machine": report}), flush=True)


if __name__ == "__main__":
    main()
