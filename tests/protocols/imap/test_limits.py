"""Limits (issue 4): bad commands, commands before login, line length, literal size before login, connections per
address. Each ends in `* BYE` and a closed connection, or a refusal after which the server keeps serving."""

from __future__ import annotations

import time

import pytest

from tests.protocols.imap.conftest import ImapEnv, RawClient, imap_settings, in_thread


@pytest.fixture
def imap_overrides() -> dict[str, object]:
    return imap_settings(max_bad_commands=3, max_unauthenticated_commands=5, max_connections_per_ip=3)


async def test_bad_commands_then_bye(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(select=None)
        assert raw.command(b"A1", b"FROBNICATE")[-1].startswith(b"A1 BAD")
        assert raw.command(b"A2", b"FETCH")[-1].startswith(b"A2 BAD")
        raw.send(b"(((\r\n")
        assert raw.line().startswith(b"* BAD")
        assert raw.line().startswith(b"* BYE")
        assert raw.closed()

    await in_thread(run)


async def test_commands_before_login_are_limited(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(login=False)
        for n in range(4):
            assert raw.command(b"N%d" % n, b"NOOP")[-1].startswith(b"N%d OK" % n)
        assert raw.command(b"N9", b"NOOP")[-1].startswith(b"N9 OK")
        assert raw.line().startswith(b"* BYE")
        assert raw.closed()

    await in_thread(run)


async def test_long_line_and_big_literal_before_login(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(login=False)
        raw.send(b"A1 LOGIN {100000}\r\n")
        assert raw.line().startswith(b"A1 NO [TOOBIG]")
        assert raw.command(b"A2", b"NOOP")[-1].startswith(b"A2 OK")
        raw.send(b"A3 NOOP " + b"x" * 20000 + b"\r\n")
        assert raw.line().startswith(b"* BYE")
        assert raw.closed()

    await in_thread(run)


async def test_connections_per_address(imap: ImapEnv) -> None:
    def run() -> None:
        open_ = [imap.raw(login=False) for _ in range(3)]
        refused = RawClient(imap.port)
        assert refused.line().startswith(b"* BYE [UNAVAILABLE]")
        assert refused.closed()
        open_[0].command(b"Q", b"LOGOUT")
        assert open_[0].closed()
        # The server counts the connection as gone once its side has closed too: a new one gets in then.
        for _ in range(100):
            again = RawClient(imap.port)
            if again.line().startswith(b"* OK "):
                break
            time.sleep(0.05)
        assert again.command(b"A", b"NOOP")[-1].startswith(b"A OK")

    await in_thread(run)
