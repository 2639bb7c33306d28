"""LIST (with SPECIAL-USE, CHILDREN, LIST-EXTENDED and LIST-STATUS), LSUB, CREATE, DELETE, RENAME, SUBSCRIBE."""

from __future__ import annotations

from tests.protocols.imap.conftest import ImapEnv, in_thread


async def test_list_special_use_and_children(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(select=None)
        assert raw.command(b"A0", b'LIST "" ""')[0] == b'* LIST (\\Noselect) "/" ""'
        assert raw.command(b"A1", b"CREATE Work/2024/Q1")[-1] == b"A1 OK created"
        lines = raw.command(b"A2", b'LIST "" *')
        assert lines[0] == b'* LIST (\\HasNoChildren) "/" "INBOX"'
        assert b'* LIST (\\HasNoChildren \\Sent) "/" "Sent"' in lines
        assert b'* LIST (\\HasChildren) "/" "Work"' in lines and b'* LIST (\\HasNoChildren) "/" "Work/2024/Q1"' in lines
        assert raw.command(b"A3", b'LIST "" %')[:1] == [b'* LIST (\\HasNoChildren) "/" "INBOX"']
        assert raw.command(b"A4", b'LIST "Work/" %') == [b'* LIST (\\HasChildren) "/" "Work/2024"', b"A4 OK listed"]
        lines = raw.command(b"A5", b'LIST (SPECIAL-USE) "" * RETURN (STATUS (MESSAGES UIDNEXT))')
        assert b'* LIST (\\HasNoChildren \\Trash) "/" "Trash"' in lines
        assert b'* STATUS "Trash" (MESSAGES 0 UIDNEXT 1)' in lines
        assert not any(b"INBOX" in line for line in lines)

    await in_thread(run)


async def test_create_delete_rename_seen_by_another_session(imap: ImapEnv) -> None:
    def run() -> None:
        one = imap.raw(select=None)
        two = imap.raw(select=None)
        assert one.command(b"A1", b'CREATE "Projets/&AOk-t&AOk-"')[-1] == b"A1 OK created"
        assert one.command(b"A2", b"CREATE Projets")[-1].startswith(b"A2 NO [ALREADYEXISTS]")
        assert two.command(b"B1", b'LIST "" Projets/*') == [
            b'* LIST (\\HasNoChildren) "/" "Projets/&AOk-t&AOk-"', b"B1 OK listed"]
        assert one.command(b"A3", b"RENAME Projets Archive/Old")[-1] == b"A3 OK renamed"
        lines = two.command(b"B2", b'LIST "" Archive*')
        assert b'* LIST (\\HasChildren \\Archive) "/" "Archive"' in lines
        assert b'* LIST (\\HasNoChildren) "/" "Archive/Old/&AOk-t&AOk-"' in lines
        assert one.command(b"A4", b"DELETE Archive/Old/&AOk-t&AOk-")[-1] == b"A4 OK deleted"
        assert one.command(b"A5", b"DELETE INBOX")[-1].startswith(b"A5 NO")
        assert one.command(b"A6", b"DELETE Nothing")[-1].startswith(b"A6 NO [NONEXISTENT]")
        assert one.command(b"A7", b'CREATE "bad*name"')[-1].startswith(b"A7 NO")
        assert two.command(b"B3", b'LIST "" Archive/Old/*') == [b"B3 OK listed"]

    await in_thread(run)


async def test_subscribe_and_lsub(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(select=None)
        raw.command(b"A1", b"CREATE Hidden")
        assert raw.command(b"A2", b"UNSUBSCRIBE Hidden") == [b"A2 OK unsubscribed"]
        assert raw.command(b"A3", b'LSUB "" H*') == [b"A3 OK listed"]
        lines = raw.command(b"A4", b'LIST "" * RETURN (SUBSCRIBED)')
        assert b'* LIST (\\HasNoChildren) "/" "Hidden"' in lines
        assert b'* LIST (\\HasNoChildren \\Subscribed) "/" "INBOX"' in lines
        raw.command(b"A5", b"SUBSCRIBE Hidden")
        assert raw.command(b"A6", b'LSUB "" H*') == [b'* LSUB () "/" "Hidden"', b"A6 OK listed"]

    await in_thread(run)
