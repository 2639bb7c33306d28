"""`yizhan serve --workers 2`: two worker processes behind the same ports behave as one server.

Each test finds connections served by different workers (tests/support/processes.py reads /proc) and checks what
a user of two clients would see: one client's changes reach the other at its next command and while it idles,
failed logins and connection limits count across workers, a killed worker comes back, and SIGTERM stops all.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.test_serve import PORT_FLAGS, ports_from, start_serve, stop
from tests.cli.test_cli import ok
from tests.conftest import clean_environment, yizhan_command
from tests.mailfactory import make_message
from tests.support.processes import children, connection_owner

PASSWORD = "longenough1"


@contextlib.contextmanager
def serving(data_dir: Path, **environment: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, int]]]:
    process, lines = start_serve(data_dir, "--workers", "2", environment=environment)
    try:
        assert any("2 worker processes" in line for line in lines)
        yield process, ports_from(lines)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def workers_of(process: subprocess.Popen[str], count: int = 2) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pids = children(process.pid)
        if len(pids) == count:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"expected {count} workers, found {children(process.pid)}")


def imap_on(port: int, pid: int, pids: list[int]) -> imaplib.IMAP4:
    """An IMAP connection served by worker `pid` (connections are spread by the kernel: try until one lands)."""
    for _ in range(200):
        client = imaplib.IMAP4("127.0.0.1", port, timeout=30)
        owner = connection_owner(port, client.sock.getsockname()[1], pids)
        if owner == pid:
            return client
        client.shutdown()
        time.sleep(0.01)
    raise AssertionError(f"no connection landed on worker {pid}")


def logged_in(client: imaplib.IMAP4, address: str) -> imaplib.IMAP4:
    client.login(address, PASSWORD)
    client.select("INBOX")
    return client


def untagged(client: imaplib.IMAP4, name: str) -> list[bytes]:
    return [item for item in client.untagged_responses.pop(name, []) if isinstance(item, bytes)]


def add_user(data_dir: Path, address: str) -> None:
    ok(data_dir, "user", "add", address, "--password", PASSWORD)


def check_sessions_see_each_other(port: int, pids: list[int], address: str, rounds: int) -> None:
    writer = logged_in(imap_on(port, pids[0], pids), address)
    reader = logged_in(imap_on(port, pids[1], pids), address)
    try:
        start = int(untagged(reader, "EXISTS")[-1]) if reader.untagged_responses.get("EXISTS") else 0
        reader.untagged_responses.clear()
        for number in range(1, rounds + 1):
            # No pause between the writer's OK and the reader's command: the change must already be there.
            assert writer.append("INBOX", None, None, make_message(subject=f"round {number}"))[0] == "OK"
            assert reader.noop()[0] == "OK"
            assert untagged(reader, "EXISTS") == [str(start + number).encode()]
            assert writer.store(str(start + number), "+FLAGS", "(\\Flagged)")[0] == "OK"
            assert reader.noop()[0] == "OK"
            fetched = b" ".join(untagged(reader, "FETCH"))
            assert b"\\Flagged" in fetched, fetched
        assert writer.store("1", "+FLAGS", "(\\Deleted)")[0] == "OK"
        assert writer.expunge()[0] == "OK"
        assert reader.noop()[0] == "OK"
        assert untagged(reader, "EXPUNGE") == [b"1"]
    finally:
        writer.logout()
        reader.logout()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_two_workers_serve_every_listener_share_changes_and_stop_cleanly(data_dir: Path) -> None:
    with serving(data_dir) as (process, ports):
        pids = workers_of(process)
        ok(data_dir, "domain", "add", "example.com")
        add_user(data_dir, "wendy@example.com")
        imap = ports["IMAP"]
        check_sessions_see_each_other(imap, pids, "wendy@example.com", rounds=10)

        # An IDLE session on one worker hears of mail another worker took in over SMTP.
        idler = logged_in(imap_on(imap, pids[1], pids), "wendy@example.com")
        idler.untagged_responses.clear()
        tag = idler._new_tag().decode()
        idler.send(f"{tag} IDLE\r\n".encode())
        assert idler.readline().startswith(b"+ ")
        smtp_port = ports["SMTP (inbound MX)"]
        for _ in range(200):
            sender = socket.create_connection(("127.0.0.1", smtp_port), timeout=30)
            if connection_owner(smtp_port, sender.getsockname()[1], pids) == pids[0]:
                break
            sender.close()
        with sender, sender.makefile("rb") as replies:
            assert replies.readline().startswith(b"220")
            for command in (b"EHLO client.example.org", b"MAIL FROM:<someone@example.org>",
                            b"RCPT TO:<wendy@example.com>", b"DATA"):
                sender.sendall(command + b"\r\n")
                while (line := replies.readline())[3:4] == b"-":
                    pass
                assert line[:1] in (b"2", b"3"), line
            sender.sendall(make_message(subject="over smtp") + b"\r\n.\r\n")
            assert replies.readline().startswith(b"250")
        idler.sock.settimeout(20)
        assert b"EXISTS" in idler.readline()
        idler.send(b"DONE\r\n")
        assert idler.readline().startswith(tag.encode() + b" OK")
        idler.logout()

        # Every other listener answers too.
        with socket.create_connection(("127.0.0.1", ports["POP3"]), timeout=10) as pop3:
            assert pop3.recv(100).startswith(b"+OK")
        with socket.create_connection(("127.0.0.1", ports["LMTP"]), timeout=10) as lmtp:
            assert lmtp.recv(100).startswith(b"220")
        process.send_signal(signal.SIGTERM)
        out, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "stopped cleanly" in out
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} outlived the server"
    # The outbound queue runs in one worker only.
    assert stderr.count("queue runner started") == 1, stderr


def test_failed_logins_and_connection_limits_count_across_workers(data_dir: Path) -> None:
    with serving(data_dir, YIZHAN_AUTH__MAX_FAILURES_PER_ACCOUNT="4", YIZHAN_AUTH__FAILURE_DELAY="0",
                 YIZHAN_IMAP__MAX_CONNECTIONS_PER_IP="4") as (process, ports):
        pids = workers_of(process)
        imap = ports["IMAP"]
        ok(data_dir, "domain", "add", "example.com")
        add_user(data_dir, "lou@example.com")

        # Four wrong passwords, two on each worker: neither worker alone saw enough to lock the account.
        for pid in (pids[0], pids[1], pids[0], pids[1]):
            client = imap_on(imap, pid, pids)
            with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
                client.login("lou@example.com", "wrong password")
            client.shutdown()
        for pid in pids:
            client = imap_on(imap, pid, pids)
            with pytest.raises(imaplib.IMAP4.error, match="too many failed logins"):
                client.login("lou@example.com", PASSWORD)
            client.shutdown()

        # Four connections from 127.0.0.1, spread over both workers; a fifth is refused whichever worker has it.
        held = [imap_on(imap, pids[0], pids), imap_on(imap, pids[1], pids)]
        time.sleep(0.5)  # The connections tried and closed on the way are released.
        held += [imaplib.IMAP4("127.0.0.1", imap, timeout=30) for _ in range(2)]
        try:
            for _ in range(8):
                with socket.create_connection(("127.0.0.1", imap), timeout=10) as extra:
                    assert extra.makefile("rb").readline().startswith(b"* BYE"), "a fifth connection was served"
        finally:
            for client in held:
                client.shutdown()
        stop(process)


def test_a_killed_worker_is_started_again_and_joins_the_others(data_dir: Path) -> None:
    with serving(data_dir) as (process, ports):
        pids = workers_of(process)
        ok(data_dir, "domain", "add", "example.com")
        add_user(data_dir, "kim@example.com")
        os.kill(pids[1], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = children(process.pid)
            if len(now) == 2 and pids[1] not in now:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"the killed worker was not replaced: {children(process.pid)}")
        # The new worker serves (the kernel gives it connections once it listens) and shares changes both ways.
        time.sleep(1)
        replaced = [pids[0], next(pid for pid in now if pid != pids[0])]
        check_sessions_see_each_other(ports["IMAP"], replaced, "kim@example.com", rounds=3)
        check_sessions_see_each_other(ports["IMAP"], replaced[::-1], "kim@example.com", rounds=3)
        stop(process)


def test_a_port_in_use_stops_the_start_with_a_clear_message(data_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([*yizhan_command(), "serve", *PORT_FLAGS, f"--imap-port={port}", "--workers", "2"],
                                capture_output=True, text=True, timeout=120, env=clean_environment(data_dir))
    assert result.returncode == 1
    assert "cannot start" in result.stderr and "in use" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
