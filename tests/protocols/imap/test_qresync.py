"""QRESYNC (RFC 7162 §3.2) against a real server: ENABLE QRESYNC, SELECT (QRESYNC (...)) giving VANISHED (EARLIER)
and the changed messages, UID FETCH (CHANGEDSINCE n VANISHED), and expunges told as VANISHED."""

from __future__ import annotations

import re

from tests.protocols.imap.conftest import ImapEnv, RawClient, in_thread, message

_CODE = re.compile(rb"\[(UIDVALIDITY|HIGHESTMODSEQ) (\d+)\]")


def codes(lines: list[bytes]) -> dict[bytes, int]:
    out = {}
    for line in lines:
        found = _CODE.search(line)
        if found:
            out[found.group(1)] = int(found.group(2))
    return out


def changed_by_other(two: RawClient) -> None:
    """Message 2 flagged, messages 3 and 4 expunged."""
    assert two.command(b"B1", b"STORE 2 +FLAGS.SILENT (\\Flagged)")[-1].startswith(b"B1 OK")
    assert two.command(b"B2", b"STORE 3:4 +FLAGS.SILENT (\\Deleted)")[-1].startswith(b"B2 OK")
    assert two.command(b"B3", b"EXPUNGE")[-1].startswith(b"B3 OK")


async def test_select_qresync_resynchronises(imap: ImapEnv) -> None:
    for i in range(1, 6):
        await imap.deliver(message(f"q{i}"))

    def run() -> None:
        first = imap.raw(select=None)
        state = codes(first.command(b"A1", b"SELECT INBOX"))
        validity, mark = state[b"UIDVALIDITY"], state[b"HIGHESTMODSEQ"]
        # QRESYNC must be enabled before it is used.
        assert first.command(b"A2", b"SELECT INBOX (QRESYNC (%d %d))" % (validity, mark))[-1].startswith(b"A2 BAD")
        assert first.command(b"A3", b"ENABLE QRESYNC") == [b"* ENABLED QRESYNC", b"A3 OK enabled"]
        first.command(b"A4", b"LOGOUT")

        changed_by_other(imap.raw())

        raw = imap.raw(select=None)
        assert raw.command(b"C1", b"ENABLE QRESYNC")[-1].startswith(b"C1 OK")
        lines = raw.command(b"C2", b"SELECT INBOX (QRESYNC (%d %d))" % (validity, mark))
        top = codes(lines)[b"HIGHESTMODSEQ"]
        assert top > mark
        assert lines[-3:] == [b"* VANISHED (EARLIER) 3:4",
                              b"* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (%d))" % (mark + 1),
                              b"C2 OK [READ-WRITE] selected"]
        assert b"* 3 EXISTS" in lines
        # Known UIDs limit both: only UIDs 1, 2 and 4 are of interest.
        lines = raw.command(b"C3", b"EXAMINE INBOX (QRESYNC (%d %d 1:2,4 (1:3 1:2,4)))" % (validity, mark))
        assert lines[0] == b"* OK [CLOSED] previous mailbox closed"
        assert lines[-3:] == [b"* VANISHED (EARLIER) 4",
                              b"* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (%d))" % (mark + 1),
                              b"C3 OK [READ-ONLY] selected"]
        # Another UIDVALIDITY: the client must resynchronise fully, nothing is told.
        lines = raw.command(b"C4", b"SELECT INBOX (QRESYNC (%d %d))" % (validity + 1, mark))
        assert not any(b"VANISHED" in line or b"FETCH" in line for line in lines)
        # UID FETCH (CHANGEDSINCE VANISHED) tells the same as the SELECT did.
        lines = raw.command(b"C5", b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % mark)
        assert lines == [b"* VANISHED (EARLIER) 3:4",
                         b"* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (%d))" % (mark + 1),
                         b"C5 OK fetch completed"]
        lines = raw.command(b"C6", b"UID FETCH 4:5 (FLAGS) (CHANGEDSINCE %d VANISHED)" % mark)
        assert lines == [b"* VANISHED (EARLIER) 4", b"C6 OK fetch completed"]
        assert raw.command(b"C7", b"FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")[-1].startswith(b"C7 BAD")
        assert raw.command(b"C8", b"UID FETCH 1:* (FLAGS) (VANISHED)")[-1].startswith(b"C8 BAD")

    await in_thread(run)


async def test_vanished_without_qresync_is_bad(imap: ImapEnv) -> None:
    await imap.deliver(message())

    def run() -> None:
        raw = imap.raw()
        assert raw.command(b"A1", b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")[-1].startswith(b"A1 BAD")
        assert raw.command(b"A2", b"NOOP") == [b"A2 OK nothing done"]

    await in_thread(run)


async def test_expunges_are_told_as_vanished(imap: ImapEnv) -> None:
    for i in range(1, 4):
        await imap.deliver(message(f"v{i}"))

    def run() -> None:
        raw = imap.raw(select=None)
        assert raw.command(b"A1", b"ENABLE QRESYNC")[-1].startswith(b"A1 OK")
        assert raw.command(b"A2", b"SELECT INBOX")[-1].startswith(b"A2 OK")
        other = imap.raw()
        assert other.command(b"B1", b"STORE 3 +FLAGS.SILENT (\\Deleted \\Seen)")[-1].startswith(b"B1 OK")
        assert other.command(b"B2", b"EXPUNGE")[-1].startswith(b"B2 OK")
        # Another session's flag change and expunge: FETCH with UID and MODSEQ, then VANISHED (not EXPUNGE).
        lines = raw.command(b"A3", b"NOOP")
        assert lines[0].startswith(b"* 3 FETCH (UID 3 FLAGS (\\Seen \\Deleted) MODSEQ (")
        assert lines[1:] == [b"* VANISHED 3", b"A3 OK nothing done"]
        # Our own EXPUNGE too.
        assert raw.command(b"A4", b"STORE 1 +FLAGS.SILENT (\\Deleted)")[-1].startswith(b"A4 OK")
        lines = raw.command(b"A5", b"EXPUNGE")
        assert lines[-2] == b"* VANISHED 1"
        # The tagged OK says the MODSEQ after the expunge (RFC 7162 §3.2.10), which STATUS confirms.
        after = int(lines[-1].split(b"[HIGHESTMODSEQ ")[1].split(b"]")[0])
        assert lines[-1] == b"A5 OK [HIGHESTMODSEQ %d] expunged" % after
        assert raw.command(b"A9", b"STATUS INBOX (HIGHESTMODSEQ)")[0] == b'* STATUS "INBOX" (HIGHESTMODSEQ %d)' % after
        assert raw.command(b"A6", b"FETCH 1 (UID)") == [b"* 1 FETCH (UID 2)", b"A6 OK fetch completed"]
        # The other session, without QRESYNC, gets EXPUNGE.
        assert other.command(b"B3", b"NOOP") == [b"* 1 FETCH (FLAGS (\\Deleted))", b"* 1 EXPUNGE",
                                                 b"B3 OK nothing done"]
        assert other.command(b"B4", b"STORE 1 +FLAGS.SILENT (\\Deleted)")[-1].startswith(b"B4 OK")
        assert raw.command(b"A7", b"CLOSE")[-1] == b"A7 OK [HIGHESTMODSEQ %d] closed" % (after + 2)
        assert other.command(b"B5", b"EXPUNGE") == [b"* 1 EXPUNGE", b"B5 OK expunged"]

    await in_thread(run)
