"""Limits and malformed sessions: connections per IP and in total, recipients per message, messages per session,
bad commands, overlong lines, SIZE at MAIL and at DATA, a client vanishing mid-DATA, TLS garbage on the implicit
port, the command timeout. After each, the server keeps serving."""

from __future__ import annotations

import asyncio
import contextlib
import os
import smtplib
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.protocols.smtp.conftest import SmtpEnv, client_context, letter, make_env
from tests.support.dnsserver import DnsTestServer

SENDER = "someone@sender.test"


@pytest.fixture
def smtp_overrides() -> dict[str, Any]:
    return {"smtp": {"max_connections": 4, "max_connections_per_ip": 3, "max_bad_commands": 4, "max_recipients": 3,
                     "max_messages_per_session": 2},
            "limits": {"max_message_size": 4096}}


def greeting(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(10)
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, TimeoutError):
        return False
    return True


async def still_serving(env: SmtpEnv) -> None:
    """A fresh client gets a whole transaction through (once the server noticed the test's closed connections:
    a connection refused for too many connections meanwhile is tried again, as a client would)."""
    for _ in range(50):
        try:
            client = await env.connect()
            break
        except smtplib.SMTPConnectError as exc:
            assert exc.smtp_code == 421, exc
            await asyncio.sleep(0.1)
    else:
        raise AssertionError("the server kept refusing connections")
    refused = await env.run(client.sendmail, SENDER, ["bob@example.com"], letter(SENDER, "bob@example.com"))
    assert refused == {}
    await env.close(client)


def connect_from(env: SmtpEnv, source: str) -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.settimeout(10)
    sock.connect(("127.0.0.1", env.port()))
    return sock


async def test_connections_per_ip(env: SmtpEnv) -> None:
    socks = [await env.run(connect_from, env, "127.0.0.1") for _ in range(3)]
    try:
        for sock in socks:
            assert (await env.run(greeting, sock)).startswith(b"220 ")
        extra = await env.run(connect_from, env, "127.0.0.1")
        with extra:
            assert (await env.run(greeting, extra)).startswith(b"421 4.7.0")
            assert await env.run(closed_by_server, extra)
        # Another address is still welcome.
        with await env.run(connect_from, env, "127.0.0.2") as other:
            assert (await env.run(greeting, other)).startswith(b"220 ")
    finally:
        for sock in socks:
            sock.close()


async def test_connections_in_total(env: SmtpEnv) -> None:
    socks = [await env.run(connect_from, env, source) for source in ("127.0.0.1", "127.0.0.2", "127.0.0.3",
                                                                     "127.0.0.4")]
    try:
        for sock in socks:
            assert (await env.run(greeting, sock)).startswith(b"220 ")
        with await env.run(connect_from, env, "127.0.0.5") as extra:
            assert (await env.run(greeting, extra)).startswith(b"421 4.7.0")
    finally:
        for sock in socks:
            sock.close()
    await still_serving(env)


async def test_recipients_per_message(env: SmtpEnv) -> None:
    client = await env.connect()
    await env.run(client.mail, SENDER)
    for _ in range(3):
        assert (await env.run(client.rcpt, "alice@example.com"))[0] == 250
    code, text = await env.run(client.rcpt, "bob@example.com")
    assert (code, text[:5]) == (452, b"4.5.3")
    await env.close(client)


async def test_messages_per_session(env: SmtpEnv) -> None:
    client = await env.connect()
    for _ in range(2):
        await env.run(client.sendmail, SENDER, ["alice@example.com"], letter(SENDER, "alice@example.com"))
    code, text = await env.run(client.mail, SENDER)
    assert (code, text[:5]) == (421, b"4.7.0")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        await env.run(client.noop)
    assert len(await env.inbox("alice@example.com")) == 2
    await still_serving(env)


async def test_too_many_bad_commands_disconnects(env: SmtpEnv) -> None:
    client = await env.connect()
    for command in ("FOO", "BAR"):
        code, text = await env.run(client.docmd, command)
        assert (code, text[:5]) == (500, b"5.5.2")
    code, _ = await env.run(client.docmd, "RCPT", "TO:<alice@example.com>")  # before MAIL: 503
    assert code == 503
    code, text = await env.run(client.docmd, "X" * 2000)  # overlong line (RFC 5321 §4.5.3.1.4)
    assert code == 500
    # The fourth error: the server says why and hangs up.
    code, text = await env.run(client.getreply)
    assert (code, text[:5]) == (421, b"4.7.0")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        await env.run(client.noop)
    await still_serving(env)


async def test_size_declared_over_the_limit_is_refused_at_mail(env: SmtpEnv) -> None:
    client = await env.connect()
    assert client.esmtp_features["size"] == "4096"
    code, text = await env.run(client.mail, SENDER, ["SIZE=5000"])
    assert (code, text[:5]) == (552, b"5.3.4")
    await env.close(client)


async def test_real_size_over_the_limit_is_refused_at_data(env: SmtpEnv) -> None:
    client = await env.connect()
    await env.run(client.mail, SENDER)
    await env.run(client.rcpt, "alice@example.com")
    code, text = await env.run(client.data, letter(SENDER, "alice@example.com", body=("x" * 70 + "\r\n") * 80))
    assert (code, text[:5]) == (552, b"5.3.4")
    # The session continues with a message that fits.
    await env.run(client.sendmail, SENDER, ["alice@example.com"], letter(SENDER, "alice@example.com", "fits"))
    await env.close(client)
    [raw] = await env.inbox("alice@example.com")
    assert b"Subject: fits" in raw


async def test_client_vanishing_mid_data(env: SmtpEnv) -> None:
    def vanish() -> None:
        with env.raw_socket() as sock:
            greeting(sock)
            for command in (b"EHLO x.test", b"MAIL FROM:<a@sender.test>", b"RCPT TO:<alice@example.com>", b"DATA"):
                sock.sendall(command + b"\r\n")
                greeting(sock)
            sock.sendall(b"Subject: half\r\n\r\nthe first half of a mess")
    await env.run(vanish)
    await still_serving(env)
    assert await env.inbox("alice@example.com") == []


async def test_tls_handshake_garbage_on_the_implicit_port(env: SmtpEnv) -> None:
    def garbage() -> None:
        with socket.create_connection(("127.0.0.1", env.port("smtps")), timeout=10) as sock:
            sock.sendall(b"\x16\x03\x01\x02\x00" + os.urandom(512))
            with contextlib.suppress(OSError):
                sock.recv(4096)
        with socket.create_connection(("127.0.0.1", env.port("smtps")), timeout=10) as sock:
            sock.sendall(b"EHLO plain.text.on.a.tls.port\r\n")
            with contextlib.suppress(OSError):
                sock.recv(4096)
    await env.run(garbage)
    client = await env.run(smtplib.SMTP_SSL, "127.0.0.1", env.port("smtps"), context=client_context(), timeout=30)
    assert (await env.run(client.ehlo, "ok.test"))[0] == 250
    await env.close(client)


async def test_garbage_bytes_and_bad_starttls(env: SmtpEnv) -> None:
    def garbage() -> None:
        with env.raw_socket() as sock:
            greeting(sock)
            sock.sendall(b"\xff\xfe\x00\x01 \x80\x81\r\n")
            assert greeting(sock)[:3] == b"500"
            sock.sendall(b"EHLO x.test\r\nSTARTTLS\r\n")
            greeting(sock)
            sock.sendall(b"this is not a TLS client hello\r\n" * 4)
            with contextlib.suppress(OSError):
                sock.recv(4096)
    await env.run(garbage)
    await still_serving(env)


async def test_idle_client_is_disconnected_after_the_command_timeout(tmp_path: Path,
                                                                     dns_server: DnsTestServer) -> None:
    server = await make_env(tmp_path, dns_server, smtp={"command_timeout": 1})
    env = SmtpEnv(server, tmp_path / "data", dns_server)
    try:
        def idle() -> bool:
            with env.raw_socket() as sock:
                greeting(sock)
                return closed_by_server(sock)
        assert await env.run(idle)
    finally:
        await server.stop()
