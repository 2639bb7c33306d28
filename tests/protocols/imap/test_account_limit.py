"""Sessions per account (issue 4: "connections per account"): past `imap.max_connections_per_account` logged-in
sessions a login is refused with `NO [LIMIT]`, the connection stays usable, and a slot given back (LOGOUT or a
dropped connection) lets the next login in."""

from __future__ import annotations

import time

import pytest

from tests.protocols.imap.conftest import ImapEnv, RawClient, imap_settings, in_thread


@pytest.fixture
def imap_overrides() -> dict[str, object]:
    return imap_settings(max_connections_per_account=2)


def login_reply(client: RawClient, tag: bytes) -> bytes:
    return client.command(tag, b"LOGIN alice@example.com password1")[-1]


async def test_sessions_per_account_are_limited_and_slots_come_back(imap: ImapEnv) -> None:
    def run() -> None:
        first = imap.raw(select=None)
        second = imap.raw(select=None)
        third = imap.raw(login=False)
        refused = login_reply(third, b"L1")
        assert refused.startswith(b"L1 NO [LIMIT]"), refused
        # The refused connection is still served and may try again.
        assert third.command(b"N1", b"NOOP")[-1].startswith(b"N1 OK")
        first.command(b"Q1", b"LOGOUT")
        assert first.closed()
        assert login_reply(third, b"L2").startswith(b"L2 OK")
        # A connection that just drops gives its slot back too.
        second.sock.close()
        fourth = imap.raw(login=False)
        for attempt in range(100):
            reply = login_reply(fourth, b"L%d" % (attempt + 10))
            if b" OK " in reply:
                break
            assert b"NO [LIMIT]" in reply
            time.sleep(0.05)
        else:
            raise AssertionError("the dropped connection's slot never came back")
        # Exactly the two logged-in sessions (third, fourth) hold slots.
        assert imap.services.sessions.count("imap", account_id) == 2

    account_id = await imap.account_id()
    await in_thread(run)
