"""IMAP4rev2 (RFC 9051) against a real server: advertised beside IMAP4rev1 with the extensions it folds in; once
ENABLEd, SELECT has no RECENT or UNSEEN but a LIST response, SEARCH answers ESEARCH, mailbox names are UTF-8; an
IMAP4rev1 client on the same server keeps the rev1 forms. CREATE-SPECIAL-USE and LIST-STATUS as advertised."""

from __future__ import annotations

from tests.protocols.imap.conftest import ImapEnv, in_thread, message

ADVERTISED = {b"IMAP4rev1", b"IMAP4rev2", b"LITERAL+", b"ESEARCH", b"SEARCHRES", b"CONDSTORE", b"QRESYNC", b"BINARY",
              b"MULTIAPPEND", b"UIDPLUS", b"SPECIAL-USE", b"CREATE-SPECIAL-USE", b"LIST-EXTENDED", b"LIST-STATUS",
              b"WITHIN", b"ENABLE", b"MOVE", b"UNSELECT", b"NAMESPACE", b"IDLE", b"STATUS=SIZE", b"UTF8=ACCEPT"}


async def test_capabilities(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(select=None)
        line = raw.command(b"A1", b"CAPABILITY")[0]
        names = set(line.split()[2:])
        assert ADVERTISED <= names, ADVERTISED - names
        limit = imap.services.settings.limits.max_message_size
        assert b"APPENDLIMIT=%d" % limit in names
        # LITERAL+ covers LITERAL-; advertising both would say less.
        assert b"LITERAL-" not in names

    await in_thread(run)


async def test_rev2_differences(imap: ImapEnv) -> None:
    await imap.deliver(message("a"))
    await imap.deliver(message("b"))

    def run() -> None:
        rev1 = imap.raw(select=None)
        lines = rev1.command(b"R1", b"SELECT INBOX")
        assert b"* 0 RECENT" in lines and b"* OK [UNSEEN 1] first unseen" in lines
        assert not any(line.startswith(b"* LIST") for line in lines)
        assert rev1.command(b"R2", b"SEARCH UNSEEN") == [b"* SEARCH 1 2", b"R2 OK search completed"]

        raw = imap.raw(select=None)
        assert raw.command(b"A1", b"ENABLE IMAP4rev2") == [b"* ENABLED IMAP4rev2", b"A1 OK enabled"]
        lines = raw.command(b"A2", b"SELECT INBOX")
        assert lines[-1] == b"A2 OK [READ-WRITE] selected"
        assert not any(b"RECENT" in line or b"[UNSEEN" in line for line in lines)
        assert b'* LIST () "/" "INBOX"' in lines and b"* 2 EXISTS" in lines
        # SEARCH without RETURN answers ESEARCH (RFC 9051 §6.4.4).
        assert raw.command(b"A3", b"SEARCH UNSEEN") == [b'* ESEARCH (TAG "A3") ALL 1:2', b"A3 OK search completed"]
        assert raw.command(b"A4", b"UID SEARCH 2") == [b'* ESEARCH (TAG "A4") UID ALL 2', b"A4 OK search completed"]
        assert raw.command(b"A5", b"SEARCH DELETED") == [b'* ESEARCH (TAG "A5")', b"A5 OK search completed"]
        # UTF-8 mailbox names, quoted.
        assert raw.command(b"A6", 'CREATE "项目/二〇二四"'.encode())[-1].startswith(b"A6 OK")
        listed = raw.command(b"A7", 'LIST "" "项目/*"'.encode())
        assert listed[0] == '* LIST (\\HasNoChildren) "/" "项目/二〇二四"'.encode()
        # The rev1 client still sees the name in modified UTF-7.
        assert rev1.command(b"R3", b'LIST "" "*"')[-2].startswith(b'* LIST (\\HasNoChildren) "/" "&mHl27g-/')

    await in_thread(run)


async def test_create_special_use_and_list_status(imap: ImapEnv) -> None:
    await imap.deliver(message())

    def run() -> None:
        raw = imap.raw(select=None)
        assert raw.command(b"A1", b"CREATE Old (USE (\\Archive))")[-1].startswith(b"A1 OK")
        lines = raw.command(b"A2", b'LIST (SPECIAL-USE) "" "*"')
        assert b'* LIST (\\HasNoChildren \\Archive) "/" "Old"' in lines
        assert raw.command(b"A3", b"CREATE Bad (USE (\\Flagged))")[-1].startswith(b"A3 NO")
        lines = raw.command(b"A4", b'LIST "" "INBOX" RETURN (STATUS (MESSAGES UNSEEN))')
        assert lines == [b'* LIST (\\HasNoChildren) "/" "INBOX"', b'* STATUS "INBOX" (MESSAGES 1 UNSEEN 1)',
                         b"A4 OK listed"]

    await in_thread(run)
