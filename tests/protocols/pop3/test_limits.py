"""Bad input over a real socket: every bad command and over-long line gets -ERR and the server keeps serving;
limits close the session (bad commands) without deleting anything; pipelining; plaintext injected after STLS."""

from __future__ import annotations

import poplib

from tests.mailfactory import make_message
from tests.protocols.pop3.conftest import ADDRESS, PASSWORD, Pop3Env, in_thread
from tests.protocols.pop3.rawclient import RawClient

BAD = [b"FROB", b"RETR", b"RETR x", b"TOP 1", b"LIST 1 2", b"\xff\xfe\x00", b"", b"APOP alice 00", b"NOOP\x07"]


def tls_login(pop3: Pop3Env) -> RawClient:
    raw = RawClient(pop3.tls_port)
    raw.sock = pop3.context().wrap_socket(raw.sock, server_hostname="127.0.0.1")
    assert raw.line().startswith(b"+OK")
    assert raw.command(b"USER " + ADDRESS.encode()).startswith(b"+OK")
    assert raw.command(b"PASS " + PASSWORD.encode()).startswith(b"+OK")
    return raw


async def test_bad_commands_and_long_lines_get_err_and_serving_goes_on(pop3: Pop3Env) -> None:
    await pop3.deliver(make_message())

    def client() -> None:
        raw = tls_login(pop3)
        for line in BAD[:4]:
            assert raw.command(line).startswith(b"-ERR "), line
        assert raw.command(b"NOOP " + b"x" * 300) == b"-ERR line too long"
        assert raw.command(b"X" * 200_000) == b"-ERR line too long"
        assert raw.command(b"RETR 99") == b"-ERR no message 99"
        assert raw.command(b"STAT").startswith(b"+OK 1 ")
        assert raw.command(b"QUIT").startswith(b"+OK")
        # And another client is served as usual.
        session = pop3.login()
        assert session.stat()[0] == 1
        session.quit()

    await in_thread(client)


async def test_too_many_bad_commands_close_the_session_and_delete_nothing(pop3: Pop3Env) -> None:
    await pop3.deliver(make_message())

    def client() -> None:
        raw = tls_login(pop3)
        assert raw.command(b"DELE 1").startswith(b"+OK")
        replies = [raw.command(BAD[i % len(BAD)]) for i in range(10)]  # pop3.max_bad_commands is 10
        assert all(reply.startswith(b"-ERR ") for reply in replies)
        assert raw.line() == b"-ERR too many bad commands; closing"
        assert raw.closed()

    await in_thread(client)

    def count() -> int:
        for _ in range(100):  # Until the server has released the maildrop of the closed session.
            session = pop3.implicit()
            session.user(ADDRESS)
            try:
                session.pass_(PASSWORD)
            except poplib.error_proto:
                session.quit()
                continue
            total = session.stat()[0]
            session.quit()
            return total
        raise AssertionError("maildrop never released")

    assert await in_thread(count) == 1


async def test_pipelined_commands_are_answered_in_order(pop3: Pop3Env) -> None:
    messages = [make_message(subject=f"p{i}", body="x" * 5000) for i in range(20)]
    for raw_message in messages:
        await pop3.deliver(raw_message)

    def client() -> None:
        raw = tls_login(pop3)
        raw.send(b"".join(b"RETR %d\r\n" % n for n in range(1, 21)) + b"STAT\r\nFROB\r\nUIDL 3\r\n")
        for raw_message in messages:
            assert raw.line() == f"+OK {len(raw_message)} octets".encode()
            assert b"".join(line + b"\r\n" for line in raw.multiline()) == raw_message
        assert raw.line().startswith(b"+OK 20 ")
        assert raw.line().startswith(b"-ERR ")
        assert raw.line().startswith(b"+OK 3 ")
        assert raw.command(b"QUIT").startswith(b"+OK")

    await in_thread(client)


async def test_plaintext_sent_with_stls_is_discarded(pop3: Pop3Env) -> None:
    def client() -> None:
        raw = RawClient(pop3.port)
        assert raw.line().startswith(b"+OK")
        # An attacker in the middle appends a command to STLS; it must not run inside the TLS session.
        raw.send(b"STLS\r\nUSER mallory@example.com\r\n")
        assert raw.line().startswith(b"+OK")
        raw.start_tls(pop3.context())
        assert raw.command(b"PASS " + PASSWORD.encode()) == b"-ERR send USER first"
        assert raw.command(b"CAPA").startswith(b"+OK")
        assert b"STLS" not in raw.multiline()
        assert raw.command(b"QUIT").startswith(b"+OK")

    await in_thread(client)


async def test_commands_in_the_wrong_state(pop3: Pop3Env) -> None:
    def client() -> None:
        raw = tls_login(pop3)
        assert raw.command(b"USER " + ADDRESS.encode()).startswith(b"-ERR ")
        assert raw.command(b"STLS").startswith(b"-ERR ")
        assert raw.command(b"AUTH PLAIN =").startswith(b"-ERR ")
        assert raw.command(b"NOOP") == b"+OK"
        assert raw.command(b"QUIT").startswith(b"+OK")

    await in_thread(client)


async def test_garbage_instead_of_a_tls_handshake_does_not_stop_the_listener(pop3: Pop3Env) -> None:
    def client() -> None:
        raw = RawClient(pop3.tls_port)
        raw.send(b"USER alice\r\n" * 50)
        assert raw.closed()
        raw.close()
        session = pop3.login()
        assert session.noop().startswith(b"+OK")
        session.quit()

    await in_thread(client)


async def test_client_vanishing_in_the_middle_of_a_large_retr(pop3: Pop3Env) -> None:
    await pop3.deliver(make_message(subject="big", body="y" * 2_000_000))

    def client() -> None:
        raw = tls_login(pop3)
        raw.send(b"RETR 1\r\nRETR 1\r\nRETR 1\r\n")
        assert raw.line().startswith(b"+OK")
        raw.close()  # Without reading the rest.
        for _ in range(100):  # The server notices, drops the session and releases the maildrop.
            session = pop3.implicit()
            session.user(ADDRESS)
            try:
                session.pass_(PASSWORD)
            except poplib.error_proto:
                session.quit()
                continue
            assert session.stat()[0] == 1
            session.quit()
            return
        raise AssertionError("maildrop never released")

    await in_thread(client)
