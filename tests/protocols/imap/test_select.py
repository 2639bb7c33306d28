"""SELECT, EXAMINE, STATUS, CLOSE and UNSELECT (RFC 9051 §6.3.2, §6.3.3, §6.3.11, §6.4.1, §6.4.2)."""

from __future__ import annotations

from tests.protocols.imap.conftest import ImapEnv, in_thread, message


async def test_select_reports_what_clients_expect(imap: ImapEnv) -> None:
    await imap.deliver(message("one"))
    await imap.deliver(message("two"))
    inbox = await imap.services.mailbox.folder(await imap.account_id(), "INBOX")

    def run() -> list[bytes]:
        raw = imap.raw(select=None)
        return raw.command(b"A1", b"SELECT inbox")

    lines = await in_thread(run)
    assert lines[0] == b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"
    assert lines[1].startswith(b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)]")
    assert b"* 2 EXISTS" in lines and b"* 0 RECENT" in lines
    assert any(line.startswith(b"* OK [UNSEEN 1]") for line in lines)
    assert any(line.startswith(b"* OK [UIDVALIDITY %d]" % inbox.uidvalidity) for line in lines)
    assert any(line.startswith(b"* OK [UIDNEXT 3]") for line in lines)
    assert any(line.startswith(b"* OK [HIGHESTMODSEQ ") for line in lines)
    assert lines[-1].startswith(b"A1 OK [READ-WRITE]")


async def test_examine_is_read_only(imap: ImapEnv) -> None:
    await imap.deliver(message())

    def run() -> None:
        raw = imap.raw(select=None)
        lines = raw.command(b"A1", b"EXAMINE INBOX")
        assert lines[-1].startswith(b"A1 OK [READ-ONLY]")
        assert b"* OK [PERMANENTFLAGS ()] flags permitted" in lines
        assert raw.command(b"A2", b"STORE 1 +FLAGS (\\Seen)")[-1].startswith(b"A2 NO [READ-ONLY]")
        assert raw.command(b"A3", b"EXPUNGE")[-1].startswith(b"A3 NO [READ-ONLY]")
        # BODY[] does not set \Seen in a read-only mailbox.
        raw.command(b"A4", b"FETCH 1 BODY[]")
        assert raw.command(b"A5", b"FETCH 1 FLAGS")[0] == b"* 1 FETCH (FLAGS ())"

    await in_thread(run)


async def test_select_missing_folder_leaves_nothing_selected(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw()
        assert raw.command(b"A1", b"SELECT Nowhere")[-1].startswith(b"A1 NO [NONEXISTENT]")
        assert raw.command(b"A2", b"FETCH 1 FLAGS")[-1].startswith(b"A2 BAD")

    await in_thread(run)


async def test_reselect_sends_closed(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw()
        assert raw.command(b"A1", b"SELECT Sent")[0] == b"* OK [CLOSED] previous mailbox closed"

    await in_thread(run)


async def test_status_of_another_folder_and_second_connection(imap: ImapEnv) -> None:
    await imap.deliver(message("a", "x" * 100))

    def run() -> None:
        one = imap.login(select=None)
        typ, data = one.status("INBOX", "(MESSAGES UIDNEXT UNSEEN SIZE RECENT DELETED)")
        assert typ == "OK"
        assert data[0].startswith(b'"INBOX" (MESSAGES 1 UIDNEXT 2 UNSEEN 1 SIZE ')
        assert b"DELETED 0" in data[0]
        two = imap.login()
        two.store("1", "+FLAGS", "(\\Seen \\Deleted)")
        typ, data = one.status("INBOX", "(UNSEEN DELETED)")
        assert data[0] == b'"INBOX" (UNSEEN 0 DELETED 1)'
        assert one.status("Nope", "(MESSAGES)")[0] == "NO"

    await in_thread(run)


async def test_close_expunges_silently_and_unselect_does_not(imap: ImapEnv) -> None:
    for n in range(3):
        await imap.deliver(message(f"m{n}"))

    def run() -> None:
        raw = imap.raw()
        raw.command(b"A1", b"STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        assert raw.command(b"A2", b"UNSELECT") == [b"A2 OK unselected"]
        raw.command(b"A3", b"SELECT INBOX")
        assert raw.command(b"A4", b"CLOSE") == [b"A4 OK closed"]
        lines = raw.command(b"A5", b"SELECT INBOX")
        assert b"* 1 EXISTS" in lines

    await in_thread(run)
