"""MULTIAPPEND (RFC 3502) against a real server: several messages in one APPEND, each with its flags, one APPENDUID
naming every UID; all or nothing when one of them cannot be filed; a second session sees the result."""

from __future__ import annotations

from tests.protocols.imap.conftest import ADDRESS, ImapEnv, RawClient, in_thread, message


def multiappend(raw: RawClient, tag: bytes, *parts: tuple[bytes, bytes]) -> list[bytes]:
    """APPEND INBOX with (flags, message) parts, as LITERAL+ literals."""
    command = tag + b" APPEND INBOX"
    for flags, data in parts:
        command += (b" (" + flags + b")" if flags else b"") + b" {%d+}\r\n" % len(data) + data
    raw.send(command + b"\r\n")
    return raw.until(tag)


async def test_several_messages_in_one_append(imap: ImapEnv) -> None:
    one, two, three = message("m1"), message("m2"), message("m3")

    def run() -> None:
        watcher = imap.raw()
        raw = imap.raw(select=None)
        lines = multiappend(raw, b"A1", (b"\\Seen", one), (b"", two), (b"\\Flagged $Todo", three))
        assert lines[-1].startswith(b"A1 OK [APPENDUID ") and lines[-1].split()[4] == b"1:3]"
        assert watcher.command(b"W1", b"NOOP") == [b"* 3 EXISTS", b"W1 OK nothing done"]
        lines = watcher.command(b"W2", b"FETCH 1:3 (FLAGS RFC822.SIZE)")
        assert lines[:3] == [b"* 1 FETCH (FLAGS (\\Seen) RFC822.SIZE %d)" % len(one),
                             b"* 2 FETCH (FLAGS () RFC822.SIZE %d)" % len(two),
                             b"* 3 FETCH (FLAGS (\\Flagged $Todo) RFC822.SIZE %d)" % len(three)]
        # A synchronising literal after the first message: the continuation comes, then the command completes.
        raw.send(b"A2 APPEND INBOX {%d+}\r\n" % len(one) + one + b" {%d}\r\n" % len(two))
        assert raw.line().startswith(b"+ ")
        raw.send(two + b"\r\n")
        assert raw.until(b"A2")[-1].startswith(b"A2 OK [APPENDUID ")
        assert raw.command(b"A3", b"STATUS INBOX (MESSAGES)")[0] == b'* STATUS "INBOX" (MESSAGES 5)'

    await in_thread(run)


async def test_all_or_nothing(imap: ImapEnv) -> None:
    small, large = message("fits"), message("too much", "x" * 5000)
    # Room for the small message, not for both.
    await imap.services.directory.update_account(ADDRESS, quota_bytes=len(small) + 100)

    def run() -> None:
        watcher = imap.raw()
        raw = imap.raw(select=None)
        lines = multiappend(raw, b"A1", (b"", small), (b"", large))
        assert lines[-1].startswith(b"A1 NO [OVERQUOTA]")
        # Nothing of that APPEND stays, whatever the other session saw meanwhile.
        assert raw.command(b"A2", b"STATUS INBOX (MESSAGES SIZE)")[0] == b'* STATUS "INBOX" (MESSAGES 0 SIZE 0)'
        watcher.command(b"W1", b"NOOP")
        assert watcher.command(b"W2", b"SEARCH ALL") == [b"* SEARCH", b"W2 OK search completed"]
        # The small one alone fits.
        assert multiappend(raw, b"A3", (b"", small))[-1].startswith(b"A3 OK [APPENDUID ")
        # A missing folder is TRYCREATE before anything is written.
        raw.send(b"A4 APPEND Nowhere {%d+}\r\n" % len(small) + small + b" {%d+}\r\n" % len(small) + small + b"\r\n")
        assert raw.until(b"A4")[-1].startswith(b"A4 NO [TRYCREATE]")
        assert raw.command(b"A5", b"STATUS INBOX (MESSAGES)")[0] == b'* STATUS "INBOX" (MESSAGES 1)'

    await in_thread(run)
