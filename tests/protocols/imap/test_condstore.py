"""CONDSTORE (RFC 7162 §3.1) against a real server: ENABLE and SELECT (CONDSTORE), HIGHESTMODSEQ in SELECT and
STATUS, FETCH MODSEQ and (CHANGEDSINCE n), STORE (UNCHANGEDSINCE n) with [MODIFIED], SEARCH MODSEQ, and MODSEQ in
the FETCH updates a second session's changes cause."""

from __future__ import annotations

import re

from tests.protocols.imap.conftest import ImapEnv, in_thread, message

_MODSEQ = re.compile(rb"MODSEQ \((\d+)\)")
_HIGHEST = re.compile(rb"\[HIGHESTMODSEQ (\d+)\]")


def modseq(line: bytes) -> int:
    found = _MODSEQ.search(line)
    assert found is not None, line
    return int(found.group(1))


def highest(lines: list[bytes]) -> int:
    for line in lines:
        found = _HIGHEST.search(line)
        if found:
            return int(found.group(1))
    raise AssertionError(lines)


async def test_enable_select_status_and_fetch_modseq(imap: ImapEnv) -> None:
    await imap.deliver(message("a"))
    await imap.deliver(message("b"))

    def run() -> None:
        raw = imap.raw(select=None)
        assert raw.command(b"A1", b"ENABLE CONDSTORE") == [b"* ENABLED CONDSTORE", b"A1 OK enabled"]
        selected = raw.command(b"A2", b"SELECT INBOX (CONDSTORE)")
        assert selected[-1] == b"A2 OK [READ-WRITE] selected"
        top = highest(selected)
        lines = raw.command(b"A3", b"FETCH 1:* (MODSEQ)")
        assert [modseq(line) for line in lines[:-1]] == sorted(modseq(line) for line in lines[:-1])
        assert max(modseq(line) for line in lines[:-1]) == top
        status = raw.command(b"A4", b"STATUS INBOX (HIGHESTMODSEQ MESSAGES)")
        assert status[0] == b'* STATUS "INBOX" (HIGHESTMODSEQ %d MESSAGES 2)' % top
        # A change takes the next MODSEQ, which FETCH, STATUS and a new SELECT all report.
        stored = raw.command(b"A5", b"STORE 1 +FLAGS (\\Flagged)")
        assert stored[0] == b"* 1 FETCH (FLAGS (\\Flagged) MODSEQ (%d))" % (top + 1)
        status = raw.command(b"A6", b"STATUS INBOX (HIGHESTMODSEQ)")
        assert status[0] == b'* STATUS "INBOX" (HIGHESTMODSEQ %d)' % (top + 1)
        assert highest(raw.command(b"A7", b"EXAMINE INBOX")) == top + 1
        # CONDSTORE enabled: FETCH FLAGS carries MODSEQ without being asked.
        assert raw.command(b"A8", b"FETCH 1 FLAGS")[0] == b"* 1 FETCH (FLAGS (\\Flagged) MODSEQ (%d))" % (top + 1)

    await in_thread(run)


async def test_changedsince_unchangedsince_and_search_modseq(imap: ImapEnv) -> None:
    for name in ("a", "b", "c"):
        await imap.deliver(message(name))

    def run() -> None:
        one = imap.raw()
        two = imap.raw()
        # FETCH MODSEQ is a CONDSTORE enabling command (RFC 7162 §3.1).
        before = {n + 1: modseq(line) for n, line in enumerate(one.command(b"A1", b"FETCH 1:* (MODSEQ)")[:-1])}
        mark = max(before.values())
        # The other session changes message 1.
        assert two.command(b"B1", b"STORE 1 +FLAGS.SILENT (\\Answered)") == [b"B1 OK store completed"]
        # Message 1 changed after `mark`: STORE (UNCHANGEDSINCE mark) leaves it alone and names it in MODIFIED;
        # the others change, each with its new MODSEQ.
        lines = one.command(b"A2", b"STORE 1:3 (UNCHANGEDSINCE %d) +FLAGS (\\Seen)" % mark)
        assert lines[-1] == b"A2 OK [MODIFIED 1] conditional store failed for some messages"
        fetches = [line for line in lines if b"FETCH (FLAGS (\\Seen)" in line]
        assert [line.split()[1] for line in fetches] == [b"2", b"3"]
        assert all(modseq(line) > mark for line in fetches)
        # The update of message 1 (by the other session) arrives with its MODSEQ, and it is not \Seen.
        update = [line for line in lines if line.startswith(b"* 1 FETCH")]
        assert update == [b"* 1 FETCH (FLAGS (\\Answered) MODSEQ (%d))" % (mark + 1)]
        # The second connection sees what the first did, and only that.
        assert two.command(b"B2", b"FETCH 1:3 (FLAGS)")[-4:-1] == [
            b"* 1 FETCH (FLAGS (\\Answered))", b"* 2 FETCH (FLAGS (\\Seen))", b"* 3 FETCH (FLAGS (\\Seen))"]
        # UID STORE with UNCHANGEDSINCE 0 can change nothing; MODIFIED names UIDs.
        lines = one.command(b"A3", b"UID STORE 1:3 (UNCHANGEDSINCE 0) -FLAGS (\\Seen)")
        assert lines == [b"A3 OK [MODIFIED 1:3] conditional store failed for some messages"]
        # CHANGEDSINCE: only what changed after `mark`, with MODSEQ added.
        lines = one.command(b"A4", b"FETCH 1:* (UID) (CHANGEDSINCE %d)" % (mark + 1))
        assert [line.split()[1] for line in lines[:-1]] == [b"2", b"3"]
        assert all(b"MODSEQ (" in line for line in lines[:-1])
        assert one.command(b"A5", b"FETCH 1:* (FLAGS) (CHANGEDSINCE 999999)") == [b"A5 OK fetch completed"]
        # SEARCH MODSEQ: the highest MODSEQ of what matched is returned too.
        lines = one.command(b"A6", b"SEARCH MODSEQ %d" % (mark + 1))
        top = highest(one.command(b"A7", b"EXAMINE INBOX"))
        assert lines == [b"* SEARCH 1 2 3 (MODSEQ %d)" % top, b"A6 OK search completed"]
        lines = one.command(b"A8", b'SEARCH MODSEQ "/flags/\\\\seen" all %d' % (mark + 2))
        assert lines == [b"* SEARCH 2 3 (MODSEQ %d)" % top, b"A8 OK search completed"]
        assert one.command(b"A9", b"SEARCH MODSEQ %d" % (top + 1)) == [b"* SEARCH", b"A9 OK search completed"]
        assert one.command(b"B9", b"SEARCH RETURN (MAX) MODSEQ 1")[0] == b'* ESEARCH (TAG "B9") MAX 3 MODSEQ %d' % top

    await in_thread(run)


async def test_silent_store_still_reports_modseq(imap: ImapEnv) -> None:
    await imap.deliver(message())

    def run() -> None:
        raw = imap.raw(select=None)
        assert raw.command(b"A1", b"ENABLE CONDSTORE")[-1].startswith(b"A1 OK")
        top = highest(raw.command(b"A2", b"SELECT INBOX"))
        # RFC 7162 §3.1.3: with CONDSTORE on, a changed message is reported with its MODSEQ even with .SILENT.
        assert raw.command(b"A3", b"STORE 1 +FLAGS.SILENT (\\Seen)") == [
            b"* 1 FETCH (MODSEQ (%d))" % (top + 1), b"A3 OK store completed"]
        assert raw.command(b"A4", b"STORE 1 +FLAGS.SILENT (\\Seen)") == [b"A4 OK store completed"]
        # Unknown modifiers are refused; the session goes on.
        assert raw.command(b"A5", b"STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)")[-1].startswith(b"A5 BAD")
        assert raw.command(b"A6", b"FETCH 1 (FLAGS) (CHANGEDSINCE)")[-1].startswith(b"A6 BAD")
        assert raw.command(b"A7", b"NOOP") == [b"A7 OK nothing done"]

    await in_thread(run)
