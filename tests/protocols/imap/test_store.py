"""STORE and UID STORE (RFC 9051 §6.4.6): ±FLAGS, FLAGS, .SILENT, keywords; a second session sees the change."""

from __future__ import annotations

from tests.protocols.imap.conftest import ImapEnv, in_thread, message


async def test_store_modes_and_second_connection(imap: ImapEnv) -> None:
    await imap.deliver(message("a"))
    await imap.deliver(message("b"))

    def run() -> None:
        one = imap.raw()
        two = imap.raw()
        assert one.command(b"A1", b"STORE 1 +FLAGS (\\Flagged $Work)") == [
            b"* 1 FETCH (FLAGS (\\Flagged $Work))", b"A1 OK store completed"]
        assert one.command(b"A2", b"UID STORE 1:2 -FLAGS (\\Flagged)") == [
            b"* 1 FETCH (UID 1 FLAGS ($Work))", b"* 2 FETCH (UID 2 FLAGS ())", b"A2 OK store completed"]
        assert one.command(b"A3", b"STORE 2 FLAGS.SILENT (\\Seen \\Answered)") == [b"A3 OK store completed"]
        # The other session learns each change once, with the flags as they are now.
        lines = two.command(b"B1", b"NOOP")
        assert lines[-1] == b"B1 OK nothing done"
        assert lines[-2] == b"* 2 FETCH (FLAGS (\\Seen \\Answered))"
        assert b"* 1 FETCH (FLAGS ($Work))" in lines
        # FLAGS replaces everything, keywords included; \Recent is never stored.
        assert one.command(b"A4", b"STORE 1 FLAGS (\\Draft)")[0] == b"* 1 FETCH (FLAGS (\\Draft))"
        assert one.command(b"A5", b"STORE 1 +FLAGS (\\Recent)")[-1].startswith(b"A5 BAD")
        assert one.command(b"A6", b"STORE 3 +FLAGS (\\Seen)")[-1].startswith(b"A6 BAD")
        # The own change is not echoed back at the next command.
        assert one.command(b"A7", b"NOOP") == [b"A7 OK nothing done"]

    await in_thread(run)


async def test_store_with_imaplib(imap: ImapEnv) -> None:
    await imap.deliver(message())

    def run() -> None:
        client = imap.login()
        typ, data = client.store("1", "+FLAGS", "(\\Deleted)")
        assert typ == "OK" and data == [b"1 (FLAGS (\\Deleted))"]
        client.logout()

    await in_thread(run)
