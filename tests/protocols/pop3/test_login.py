"""POP3 logins over TLS: USER/PASS, AUTH PLAIN (RFC 5034) with and without an initial response, wrong passwords,
lockout through services.auth, and the exclusive maildrop lock ([IN-USE])."""

from __future__ import annotations

import base64
import poplib
import ssl

import pytest

from tests.mailfactory import make_message
from tests.protocols.pop3.conftest import ADDRESS, PASSWORD, Pop3Env, in_thread
from tests.protocols.pop3.rawclient import RawClient


def plain(authzid: str, authcid: str, password: str) -> bytes:
    return base64.b64encode(f"{authzid}\0{authcid}\0{password}".encode())


def tls_raw(pop3: Pop3Env) -> RawClient:
    raw = RawClient(pop3.tls_port)
    raw.sock = pop3.context().wrap_socket(raw.sock, server_hostname="127.0.0.1")
    assert raw.line().startswith(b"+OK")
    return raw


def pass_reply(pop3: Pop3Env, password: str) -> bytes:
    session = pop3.implicit()
    session.user(ADDRESS)
    try:
        reply = session.pass_(password)
    except poplib.error_proto as exc:
        reply = exc.args[0]
    session.quit()
    return reply


async def test_wrong_password_then_right_one(pop3: Pop3Env) -> None:
    def client() -> None:
        session = pop3.implicit()
        session.user(ADDRESS)
        with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
            session.pass_("wrong")
        session.user("nobody@example.com")
        with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
            session.pass_(PASSWORD)
        session.user(ADDRESS)
        assert session.pass_(PASSWORD).startswith(b"+OK maildrop has 0 messages")
        session.quit()

    await in_thread(client)


async def test_pass_without_user(pop3: Pop3Env) -> None:
    def client() -> None:
        raw = tls_raw(pop3)
        assert raw.command(b"PASS " + PASSWORD.encode()).startswith(b"-ERR ")
        assert raw.command(b"QUIT").startswith(b"+OK")

    await in_thread(client)


async def test_auth_plain_with_initial_response(pop3: Pop3Env) -> None:
    await pop3.deliver(make_message())

    def client() -> None:
        raw = tls_raw(pop3)
        assert raw.command(b"AUTH").startswith(b"+OK")
        assert raw.multiline() == [b"PLAIN"]
        assert raw.command(b"AUTH PLAIN " + plain("", ADDRESS, PASSWORD)).startswith(b"+OK maildrop has 1 ")
        assert raw.command(b"STAT").startswith(b"+OK 1 ")
        assert raw.command(b"AUTH PLAIN " + plain("", ADDRESS, PASSWORD)).startswith(b"-ERR ")
        assert raw.command(b"QUIT").startswith(b"+OK")

    await in_thread(client)


async def test_auth_plain_with_a_challenge_and_cancel(pop3: Pop3Env) -> None:
    def client() -> None:
        raw = tls_raw(pop3)
        assert raw.command(b"AUTH PLAIN") == b"+ "
        assert raw.command(b"*").startswith(b"-ERR ")
        assert raw.command(b"AUTH PLAIN") == b"+ "
        assert raw.command(b"not base64!").startswith(b"-ERR ")
        assert raw.command(b"AUTH PLAIN") == b"+ "
        assert raw.command(plain(ADDRESS, ADDRESS, PASSWORD)).startswith(b"+OK")
        assert raw.command(b"QUIT").startswith(b"+OK")

    await in_thread(client)


async def test_auth_plain_refuses_other_identities_and_mechanisms(pop3: Pop3Env) -> None:
    assert pop3.server.services is not None
    await pop3.server.services.directory.add_account("bob@example.com", "password2")

    def client() -> None:
        raw = tls_raw(pop3)
        assert raw.command(b"AUTH PLAIN " + plain("bob@example.com", ADDRESS, PASSWORD)).startswith(b"-ERR [AUTH]")
        assert raw.command(b"AUTH CRAM-MD5").startswith(b"-ERR ")
        assert raw.command(b"AUTH PLAIN " + plain("", ADDRESS, "wrong")).startswith(b"-ERR [AUTH]")
        # The third failed login in one session ends it.
        assert raw.command(b"AUTH PLAIN " + plain("", ADDRESS, "wrong")).startswith(b"-ERR [AUTH]")
        assert raw.line().startswith(b"-ERR [AUTH] too many failed logins")
        assert raw.closed()

    await in_thread(client)


async def test_repeated_failures_lock_the_account_even_for_the_right_password(pop3: Pop3Env) -> None:
    def client() -> None:
        for _ in range(3):  # max_failures_per_account is 3 in these tests
            assert b"[AUTH]" in pass_reply(pop3, "guess")
        assert pass_reply(pop3, PASSWORD).startswith(b"-ERR [SYS/TEMP] too many failed logins")

    await in_thread(client)


async def test_second_session_on_the_same_maildrop_is_in_use(pop3: Pop3Env) -> None:
    def client() -> None:
        first = pop3.login()
        assert b"[IN-USE]" in pass_reply(pop3, PASSWORD)
        first.quit()
        assert pass_reply(pop3, PASSWORD).startswith(b"+OK")

    await in_thread(client)


async def test_untrusted_client_never_sees_a_login(pop3: Pop3Env) -> None:
    """Sanity of the test setup: a client that does not trust the certificate fails before sending credentials."""

    def client() -> None:
        with pytest.raises(ssl.SSLError):
            poplib.POP3_SSL("127.0.0.1", pop3.tls_port, context=ssl.create_default_context(), timeout=30)

    await in_thread(client)
