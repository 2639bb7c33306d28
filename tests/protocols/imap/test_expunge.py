"""EXPUNGE and UID EXPUNGE (RFC 9051 §6.4.3, RFC 4315 §2.1): numbers right in this session and in another one."""

from __future__ import annotations

from tests.protocols.imap.conftest import ImapEnv, in_thread, message


async def test_expunge_numbers_in_both_sessions(imap: ImapEnv) -> None:
    for n in range(5):
        await imap.deliver(message(f"m{n}"))

    def run() -> None:
        one = imap.raw()
        two = imap.raw()
        one.command(b"A1", b"STORE 2,4 +FLAGS.SILENT (\\Deleted)")
        # Each EXPUNGE counts against the numbering after the previous one.
        assert one.command(b"A2", b"EXPUNGE") == [b"* 4 EXPUNGE", b"* 2 EXPUNGE", b"A2 OK expunged"]
        lines = two.command(b"B1", b"NOOP")
        assert [line for line in lines if line.endswith(b"EXPUNGE")] == [b"* 4 EXPUNGE", b"* 2 EXPUNGE"]
        assert two.command(b"B2", b"FETCH 1:* (UID)")[:3] == [
            b"* 1 FETCH (UID 1)", b"* 2 FETCH (UID 3)", b"* 3 FETCH (UID 5)"]

    await in_thread(run)


async def test_expunge_is_not_sent_during_fetch_by_number(imap: ImapEnv) -> None:
    for n in range(3):
        await imap.deliver(message(f"m{n}"))

    def run() -> None:
        one = imap.raw()
        two = imap.raw()
        one.command(b"A1", b"STORE 1 +FLAGS.SILENT (\\Deleted)")
        one.command(b"A2", b"EXPUNGE")
        lines = two.command(b"B1", b"FETCH 1:3 (UID)")
        assert not any(line.endswith(b"EXPUNGE") for line in lines)
        assert b"* 2 FETCH (UID 2)" in lines  # numbers unchanged while the expunge is held back
        assert two.command(b"B2", b"NOOP") == [b"* 1 EXPUNGE", b"B2 OK nothing done"]
        assert two.command(b"B3", b"FETCH 1 (UID)")[0] == b"* 1 FETCH (UID 2)"

    await in_thread(run)


async def test_uid_expunge_only_given_uids(imap: ImapEnv) -> None:
    for n in range(3):
        await imap.deliver(message(f"m{n}"))

    def run() -> None:
        raw = imap.raw()
        raw.command(b"A1", b"STORE 1:3 +FLAGS.SILENT (\\Deleted)")
        assert raw.command(b"A2", b"UID EXPUNGE 2:3") == [b"* 3 EXPUNGE", b"* 2 EXPUNGE", b"A2 OK expunged"]
        assert raw.command(b"A3", b"FETCH 1 (UID)")[0] == b"* 1 FETCH (UID 1)"
        client = imap.login()
        assert client.expunge() == ("OK", [b"1"])
        client.logout()

    await in_thread(run)
