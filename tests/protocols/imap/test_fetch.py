"""FETCH and UID FETCH (RFC 9051 §6.4.5): items, sections, partial fetches to the byte, and \\Seen."""

from __future__ import annotations

import re

from tests.protocols.imap.conftest import ImapEnv, in_thread, message

MULTIPART = (
    b"From: Bob <bob@example.org>\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\npreamble\r\n'
    b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nfirst part\r\n"
    b"--XX\r\nContent-Type: text/html\r\n\r\n<p>second</p>\r\n--XX--\r\n"
)


async def test_fetch_items_with_imaplib(imap: ImapEnv) -> None:
    raw_message = message("hello", "body text")
    await imap.deliver(raw_message)

    def run() -> None:
        client = imap.login()
        typ, data = client.fetch("1", "(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE)")
        assert typ == "OK"
        line = data[0]
        assert isinstance(line, bytes)
        assert line.startswith(b"1 (UID 1 FLAGS () RFC822.SIZE %d INTERNALDATE \"" % len(raw_message))
        assert b'ENVELOPE ("Mon, 1 Jan 2024 10:00:00 +0000" "hello" (("Bob" NIL "bob" "example.org"))' in line
        assert b'BODYSTRUCTURE ("TEXT" "PLAIN"' in line
        typ, data = client.fetch("1", "(BODY.PEEK[])")
        assert data[0][1] == raw_message  # type: ignore[index]
        typ, data = client.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT from)])")
        assert data[0][1] == b"From: Bob <bob@example.org>\r\nSubject: hello\r\n\r\n"  # type: ignore[index]
        typ, data = client.fetch("1", "(BODY.PEEK[TEXT] RFC822.HEADER)")
        assert data[0][1] == b"body text\r\n"  # type: ignore[index]
        assert client.fetch("1", "FLAGS")[1][0] == b"1 (FLAGS ())"  # PEEK did not set \Seen
        client.logout()

    await in_thread(run)


async def test_partial_fetch_returns_exactly_the_bytes(imap: ImapEnv) -> None:
    big = message("big", "0123456789" * 50_000)  # about 500 KB, larger than iOS's first chunk
    await imap.deliver(big)
    await imap.deliver(message("small"))

    def run() -> list[tuple[bytes, bytes]]:
        client = imap.login()
        typ, data = client.uid("FETCH", "1:*", "(BODY.PEEK[]<0.393216>)")
        assert typ == "OK"
        out = [item for item in data if isinstance(item, tuple)]
        typ, rest = client.uid("FETCH", "1", "(BODY.PEEK[]<393216.393216>)")
        out += [item for item in rest if isinstance(item, tuple)]
        typ, beyond = client.uid("FETCH", "2", "(BODY.PEEK[]<100000.10>)")
        out += [item for item in beyond if isinstance(item, tuple)]
        client.logout()
        return out

    parts = await in_thread(run)
    assert parts[0][0].endswith(b"BODY[]<0> {393216}") and parts[0][1] == big[:393216]
    assert parts[1][1] == message("small")
    assert parts[2][0].endswith(b"BODY[]<393216> {%d}" % (len(big) - 393216)) and parts[2][1] == big[393216:]
    assert parts[0][1] + parts[2][1] == big


async def test_multipart_sections(imap: ImapEnv) -> None:
    await imap.deliver(MULTIPART)

    def run() -> None:
        raw = imap.raw()
        lines = raw.command(b"A1", b"FETCH 1 (BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[3])")
        joined = b"\r\n".join(lines)
        assert b'BODY[1] "first part"' in joined or b"BODY[1] {10}\r\nfirst part" in joined
        assert b"BODY[2.MIME] {27}\r\nContent-Type: text/html\r\n\r\n" in joined
        assert b"BODY[3] NIL" in joined
        assert lines[-1].startswith(b"A1 OK")

    await in_thread(run)


async def test_body_sets_seen_and_second_connection_sees_it(imap: ImapEnv) -> None:
    await imap.deliver(message())

    def run() -> None:
        one = imap.raw()
        two = imap.raw()
        lines = one.command(b"A1", b"FETCH 1 (BODY[TEXT])")
        assert lines[-2] == b" FLAGS (\\Seen))"  # the new flags in the same response
        assert two.command(b"B1", b"NOOP") == [b"* 1 FETCH (FLAGS (\\Seen))", b"B1 OK nothing done"]
        # A second look changes nothing, so it reports no FLAGS it was not asked for.
        lines = one.command(b"A2", b"FETCH 1 (BODY[TEXT])")
        assert b"FLAGS" not in b"".join(lines)

    await in_thread(run)


async def test_bad_sets_and_missing_uids(imap: ImapEnv) -> None:
    await imap.deliver(message())

    def run() -> None:
        raw = imap.raw()
        assert raw.command(b"A1", b"FETCH 2 FLAGS")[-1].startswith(b"A1 BAD")
        assert raw.command(b"A2", b"UID FETCH 5:9 FLAGS") == [b"A2 OK fetch completed"]
        assert raw.command(b"A3", b"FETCH 1 (BODY.PEEK[1.2.3.4.5])")[0] == b"* 1 FETCH (BODY[1.2.3.4.5] NIL)"
        assert raw.command(b"A4", b"FETCH 1:* (UID)")[0] == b"* 1 FETCH (UID 1)"
        assert raw.command(b"A5", b"UID FETCH * FLAGS")[0].startswith(b"* 1 FETCH (UID 1 FLAGS")
        # BINARY is supported now (test_binary.py): the decoded size of part 1, the body "body text" + CRLF.
        assert raw.command(b"A6", b"FETCH 1 (BINARY.SIZE[1])")[0] == b"* 1 FETCH (BINARY.SIZE[1] 11)"

    await in_thread(run)


async def test_rfc822_items(imap: ImapEnv) -> None:
    raw_message = message("r")
    await imap.deliver(raw_message)

    def run() -> None:
        client = imap.login()
        typ, data = client.fetch("1", "(RFC822)")
        assert typ == "OK"
        assert data[0][1] == raw_message  # type: ignore[index]
        assert re.search(rb"FLAGS \(\\Seen\)", b"".join(x if isinstance(x, bytes) else x[0] for x in data))
        client.logout()

    await in_thread(run)
