"""The command parser against commands real clients send (Thunderbird, iOS Mail, mbsync, K-9, NeoMutt, Outlook),
the RFC examples, refusals with the right tag and BAD/NO, and fuzzing: only ParseError ever escapes."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import search as sk
from yizhan.protocols.imap.errors import ParseError
from yizhan.protocols.imap.parser import parse_command, parse_sasl_response
from yizhan.protocols.imap.reader import CommandFrame, CommandReader, FramingLimits
from yizhan.protocols.imap.sequence import parse_sequence_set

ALL = parse_sequence_set("1:*")
THUNDERBIRD_HEADERS = ("From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "Priority", "X-Priority",
                       "References", "Newsgroups", "In-Reply-To", "Content-Type", "Reply-To")


def seq(text: str) -> c.SequenceSet:
    return parse_sequence_set(text)


CLIENT_COMMANDS: list[tuple[bytes, c.Command]] = [
    # Thunderbird desktop.
    (b"1 capability", c.Capability("1")),
    (b"2 authenticate PLAIN AGFsaWNlAHBhc3N3b3JkMQ==", c.Authenticate("2", "PLAIN", b"\x00alice\x00password1")),
    (b"2 AUTHENTICATE PLAIN", c.Authenticate("2", "PLAIN", None)),
    (b"2 AUTHENTICATE EXTERNAL =", c.Authenticate("2", "EXTERNAL", b"")),
    (b"3 ENABLE CONDSTORE QRESYNC", c.Enable("3", ("CONDSTORE", "QRESYNC"))),
    (b'4 ID ("name" "Thunderbird" "version" "115.3.1")', c.Id("4", (("name", "Thunderbird"), ("version", "115.3.1")))),
    (b'5 list (subscribed) "" "*" return (special-use)',
     c.List("5", "", ("*",), frozenset({"SUBSCRIBED"}), frozenset({"SPECIAL-USE"}), (), True)),
    (b'6 select "INBOX" (CONDSTORE)', c.Select("6", "INBOX", condstore=True)),
    (b"7 UID fetch 1:* (FLAGS) (CHANGEDSINCE 12345)",
     c.Fetch("7", ALL, (c.FetchAttr("UID"), c.FetchAttr("FLAGS"), c.FetchAttr("MODSEQ")), True, 12345)),
    (b"8 UID fetch 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (" + " ".join(THUNDERBIRD_HEADERS).encode()
     + b")])",
     c.Fetch("8", ALL, (c.FetchAttr("UID"), c.FetchAttr("RFC822.SIZE"), c.FetchAttr("FLAGS"),
                        c.FetchBody(c.Section((), "HEADER.FIELDS", THUNDERBIRD_HEADERS), None, True)), True)),
    (b"9 uid store 3 +Flags (\\Seen)", c.Store("9", seq("3"), "add", ("\\Seen",), uid=True)),
    (b"10 IDLE", c.Idle("10")),
    (b"DONE", c.Done("")),
    (b"done", c.Done("")),
    (b'11 UID MOVE 3:4 "Trash"', c.Move("11", seq("3:4"), "Trash", True)),
    (b"12 COMPRESS DEFLATE", c.Compress("12", "DEFLATE")),
    # iOS Mail.
    (b"1.1 UID FETCH 1:* (BODY.PEEK[]<0.393216>)",
     c.Fetch("1.1", ALL, (c.FetchAttr("UID"), c.FetchBody(c.Section(), (0, 393216), True)), True)),
    (b"6 UID SEARCH 1:* NOT DELETED", c.Search("6", sk.And((sk.Sequence(ALL), sk.Not(sk.Flag("\\Deleted")))), True)),
    (b'7 ID ("name" "iPhone Mail" "os" "iOS" "os-version" "16.4.1 (20E252)")',
     c.Id("7", (("name", "iPhone Mail"), ("os", "iOS"), ("os-version", "16.4.1 (20E252)")))),
    # mbsync.
    (b'3 LOGIN alice "pass\\"word\\\\"', c.Login("3", "alice", 'pass"word\\')),
    (b"4 NAMESPACE", c.Namespace("4")),
    (b'5 LIST "" "*"', c.List("5", "", ("*",))),
    (b"6 UID FETCH 5:* (UID BODY.PEEK[HEADER.FIELDS (X-TUID)])",
     c.Fetch("6", seq("5:*"), (c.FetchAttr("UID"), c.FetchBody(c.Section((), "HEADER.FIELDS", ("X-TUID",)),
                                                                None, True)), True)),
    (b"7 UID SEARCH HEADER X-TUID Aa0_xx", c.Search("7", sk.Header("x-tuid", "Aa0_xx"), True)),
    (b"8 UID STORE 5 +FLAGS.SILENT (\\Deleted)", c.Store("8", seq("5"), "add", ("\\Deleted",), True, True)),
    (b"9 UID EXPUNGE 5,7:9", c.UidExpunge("9", seq("5,7:9"))),
    (b'10 APPEND "INBOX" (\\Seen \\Flagged) {6+}\r\nHi\r\n\r\n',
     c.Append("10", "INBOX", (c.AppendMessage(b"Hi\r\n\r\n", ("\\Seen", "\\Flagged")),))),
    # K-9 / Thunderbird for Android.
    (b"7 ENABLE UTF8=ACCEPT", c.Enable("7", ("UTF8=ACCEPT",))),
    (b"8 UID FETCH 5 (UID BODYSTRUCTURE)", c.Fetch("8", seq("5"), (c.FetchAttr("UID"), c.FetchAttr("BODYSTRUCTURE")),
                                                   True)),
    (b"9 UID FETCH 5 (UID BODY.PEEK[1.2]<0.4096>)",
     c.Fetch("9", seq("5"), (c.FetchAttr("UID"), c.FetchBody(c.Section((1, 2)), (0, 4096), True)), True)),
    (b"10 UID FETCH 5 (UID BODY.PEEK[1.MIME] BODY.PEEK[1.TEXT] BODY[2.HEADER])",
     c.Fetch("10", seq("5"), (c.FetchAttr("UID"), c.FetchBody(c.Section((1,), "MIME"), None, True),
                              c.FetchBody(c.Section((1,), "TEXT"), None, True),
                              c.FetchBody(c.Section((2,), "HEADER"))), True)),
    # NeoMutt.
    (b'a0004 SELECT "INBOX" (QRESYNC (1593700000 6 1:30))',
     c.Select("a0004", "INBOX", qresync=c.QResync(1593700000, 6, seq("1:30")))),
    (b"a0005 UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 6 VANISHED)",
     c.Fetch("a0005", ALL, (c.FetchAttr("UID"), c.FetchAttr("FLAGS"), c.FetchAttr("MODSEQ")), True, 6, True)),
    (b'a0006 STATUS "INBOX" (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)',
     c.Status("a0006", "INBOX", ("MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ"))),
    # Outlook.
    (b"a EXAMINE inbox", c.Examine("a", "INBOX")),
    (b"b FETCH 1:* (UID)", c.Fetch("b", ALL, (c.FetchAttr("UID"),))),
    # The brief's examples and the RFCs'.
    (b'A2 LIST "" "*" RETURN (SPECIAL-USE SUBSCRIBED CHILDREN STATUS (MESSAGES UNSEEN))',
     c.List("A2", "", ("*",), frozenset(), frozenset({"SPECIAL-USE", "SUBSCRIBED", "CHILDREN", "STATUS"}),
            ("MESSAGES", "UNSEEN"), True)),
    ("A3 SEARCH CHARSET UTF-8 TEXT {6+}\r\n北京".encode(), c.Search("A3", sk.Text("北京"), charset="UTF-8")),
    (b'A4 SEARCH CHARSET GB2312 SUBJECT "\xb1\xb1\xbe\xa9"',
     c.Search("A4", sk.Header("subject", "北京"), charset="GB2312")),
    (b"A5 LIST (REMOTE SUBSCRIBED RECURSIVEMATCH) \"\" (\"INBOX\" \"Sent*\")",
     c.List("A5", "", ("INBOX", "Sent*"), frozenset({"REMOTE", "SUBSCRIBED", "RECURSIVEMATCH"}), frozenset(), (),
            True)),
    (b"A6 LSUB \"#news.\" \"comp.mail.*\"", c.Lsub("A6", "#news.", "comp.mail.*")),
    (b"A7 CREATE Entw&APw-rfe (USE (\\Drafts))", c.Create("A7", "Entwürfe", ("\\Drafts",))),
    (b"A8 RENAME blurdybloop sarasoop", c.Rename("A8", "blurdybloop", "sarasoop")),
    (b"A9 SUBSCRIBE #news.comp.mail.mime", c.Subscribe("A9", "#news.comp.mail.mime")),
    (b"A10 UNSUBSCRIBE x", c.Unsubscribe("A10", "x")),
    (b"A11 DELETE foo/bar", c.Delete("A11", "foo/bar")),
    (b"A12 FETCH 2:4 ALL",
     c.Fetch("A12", seq("2:4"), (c.FetchAttr("FLAGS"), c.FetchAttr("INTERNALDATE"), c.FetchAttr("RFC822.SIZE"),
                                 c.FetchAttr("ENVELOPE")))),
    (b"A13 FETCH 1 full", c.Fetch("A13", seq("1"), (
        c.FetchAttr("FLAGS"), c.FetchAttr("INTERNALDATE"), c.FetchAttr("RFC822.SIZE"), c.FetchAttr("ENVELOPE"),
        c.FetchAttr("BODY")))),
    (b"A14 FETCH 3 (BINARY.PEEK[1.2]<0.100> BINARY.SIZE[1] BINARY[])",
     c.Fetch("A14", seq("3"), (c.FetchBinary((1, 2), (0, 100), True), c.FetchBinary((1,), size=True),
                               c.FetchBinary()))),
    (b"A15 FETCH 3 BODY[HEADER.FIELDS.NOT (Received)]",
     c.Fetch("A15", seq("3"), (c.FetchBody(c.Section((), "HEADER.FIELDS.NOT", ("Received",))),))),
    (b"A16 STORE 2:4 (UNCHANGEDSINCE 320162338) -FLAGS.SILENT \\Deleted $Junk",
     c.Store("A16", seq("2:4"), "remove", ("\\Deleted", "$Junk"), True, False, 320162338)),
    (b"A17 STORE 1 FLAGS ()", c.Store("A17", seq("1"), "replace", ())),
    (b"A18 COPY 2:4 MEETING", c.Copy("A18", seq("2:4"), "MEETING")),
    (b"A19 UID COPY $ Archive", c.Copy("A19", parse_sequence_set("$"), "Archive", True)),
    (b"A20 CHECK", c.Check("A20")), (b"A21 CLOSE", c.Close("A21")), (b"A22 UNSELECT", c.Unselect("A22")),
    (b"A23 EXPUNGE", c.Expunge("A23")), (b"A24 LOGOUT", c.Logout("A24")), (b"A25 STARTTLS", c.StartTls("A25")),
    (b"A26 NOOP", c.Noop("A26")), (b"A27 ID NIL", c.Id("A27", None)),
    (b"A28 SEARCH RETURN () FLAGGED", c.Search("A28", sk.Flag("\\Flagged"), return_options=("ALL",))),
    (b"A29 UID SEARCH RETURN (SAVE MIN) SINCE 1-Feb-1994 NOT FROM \"Smith\"",
     c.Search("A29", sk.And((sk.Date("since", datetime.date(1994, 2, 1)), sk.Not(sk.Header("from", "Smith")))),
              True, None, ("SAVE", "MIN"))),
    (b"A30 SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338",
     c.Search("A30", sk.ModSeq(620162338, "/flags/\\draft", "all"))),
    (b"A31 SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:10 41:50)))",
     c.Select("A31", "INBOX", qresync=c.QResync(67890007, 90060115194045000, seq("41:211,214:541"),
                                                 (seq("1:10"), seq("41:50"))))),
    (b'A32 APPEND saved-messages (\\Seen) " 7-Feb-1994 21:52:25 -0800" {3}\r\nabc (\\Draft) ~{2+}\r\nx\x00'
     b' UTF8 (~{1}\r\ny)',
     c.Append("A32", "saved-messages", (
         c.AppendMessage(b"abc", ("\\Seen",), datetime.datetime(1994, 2, 7, 21, 52, 25,
                                                                  tzinfo=datetime.timezone(datetime.timedelta(hours=-8)))),
         c.AppendMessage(b"x\x00", ("\\Draft",), None, True),
         c.AppendMessage(b"y", (), None, True, True)))),
]


@pytest.mark.parametrize(("data", "expected"), CLIENT_COMMANDS, ids=[d[:40].decode("latin-1") for d, _ in
                                                                      CLIENT_COMMANDS])
def test_client_commands(data: bytes, expected: c.Command) -> None:
    assert parse_command(data) == expected


def test_every_search_criterion() -> None:
    text = (b"A1 SEARCH ALL ANSWERED BCC b BEFORE 1-Jan-2024 BODY body CC c DELETED DRAFT FLAGGED FROM f "
            b"HEADER Message-ID <x@y> KEYWORD $Work LARGER 100 NEW NOT SEEN OLD ON \"2-Feb-2024\" "
            b"OR SEEN UNSEEN RECENT SEEN SENTBEFORE 1-Jan-2020 SENTON 2-Jan-2020 SENTSINCE 3-Jan-2020 "
            b"SINCE 4-Jan-2024 SMALLER 5000 SUBJECT s TEXT t TO t2 UID 1:5 UNANSWERED UNDELETED UNDRAFT "
            b"UNFLAGGED UNKEYWORD $Junk UNSEEN 2,4 $ MODSEQ 7 OLDER 3600 YOUNGER 60 (SEEN FLAGGED)")
    command = parse_command(text)
    assert isinstance(command, c.Search)
    assert isinstance(command.criteria, sk.And)
    d = datetime.date
    assert command.criteria.keys == (
        sk.All(), sk.Flag("\\Answered"), sk.Header("bcc", "b"), sk.Date("before", d(2024, 1, 1)),
        sk.Text("body", True), sk.Header("cc", "c"), sk.Flag("\\Deleted"), sk.Flag("\\Draft"), sk.Flag("\\Flagged"),
        sk.Header("from", "f"), sk.Header("message-id", "<x@y>"), sk.Flag("$Work"), sk.Size("larger", 100), sk.New(),
        sk.Not(sk.Flag("\\Seen")), sk.Old(), sk.Date("on", d(2024, 2, 2)),
        sk.Or(sk.Flag("\\Seen"), sk.Flag("\\Seen", False)), sk.Recent(), sk.Flag("\\Seen"),
        sk.Date("before", d(2020, 1, 1), True), sk.Date("on", d(2020, 1, 2), True),
        sk.Date("since", d(2020, 1, 3), True), sk.Date("since", d(2024, 1, 4)), sk.Size("smaller", 5000),
        sk.Header("subject", "s"), sk.Text("t"), sk.Header("to", "t2"), sk.Sequence(seq("1:5"), True),
        sk.Flag("\\Answered", False), sk.Flag("\\Deleted", False), sk.Flag("\\Draft", False),
        sk.Flag("\\Flagged", False), sk.Flag("$Junk", False), sk.Flag("\\Seen", False), sk.Sequence(seq("2,4")),
        sk.Sequence(parse_sequence_set("$")), sk.ModSeq(7), sk.Age("older", 3600), sk.Age("younger", 60),
        sk.And((sk.Flag("\\Seen"), sk.Flag("\\Flagged"))),
    )


def test_mailbox_names_utf7_and_utf8() -> None:
    assert parse_command(b"A1 SELECT &XfJT0ZAB-") == c.Select("A1", "已发送")
    assert parse_command('A1 SELECT "已发送"'.encode(), utf8=True) == c.Select("A1", "已发送")
    with pytest.raises(ParseError):
        parse_command("A1 SELECT 已发送".encode(), utf8=True)  # Atoms stay ASCII (RFC 6855 §3).
    assert parse_command(b"A1 SELECT &XfJT0ZAB-", utf8=True) == c.Select("A1", "&XfJT0ZAB-")
    assert parse_command(b'A1 LIST "" "&XfJT0ZAB-/%"') == c.List("A1", "", ("已发送/%",))
    assert parse_command(b"A1 STATUS iNbOx (SIZE)") == c.Status("A1", "INBOX", ("SIZE",))


def test_sasl_responses() -> None:
    assert parse_sasl_response(b"AGFsaWNlAHg=\r\n") == b"\x00alice\x00x"
    assert parse_sasl_response(b"*") is None
    assert parse_sasl_response(b"") == b""
    with pytest.raises(ParseError):
        parse_sasl_response(b"not base64!")


REFUSED: list[tuple[bytes, str | None]] = [
    (b"A1 FOO", "A1"),
    (b"A1 NOOP extra", "A1"),
    (b"+ NOOP", None),
    (b"", None),
    (b"A1", "A1"),
    (b"A1  NOOP", "A1"),
    (b"A1 LOGIN {5}\r\nabc", "A1"),  # Literal shorter than announced.
    (b"A1 LOGIN {5-}", "A1"),  # RFC 7888 has no "{n-}".
    (b"A1 LOGIN {3}\r\na\x00b x", "A1"),  # NUL in a string literal.
    (b'A1 LOGIN "abc x', "A1"),
    (b'A1 LOGIN "a\\b" x', "A1"),
    (b"A1 SELECT &Jjo!", "A1"),
    (b"A1 SELECT &U,BTFw", "A1"),
    ("A1 SELECT 日本".encode(), "A1"),  # 8-bit without UTF8=ACCEPT.
    (b"A1 SELECT \xff", "A1"),
    (b"A1 FETCH 1 (BODY[1.MIMEX])", "A1"),
    (b"A1 FETCH 1 (BODY[MIME])", "A1"),
    (b"A1 FETCH 1 (BODY[0])", "A1"),
    (b"A1 FETCH 1 BODY[]<5.0>", "A1"),
    (b"A1 FETCH 1 BODY.PEEK", "A1"),
    (b"A1 FETCH 1 (BODY[HEADER.FIELDS ()])", "A1"),
    (b"A1 FETCH 0 FLAGS", "A1"),
    (b"A1 FETCH 1 (FLAGS", "A1"),
    (b"A1 FETCH 1 (FOO)", "A1"),
    (b"A1 FETCH 1 FLAGS (VANISHED)", "A1"),
    (b"A1 UID FETCH 1 FLAGS (VANISHED)", "A1"),  # VANISHED needs CHANGEDSINCE (RFC 7162 §3.2.6).
    (b"A1 FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)", "A1"),  # VANISHED needs UID FETCH.
    (b"A1 STORE 1 +FLAGS (\\Recent)", "A1"),
    (b"A1 STORE 1 FLAGZ (\\Seen)", "A1"),
    (b"A1 LIST (RECURSIVEMATCH) \"\" *", "A1"),
    (b"A1 LIST (BOGUS) \"\" *", "A1"),
    (b"A1 LIST \"\" * RETURN (STATUS ())", "A1"),
    (b"A1 STATUS INBOX (FOO)", "A1"),
    (b"A1 STATUS INBOX ()", "A1"),
    (b"A1 AUTHENTICATE PLAIN abc!", "A1"),
    (b"A1 AUTHENTICATE PLAIN abc", "A1"),
    (b"A1 SEARCH", "A1"),
    (b"A1 SEARCH FOO", "A1"),
    (b"A1 SEARCH SINCE 31-Feb-2024", "A1"),
    (b"A1 SEARCH SINCE 1-Foo-2024", "A1"),
    (b"A1 SEARCH LARGER 99999999999999999999999999", "A1"),
    (b"A1 SEARCH RETURN (PARTIAL 1:10) ALL", "A1"),
    (b"A1 SEARCH (SEEN", "A1"),
    (b"A1 SEARCH MODSEQ \"/flags/x\" bogus 5", "A1"),
    (b"A1 APPEND INBOX", "A1"),
    (b'A1 APPEND INBOX "31-Feb-2024 00:00:00 +0000" {1}\r\nx', "A1"),
    (b"A1 APPEND INBOX UTF8 ({1}\r\nx)", "A1"),
    (b"A1 SELECT INBOX (QRESYNC (0 1))", "A1"),
    (b"A1 SELECT INBOX (BOGUS)", "A1"),
    (b"A1 UID FOO 1", "A1"),
    (b"A1 UID EXPUNGE", "A1"),
    (b"A1 ENABLE", "A1"),
    (b"A1 ID (" + b'"k" "v" ' * 31 + b")", "A1"),
    (b"A1 CREATE x (USE (\\Sent)", "A1"),
    (b"A1 COPY 1:2", "A1"),
]


@pytest.mark.parametrize(("data", "tag"), REFUSED, ids=[d[:40].decode("latin-1") for d, _ in REFUSED])
def test_refused_with_bad_and_tag(data: bytes, tag: str | None) -> None:
    with pytest.raises(ParseError) as info:
        parse_command(data)
    assert info.value.tag == tag
    assert info.value.bad


def test_unsupported_charset_is_no_badcharset() -> None:
    with pytest.raises(ParseError) as info:
        parse_command(b"A1 SEARCH CHARSET KOI8-R TEXT x")
    assert (info.value.tag, info.value.bad) == ("A1", False)
    assert info.value.code is not None and info.value.code.startswith("BADCHARSET (UTF-8")


@pytest.mark.parametrize("depth", [65, 10_000])
def test_deep_nesting_is_a_parse_error(depth: int) -> None:
    for data in (b"A1 SEARCH " + b"(" * depth + b"ALL" + b")" * depth,
                 b"A1 SEARCH " + b"NOT " * depth + b"ALL",
                 b"A1 SEARCH " + b"OR ALL " * depth + b"ALL"):
        with pytest.raises(ParseError) as info:
            parse_command(data)
        assert info.value.tag == "A1"


def test_moderate_nesting_is_fine() -> None:
    command = parse_command(b"A1 SEARCH " + b"(" * 60 + b"ALL" + b")" * 60)
    assert command == c.Search("A1", sk.All())


VALID_CORPUS = [data for data, _ in CLIENT_COMMANDS]


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_parse_error(data: bytes) -> None:
    for utf8 in (False, True):
        try:
            parse_command(data, utf8=utf8)
        except ParseError:
            pass


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(VALID_CORPUS),
       st.lists(st.tuples(st.integers(0, 400), st.integers(0, 3), st.binary(min_size=0, max_size=4)), max_size=4))
def test_mutated_commands_raise_only_parse_error(data: bytes, edits: list[tuple[int, int, bytes]]) -> None:
    mutated = bytearray(data)
    for position, kind, chunk in edits:
        at = position % (len(mutated) + 1)
        if kind == 0:
            mutated[at:at] = chunk  # Insert.
        elif kind == 1:
            del mutated[at:at + len(chunk) + 1]  # Delete.
        elif kind == 2:
            mutated[at:at + len(chunk)] = chunk  # Overwrite.
        else:
            mutated[at:at] = b" ()[]{}<>\"\\*%.:,$~+-\r\n0"[position % 24:position % 24 + 1]
    for utf8 in (False, True):
        try:
            command = parse_command(bytes(mutated), utf8=utf8)
        except ParseError as exc:
            assert isinstance(exc.message, str)
        else:
            assert isinstance(command, c.Command)


HOSTILE = [b"A1 SEARCH " + b"(" * 10_000, b"A2 LOGIN {5}", b"\xff\xfe", b"A3 APPEND INBOX {104857600+}",
           b"A4 FETCH 1 (BODY[HEADER.FIELDS"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*VALID_CORPUS, *HOSTILE]), min_size=1, max_size=8), st.integers(1, 50))
def test_framer_then_parser_on_pipelined_streams(commands: list[bytes], chunk: int) -> None:
    # What a session does: frame the byte stream, parse each frame; only framing events and ParseError appear.
    stream = b"\r\n".join(commands) + b"\r\n"
    reader = CommandReader(FramingLimits(max_line=20_000, max_literal=1024, max_command=4096))
    for start in range(0, len(stream), chunk):
        reader.feed(stream[start:start + chunk])
        while (event := reader.next_event()) is not None:
            if isinstance(event, CommandFrame):
                try:
                    parse_command(event.data)
                except ParseError:
                    pass
