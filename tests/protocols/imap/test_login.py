"""LOGIN, AUTHENTICATE PLAIN (SASL-IR and continuation) and STARTTLS (RFC 9051 §6.2) against a real server."""

from __future__ import annotations

import base64
import imaplib

import pytest

from tests.protocols.imap.conftest import ADDRESS, PASSWORD, ImapEnv, RawClient, imap_settings, in_thread

PLAIN = base64.b64encode(f"\0{ADDRESS}\0{PASSWORD}".encode())


async def test_login_with_imaplib_and_wrong_password(imap: ImapEnv) -> None:
    def run() -> None:
        client = imap.plain()
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            client.login(ADDRESS, "wrong")
        assert client.login(ADDRESS, PASSWORD)[0] == "OK"
        assert client.select("INBOX")[0] == "OK"
        client.logout()

    await in_thread(run)


async def test_authenticate_plain_with_initial_response_and_continuation(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(login=False)
        assert raw.command(b"A1", b"AUTHENTICATE PLAIN " + PLAIN)[-1].startswith(b"A1 OK [CAPABILITY")
        second = imap.raw(login=False)
        second.send(b"B1 AUTHENTICATE PLAIN\r\n")
        assert second.line() == b"+ "
        second.send(PLAIN + b"\r\n")
        assert second.until(b"B1")[-1].startswith(b"B1 OK")
        third = imap.raw(login=False)
        third.send(b"C1 AUTHENTICATE PLAIN\r\n")
        assert third.line() == b"+ "
        third.send(b"*\r\n")
        assert third.until(b"C1")[-1].startswith(b"C1 BAD")
        assert third.command(b"C2", b"AUTHENTICATE CRAM-MD5")[-1].startswith(b"C2 NO")
        # Another user's identity as the authorization identity is refused.
        other = base64.b64encode(f"bob@example.com\0{ADDRESS}\0{PASSWORD}".encode())
        assert third.command(b"C3", b"AUTHENTICATE PLAIN " + other)[-1].startswith(b"C3 NO")

    await in_thread(run)


async def test_starttls_then_login_and_implicit_tls(imap: ImapEnv) -> None:
    def run() -> None:
        client = imap.plain()
        client.starttls(imap.context())
        assert "STARTTLS" not in client.capabilities
        assert client.login(ADDRESS, PASSWORD)[0] == "OK"
        client.logout()
        secure = imap.implicit()
        assert "STARTTLS" not in secure.capabilities and "AUTH=PLAIN" in secure.capabilities
        assert secure.login(ADDRESS, PASSWORD)[0] == "OK"
        secure.logout()

    await in_thread(run)


async def test_plaintext_after_starttls_is_discarded(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(login=False)
        # A command smuggled behind STARTTLS must not run after the handshake (RFC 9051 §6.2.1).
        raw.send(b"A1 STARTTLS\r\nA2 LOGIN alice@example.com password1\r\n")
        assert raw.line().startswith(b"A1 OK")
        assert not raw.buffer
        raw.sock = imap.context().wrap_socket(raw.sock, server_hostname="127.0.0.1")
        assert raw.command(b"A3", b"NOOP") == [b"A3 OK nothing done"]

    await in_thread(run)


async def test_too_many_failed_logins_close_the_connection(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(login=False)
        for i in range(2):
            assert raw.command(b"F%d" % i, b"LOGIN alice@example.com nope")[-1].startswith(b"F%d NO" % i)
        lines = raw.command(b"F9", b"LOGIN alice@example.com nope")
        assert lines[0].startswith(b"F9 NO [AUTHENTICATIONFAILED]")
        assert raw.line().startswith(b"* BYE")
        assert raw.closed()

    await in_thread(run)


class TestWithoutLoopbackException:
    @pytest.fixture
    def imap_overrides(self) -> dict[str, object]:
        return imap_settings(loopback_insecure_auth=False)

    async def test_logindisabled_before_tls(self, imap: ImapEnv) -> None:
        def run() -> None:
            raw = RawClient(imap.port)
            greeting = raw.line()
            assert b"LOGINDISABLED" in greeting and b"AUTH=PLAIN" not in greeting
            lines = raw.command(b"A1", b"LOGIN alice@example.com password1")
            assert lines[-1].startswith(b"A1 NO [PRIVACYREQUIRED]")
            assert raw.command(b"A2", b"AUTHENTICATE PLAIN " + PLAIN)[-1].startswith(b"A2 NO [PRIVACYREQUIRED]")
            client = imap.plain()
            client.starttls(imap.context())
            assert "AUTH=PLAIN" in client.capabilities and "LOGINDISABLED" not in client.capabilities
            assert client.login(ADDRESS, PASSWORD)[0] == "OK"
            client.logout()

        await in_thread(run)
