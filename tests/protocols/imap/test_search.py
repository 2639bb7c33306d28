"""SEARCH and UID SEARCH (RFC 9051 §6.4.4) with ESEARCH (RFC 4731) and SEARCHRES (RFC 5182) against a real server:
flags, sets, sizes, dates, headers, Chinese text through the index, NOT/OR, charsets, and a second session's
changes seen by the next SEARCH."""

from __future__ import annotations

from tests.protocols.imap.conftest import ImapEnv, RawClient, in_thread, message


def mail(subject: str, body: str, *, date: str = "Mon, 1 Jan 2024 10:00:00 +0000", extra: str = "",
         charset: str = "utf-8") -> bytes:
    head = (f"From: Bob Lee <bob@example.org>\r\nTo: alice@example.com\r\nCc: carol@example.net\r\n"
            f"Subject: {subject}\r\nDate: {date}\r\n{extra}MIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
    return head.encode() + body.encode(charset) + b"\r\n"


def append(raw: RawClient, tag: bytes, data: bytes, flags: bytes = b"", date: bytes = b"") -> None:
    head = b"APPEND INBOX" + (b" (" + flags + b")" if flags else b"") + (b' "' + date + b'"' if date else b"")
    raw.send(tag + b" " + head + b" {%d+}\r\n" % len(data) + data + b"\r\n")
    assert raw.until(tag)[-1].startswith(tag + b" OK")


def search(raw: RawClient, tag: bytes, text: bytes) -> bytes:
    """The one `* SEARCH` line of a search (asserting it completed)."""
    lines = raw.command(tag, text)
    assert lines[-1].startswith(tag + b" OK"), lines
    found = [line for line in lines if line.startswith(b"* SEARCH")]
    assert len(found) == 1, lines
    return found[0]


def search_literal(raw: RawClient, tag: bytes, before: bytes, value: bytes) -> list[bytes]:
    """A search whose last argument is sent as a LITERAL+ literal (8-bit text)."""
    raw.send(tag + b" " + before + b" {%d+}\r\n" % len(value) + value + b"\r\n")
    return raw.until(tag)


async def test_flags_sets_sizes_and_logic(imap: ImapEnv) -> None:
    for i in range(1, 5):
        await imap.deliver(message(f"m{i}", "x" * (100 * i)))

    def run() -> None:
        raw = imap.raw()
        assert raw.command(b"A0", b"STORE 1,3 +FLAGS (\\Seen $Work)")[-1].startswith(b"A0 OK")
        assert raw.command(b"A1", b"STORE 2 +FLAGS (\\Flagged \\Answered)")[-1].startswith(b"A1 OK")
        assert search(raw, b"B1", b"SEARCH SEEN") == b"* SEARCH 1 3"
        assert search(raw, b"B2", b"SEARCH UNSEEN") == b"* SEARCH 2 4"
        assert search(raw, b"B3", b"SEARCH KEYWORD $work") == b"* SEARCH 1 3"
        assert search(raw, b"B4", b"SEARCH UNKEYWORD $Work FLAGGED") == b"* SEARCH 2"
        assert search(raw, b"B5", b"SEARCH OR ANSWERED NOT DELETED") == b"* SEARCH 1 2 3 4"
        assert search(raw, b"B6", b"SEARCH OR ANSWERED 4") == b"* SEARCH 2 4"
        assert search(raw, b"B7", b"SEARCH 2:* NOT (OR SEEN FLAGGED)") == b"* SEARCH 4"
        assert search(raw, b"B0", b"SEARCH 2:* NOT (SEEN OR FLAGGED DRAFT)") == b"* SEARCH 2 3 4"
        assert search(raw, b"B8", b"UID SEARCH UID 2:3") == b"* SEARCH 2 3"
        assert search(raw, b"B9", b"SEARCH UID 9:*") == b"* SEARCH 4"  # `*` is the largest UID in use.
        # Sizes: bodies of 100..400 octets plus headers of the same length; LARGER and SMALLER are strict.
        sizes = [int(line.split()[-1].rstrip(b")")) for line in raw.command(b"C0", b"FETCH 1:4 RFC822.SIZE")[:-1]]
        assert sizes[1] - sizes[0] == 100
        assert search(raw, b"C1", b"SEARCH LARGER %d SMALLER %d" % (sizes[1], sizes[3])) == b"* SEARCH 3"
        assert search(raw, b"C6", b"SEARCH LARGER %d" % (sizes[1] - 1)) == b"* SEARCH 2 3 4"
        # Sets of many ranges and very long programs are decided outside SQL, with the same answers.
        many = b",".join(b"%d" % n for n in range(1, 602, 2))
        assert search(raw, b"M1", b"UID SEARCH UID " + many) == b"* SEARCH 1 3"
        assert search(raw, b"M2", b"SEARCH NOT UID " + many) == b"* SEARCH 2 4"
        assert search(raw, b"M3", b"SEARCH " + b"UNDELETED " * 400 + b"SEEN") == b"* SEARCH 1 3"
        assert search(raw, b"C2", b"SEARCH NEW") == b"* SEARCH"
        assert search(raw, b"C3", b"SEARCH OLD ALL RECENT") == b"* SEARCH"
        assert search(raw, b"C4", b"SEARCH YOUNGER 3600") == b"* SEARCH 1 2 3 4"
        assert search(raw, b"C5", b"SEARCH OLDER 3600") == b"* SEARCH"

    await in_thread(run)


async def test_dates_internal_and_sent(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw()
        # Sent at 07:00 +0800 on 2 January, which is still 1 January in UTC: SENTON uses the header's own day.
        append(raw, b"P1", mail("early", "a", date="Tue, 2 Jan 2024 07:00:00 +0800"),
               date=b"01-Jan-2020 10:00:00 +0000")
        append(raw, b"P2", mail("late", "b", date="Fri, 5 Jan 2024 12:00:00 +0000"),
               date=b"03-Jan-2020 23:30:00 +0000")
        append(raw, b"P3", b"Subject: no date\r\n\r\nc\r\n", date=b"10-Mar-2021 08:00:00 +0000")
        assert raw.command(b"N", b"NOOP")[-1].startswith(b"N OK")
        assert search(raw, b"D1", b"SEARCH BEFORE 3-Jan-2020") == b"* SEARCH 1"
        assert search(raw, b"D2", b"SEARCH ON 3-Jan-2020") == b"* SEARCH 2"
        assert search(raw, b"D3", b"SEARCH SINCE 3-Jan-2020") == b"* SEARCH 2 3"
        assert search(raw, b"D4", b"SEARCH SENTON 2-Jan-2024") == b"* SEARCH 1"
        assert search(raw, b"D5", b"SEARCH SENTBEFORE 2-Jan-2024") == b"* SEARCH 3"  # No Date: the internal date.
        assert search(raw, b"D6", b"SEARCH SENTSINCE 3-Jan-2024") == b"* SEARCH 2"
        assert raw.command(b"D7", b"SEARCH ON 31-Feb-2020")[-1].startswith(b"D7 BAD")

    await in_thread(run)


async def test_headers_and_verified_substrings(imap: ImapEnv) -> None:
    await imap.deliver(mail("Quarterly report", "hello world, see the figures", extra="X-Project: Apollo-7\r\n"))
    await imap.deliver(mail("Re: lunch", "hello, world; lunch at noon"))
    await imap.deliver(message("plain"))

    def run() -> None:
        raw = imap.raw()
        assert search(raw, b"H1", b"SEARCH SUBJECT report") == b"* SEARCH 1"
        assert search(raw, b"H2", b"SEARCH SUBJECT REP") == b"* SEARCH 1"  # Case-insensitive, word start.
        assert search(raw, b"H3", b'SEARCH SUBJECT "re: lunch"') == b"* SEARCH 2"
        # The index finds both "hello" and "world" in both; only the first holds the substring "hello world".
        assert search(raw, b"H4", b'SEARCH BODY "hello world"') == b"* SEARCH 1"
        assert search(raw, b"H5", b'SEARCH TEXT "hello world"') == b"* SEARCH 1"
        assert search(raw, b"H6", b"SEARCH FROM bob@example.org") == b"* SEARCH 1 2 3"
        assert search(raw, b"H7", b'SEARCH FROM "Bob Lee"') == b"* SEARCH 1 2"
        assert search(raw, b"H8", b"SEARCH CC carol") == b"* SEARCH 1 2"
        assert search(raw, b"H9", b"SEARCH BCC carol") == b"* SEARCH"
        assert search(raw, b"I1", b"SEARCH TO alice") == b"* SEARCH 1 2 3"
        # A header the index does not hold: read from the messages.
        assert search(raw, b"I2", b"SEARCH HEADER X-Project apollo-7") == b"* SEARCH 1"
        assert search(raw, b"I3", b'SEARCH HEADER X-Project ""') == b"* SEARCH 1"
        assert search(raw, b"I4", b'SEARCH HEADER Message-ID ""') == b"* SEARCH 3"  # Only it has one.
        assert search(raw, b"I5", b"SEARCH NOT BODY lunch") == b"* SEARCH 1 3"
        assert search(raw, b"I6", b'SEARCH BODY ""') == b"* SEARCH 1 2 3"
        assert search(raw, b"I7", b"SEARCH OR SUBJECT plain BODY figures") == b"* SEARCH 1 3"

    await in_thread(run)


async def test_chinese_text_through_the_index(imap: ImapEnv) -> None:
    await imap.deliver(mail("北京会议通知", "各位同事：明天在北京开会，请准时参加。"))
    await imap.deliver(mail("上海项目", "项目进度正常", charset="gb18030"))
    await imap.deliver(mail("English only", "nothing in Chinese here"))
    # A name in RFC 2047 and an 8-bit subject of two words (a literal inside the cached ENVELOPE).
    await imap.deliver(mail("季度 总结", "内容", extra="Reply-To: Bob <bob@example.org>\r\n")
                       .replace(b"From: Bob Lee <bob@example.org>", b"From: =?UTF-8?B?5byg5LiJ?= <zhang@example.cn>"))

    def run() -> None:
        raw = imap.raw()
        lines = search_literal(raw, b"Z1", b"SEARCH CHARSET UTF-8 SUBJECT", "会议".encode())
        assert lines == [b"* SEARCH 1", b"Z1 OK search completed"]
        lines = search_literal(raw, b"Z2", b"SEARCH CHARSET UTF-8 BODY", "北京".encode())
        assert lines[0] == b"* SEARCH 1"
        # A word inside a longer run: 开会 in 北京开会.
        assert search_literal(raw, b"Z3", b"UID SEARCH CHARSET UTF-8 TEXT", "开会".encode())[0] == b"* SEARCH 1"
        # One character, and the end of a run.
        assert search_literal(raw, b"Z4", b"SEARCH CHARSET UTF-8 BODY", "加".encode())[0] == b"* SEARCH 1"
        # A GB18030 message found with a GB18030 search string, and with UTF-8.
        assert search_literal(raw, b"Z5", b"SEARCH CHARSET GB18030 BODY", "进度".encode("gb18030"))[0] == \
            b"* SEARCH 2"
        assert search_literal(raw, b"Z6", b"SEARCH CHARSET GB2312 SUBJECT", "上海".encode("gb2312"))[0] == \
            b"* SEARCH 2"
        assert search_literal(raw, b"Z7", b"SEARCH CHARSET UTF-8 BODY", "广州".encode())[0] == b"* SEARCH"
        # Across punctuation the characters are not adjacent: 同事明天 is not a substring.
        assert search_literal(raw, b"Z8", b"SEARCH CHARSET UTF-8 BODY", "同事明天".encode())[0] == b"* SEARCH"
        # Invalid bytes for the announced charset, and an unknown charset: refused, the session goes on.
        assert search_literal(raw, b"Z9", b"SEARCH CHARSET UTF-8 BODY", b"\xff\xfe")[-1].startswith(b"Z9 BAD")
        lines = raw.command(b"Y1", b"SEARCH CHARSET KOI8-R BODY x")
        assert lines[-1].startswith(b"Y1 NO [BADCHARSET (UTF-8 US-ASCII GB18030 GBK GB2312)]")
        assert raw.command(b"Y2", b"SEARCH FOO")[-1].startswith(b"Y2 BAD")
        assert search(raw, b"Y3", b"SEARCH ALL") == b"* SEARCH 1 2 3 4"
        # FROM and SUBJECT are decided on the envelope, names decoded.
        assert search_literal(raw, b"X1", b"SEARCH CHARSET UTF-8 FROM", "张三".encode())[0] == b"* SEARCH 4"
        lines = search_literal(raw, b"X2", b"SEARCH CHARSET UTF-8 FROM", "张三 <zhang@".encode())
        assert lines[0] == b"* SEARCH 4"
        assert search_literal(raw, b"X3", b"SEARCH CHARSET UTF-8 SUBJECT", "季度 总结".encode())[0] == b"* SEARCH 4"
        assert search_literal(raw, b"X4", b"SEARCH CHARSET UTF-8 SUBJECT", "季度总结".encode())[0] == b"* SEARCH"
        # Bob is in the Reply-To of message 4 (the index holds it with the sender), which FROM does not look at.
        assert search(raw, b"X5", b"SEARCH FROM zhang") == b"* SEARCH 4"
        assert search(raw, b"X6", b"SEARCH FROM bob") == b"* SEARCH 1 2 3"
        assert search(raw, b"X7", b"SEARCH NOT FROM bob") == b"* SEARCH 4"

    await in_thread(run)


async def test_esearch_and_searchres(imap: ImapEnv) -> None:
    for i in range(1, 7):
        await imap.deliver(message(f"e{i}"))

    def run() -> None:
        raw = imap.raw()
        assert raw.command(b"A0", b"STORE 2:4,6 +FLAGS (\\Seen)")[-1].startswith(b"A0 OK")
        assert raw.command(b"E1", b"UID SEARCH RETURN (MIN MAX COUNT ALL) SEEN") == [
            b'* ESEARCH (TAG "E1") UID MIN 2 MAX 6 ALL 2:4,6 COUNT 4', b"E1 OK search completed"]
        assert raw.command(b"E2", b"SEARCH RETURN () UNSEEN") == [
            b'* ESEARCH (TAG "E2") ALL 1,5', b"E2 OK search completed"]
        assert raw.command(b"E3", b"SEARCH RETURN (COUNT) DELETED") == [
            b'* ESEARCH (TAG "E3") COUNT 0', b"E3 OK search completed"]
        assert raw.command(b"E4", b"SEARCH RETURN (MIN) DELETED") == [
            b'* ESEARCH (TAG "E4")', b"E4 OK search completed"]
        # SEARCHRES: SAVE alone answers nothing; `$` then names the saved messages in FETCH, STORE and SEARCH.
        assert raw.command(b"S1", b"SEARCH RETURN (SAVE) UNSEEN") == [b"S1 OK search completed, result saved"]
        assert raw.command(b"S2", b"FETCH $ (UID)") == [
            b"* 1 FETCH (UID 1)", b"* 5 FETCH (UID 5)", b"S2 OK fetch completed"]
        assert raw.command(b"S3", b"UID SEARCH UID $ 3:*") == [b"* SEARCH 5", b"S3 OK search completed"]
        assert raw.command(b"S4", b"STORE $ +FLAGS.SILENT (\\Flagged)") == [b"S4 OK store completed"]
        assert search(raw, b"S5", b"SEARCH FLAGGED") == b"* SEARCH 1 5"
        # SAVE with MIN only keeps the smallest.
        assert raw.command(b"S6", b"SEARCH RETURN (SAVE MIN) SEEN") == [
            b'* ESEARCH (TAG "S6") MIN 2', b"S6 OK search completed"]
        assert raw.command(b"S7", b"FETCH $ (UID)") == [b"* 2 FETCH (UID 2)", b"S7 OK fetch completed"]
        assert raw.command(b"S8", b"SEARCH RETURN (SAVE) SENTSINCE 1-Foo-2000")[-1].startswith(b"S8 BAD")
        # RFC 5182 §2.1: a SEARCH with SAVE that failed, even with BAD, leaves the saved result empty.
        assert raw.command(b"S8a", b"FETCH $ (UID)") == [b"S8a OK fetch completed"]
        assert raw.command(b"S9", b"SEARCH RETURN (SAVE) UNKEYWORD")[-1].startswith(b"S9 BAD")
        # A fresh SELECT clears the saved result.
        assert raw.command(b"T1", b"SELECT INBOX")[-1].startswith(b"T1 OK")
        assert raw.command(b"T2", b"FETCH $ (UID)") == [b"T2 OK fetch completed"]

    await in_thread(run)


async def test_second_session_changes_and_new_mail(imap: ImapEnv) -> None:
    await imap.deliver(message("one"))
    await imap.deliver(message("two"))

    def first_part() -> tuple[RawClient, RawClient]:
        one = imap.raw()
        two = imap.raw()
        assert two.command(b"B1", b"STORE 2 +FLAGS (\\Flagged)")[-1].startswith(b"B1 OK")
        assert two.command(b"B2", b"STORE 1 +FLAGS (\\Deleted)")[-1].startswith(b"B2 OK")
        assert two.command(b"B3", b"EXPUNGE")[-1].startswith(b"B3 OK")
        # By number, the EXPUNGE is held back: the search is answered in the old numbering.
        lines = one.command(b"A1", b"SEARCH FLAGGED")
        assert b"* SEARCH 2" in lines and not any(line.endswith(b"EXPUNGE") for line in lines)
        lines = one.command(b"A2", b"UID SEARCH FLAGGED")
        assert lines[-2:] == [b"* SEARCH 2", b"A2 OK search completed"] and b"* 1 EXPUNGE" in lines
        return one, two

    one, _ = await in_thread(first_part)
    await imap.deliver(message("three", "新邮件"))

    def second_part() -> None:
        lines = one.command(b"A3", b"SEARCH CHARSET UTF-8 ALL")
        assert lines == [b"* 2 EXISTS", b"* SEARCH 1 2", b"A3 OK search completed"]
        assert search_literal(one, b"A4", b"UID SEARCH CHARSET UTF-8 BODY", "邮件".encode())[-2] == b"* SEARCH 3"

    await in_thread(second_part)
