"""CAPABILITY, the greeting, NOOP, ID, ENABLE, NAMESPACE and LOGOUT against a real server (RFC 9051 §6.1)."""

from __future__ import annotations

import imaplib

from tests.protocols.imap.conftest import ImapEnv, in_thread


async def test_greeting_and_capability_before_and_after_login(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(login=False)
        caps = raw.command(b"A1", b"CAPABILITY")
        assert caps[0].startswith(b"* CAPABILITY IMAP4rev1 ")
        assert b" STARTTLS" in caps[0] and b" AUTH=PLAIN" in caps[0]  # loopback: logins allowed in plaintext
        assert caps[-1].startswith(b"A1 OK")
        ok = raw.command(b"A2", b"LOGIN alice@example.com password1")[-1]
        assert ok.startswith(b"A2 OK [CAPABILITY IMAP4rev1 ") and b"STARTTLS" not in ok and b"AUTH=" not in ok
        assert raw.command(b"A3", b"NOOP")[-1].startswith(b"A3 OK")
        bye = raw.command(b"A4", b"LOGOUT")
        assert bye[0].startswith(b"* BYE") and bye[-1].startswith(b"A4 OK")
        assert raw.closed()

    await in_thread(run)


async def test_id_enable_namespace(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(select=None)
        assert raw.command(b"A1", b'ID ("name" "test")')[0] == b'* ID ("name" "Yizhan" "vendor" "Yizhan")'
        enabled = raw.command(b"A2", b"ENABLE UTF8=ACCEPT CONDSTORE")
        assert enabled[0] == b"* ENABLED UTF8=ACCEPT CONDSTORE" and enabled[-1].startswith(b"A2 OK")
        assert raw.command(b"A3", b"NAMESPACE")[0] == b'* NAMESPACE (("" "/")) NIL NIL'
        # Now UTF-8 mailbox names are accepted and sent as they are.
        assert raw.command(b"A4", 'CREATE "会议"'.encode())[-1].startswith(b"A4 OK")
        listed = raw.command(b"A5", 'LIST "" "会*"'.encode())
        assert listed[0] == '* LIST (\\HasNoChildren) "/" "会议"'.encode()

    await in_thread(run)


async def test_commands_in_the_wrong_state_are_bad(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(login=False)
        assert raw.command(b"A1", b"SELECT INBOX")[-1].startswith(b"A1 BAD")
        assert raw.command(b"A2", b"FETCH 1 FLAGS")[-1].startswith(b"A2 BAD")
        raw.command(b"A3", b"LOGIN alice@example.com password1")
        assert raw.command(b"A4", b"FETCH 1 FLAGS")[-1].startswith(b"A4 BAD")
        assert raw.command(b"A5", b"LOGIN alice@example.com password1")[-1].startswith(b"A5 BAD")
        assert raw.command(b"A6", b"NOOP")[-1].startswith(b"A6 OK")  # still serving

    await in_thread(run)


async def test_imaplib_sees_capabilities(imap: ImapEnv) -> None:
    def run() -> tuple[str, ...]:
        client = imaplib.IMAP4("127.0.0.1", imap.port, timeout=30)
        caps = client.capabilities
        client.logout()
        return caps

    caps = await in_thread(run)
    for name in ("IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "SPECIAL-USE", "NAMESPACE", "ENABLE", "UNSELECT"):
        assert name in caps
