"""`yizhan serve` as a user starts it: a subprocess, the printed table, listeners that answer, a clean stop."""

from __future__ import annotations

import re
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

from tests.cli.test_cli import ok
from tests.conftest import clean_environment, yizhan_command
from tests.mailfactory import make_message
from yizhan.app.server import Server

PORT_FLAGS = [f"--{name}-port=0" for name in ("smtp", "submission", "smtps", "lmtp", "imap", "imaps", "pop3",
                                               "pop3s", "http")]


def start_serve(data_dir: Path, *extra: str, environment: dict[str, str] | None = None
                ) -> tuple[subprocess.Popen[str], list[str]]:
    """`yizhan serve` on free ports with `extra` flags and `environment` added (e.g. YIZHAN_* settings)."""
    process = subprocess.Popen([*yizhan_command(), "serve", *PORT_FLAGS, *extra], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env=clean_environment(data_dir) | (environment or {}))
    lines: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("ready"):
            return process, lines
    process.kill()
    raise AssertionError("serve did not become ready:\n" + "\n".join(lines) + (process.stderr.read() if
                                                                                process.stderr else ""))


def ports_from(lines: list[str]) -> dict[str, int]:
    found = {}
    for line in lines:
        match = re.search(r"│ (.+?) +│ 127\.0\.0\.1:(\d+) +│", line)
        if match:
            found[match.group(1)] = int(match.group(2))
    return found


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    return out


def read_line(port: int, tls: bool = False) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            with context.wrap_socket(raw, server_hostname="localhost") as wrapped:
                return wrapped.recv(200)
        return raw.recv(200)


def http_get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
        return data


def test_serve_first_start_prints_table_and_admin_then_stops_cleanly(data_dir: Path) -> None:
    process, lines = start_serve(data_dir, "--domain", "mail.example.com")
    try:
        text = "\n".join(lines)
        ports = ports_from(lines)
        assert set(ports) == {"SMTP (inbound MX)", "Submission", "Submission over TLS", "LMTP", "IMAP",
                              "IMAP over TLS", "POP3", "POP3 over TLS", "Web (webmail, admin, API)"}
        match = re.search(r"first administrator: (\S+)\s+password: (\S+)", text)
        assert match and match.group(1) == "admin@mail.example.com"
        password = match.group(2)
        assert (data_dir / "yizhan.db").exists() and (data_dir / "blobs").is_dir()
        assert (data_dir / "tls" / "cert.pem").exists()
        assert read_line(ports["SMTP (inbound MX)"]).startswith(b"220 ")
        assert read_line(ports["Submission over TLS"], tls=True).startswith(b"220 ")
        assert read_line(ports["IMAP"]).startswith(b"* OK ")  # the real IMAP server
        assert read_line(ports["POP3 over TLS"], tls=True).startswith(b"+OK ")  # the real POP3 server
        assert http_get(ports["Web (webmail, admin, API)"], "/healthz").startswith(b"HTTP/1.1 200 OK")
        # The administrator exists, with the printed password, while the server runs.
        assert "admin@mail.example.com" in ok(data_dir, "user", "list")
    finally:
        out = stop(process)
    assert "stopped cleanly" in out

    # A second start keeps the data and prints no password.
    process, lines = start_serve(data_dir)
    try:
        assert not any("first administrator" in line for line in lines)
    finally:
        stop(process)
    assert password


def test_serve_refuses_a_bad_configuration_naming_the_key(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "yizhan.toml").write_text("[limits]\nmax_message_size = 'huge'\n")
    result = subprocess.run([*yizhan_command(), "serve"], capture_output=True, text=True, timeout=60,
                            env=clean_environment(data_dir))
    assert result.returncode == 2
    assert "limits.max_message_size" in result.stderr


def test_serve_reports_a_port_in_use(data_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([*yizhan_command(), "serve", *PORT_FLAGS, f"--imap-port={port}"],
                                capture_output=True, text=True, timeout=60, env=clean_environment(data_dir))
    assert result.returncode == 1
    assert "cannot start" in result.stderr and "in use" in result.stderr


async def test_running_server_sees_cli_changes_at_once(server: Server, data_dir: Path) -> None:
    ok(data_dir, "domain", "add", "example.com")
    ok(data_dir, "user", "add", "dora@example.com", "--password", "longenough")
    assert server.services is not None
    report = await server.services.delivery.deliver(make_message(to="dora@example.com"), "x@example.org",
                                                    ["dora@example.com"])
    assert report.outcomes[0].ok
    found = ok(data_dir, "search", "--user", "dora@example.com", "hello")
    assert "1 message(s)" in found
