"""COPY, MOVE and their UID forms (RFC 9051 §6.4.7, RFC 6851, RFC 4315 COPYUID)."""

from __future__ import annotations

from tests.protocols.imap.conftest import ImapEnv, in_thread, message


async def test_copy_and_move(imap: ImapEnv) -> None:
    for n in range(3):
        await imap.deliver(message(f"m{n}"))
    archive = await imap.services.mailbox.folder(await imap.account_id(), "Archive")

    def run() -> None:
        one = imap.raw()
        watcher = imap.raw(select="Archive")
        one.command(b"A0", b"STORE 1 +FLAGS.SILENT (\\Flagged)")
        assert one.command(b"A1", b"COPY 1:2 Archive") == [
            b"A1 OK [COPYUID %d 1:2 1:2] copied" % archive.uidvalidity]
        assert watcher.command(b"W1", b"FETCH 1:* (FLAGS)")[:3] == [
            b"* 2 EXISTS", b"* 1 FETCH (FLAGS (\\Flagged))", b"* 2 FETCH (FLAGS ())"]
        lines = one.command(b"A2", b"UID MOVE 2:3 Archive")
        assert lines == [b"* OK [COPYUID %d 2:3 3:4] moved" % archive.uidvalidity, b"* 3 EXPUNGE", b"* 2 EXPUNGE",
                         b"A2 OK moved"]
        assert one.command(b"A3", b"COPY 1 Nowhere")[-1].startswith(b"A3 NO [TRYCREATE]")
        assert one.command(b"A4", b"FETCH 1:* (UID)") == [b"* 1 FETCH (UID 1)", b"A4 OK fetch completed"]
        assert watcher.command(b"W2", b"NOOP") == [b"* 4 EXISTS", b"W2 OK nothing done"]

    await in_thread(run)
