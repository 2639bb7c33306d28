"""The response writer: string forms (atom, quoted, literal; UTF-8 only with UTF8=ACCEPT), NIL, lists, codes,
status lines, FETCH responses with ENVELOPE/BODYSTRUCTURE from mail.imapformat, and round trips through the parser."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yizhan.mail.imapformat import imap_structure
from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.parser import parse_command
from yizhan.protocols.imap.sequence import parse_sequence_set


@pytest.mark.parametrize(
    ("text", "utf8", "expected"),
    [
        ("hello", False, b'"hello"'),
        ("", False, b'""'),
        ('say "hi" \\o/', False, b'"say \\"hi\\" \\\\o/"'),
        ("北京", False, b"{6}\r\n\xe5\x8c\x97\xe4\xba\xac"),
        ("北京", True, '"北京"'.encode()),
        ("two\r\nlines", False, b"{10}\r\ntwo\r\nlines"),
        ("two\r\nlines", True, b"{10}\r\ntwo\r\nlines"),
        ("nul\x00gone", False, b'"nulgone"'),
    ],
)
def test_string_forms(text: str, utf8: bool, expected: bytes) -> None:
    assert r.string(text, utf8) == expected


def test_astring_nstring_and_render() -> None:
    assert r.astring("INBOX") == b"INBOX"
    assert r.astring("NIL") == b'"NIL"'
    assert r.astring("a b") == b'"a b"'
    assert r.nstring(None) == b"NIL"
    assert r.render([r.Atom("\\Seen"), 5, None, "x", [b"raw"]]) == b'(\\Seen 5 NIL "x" ("raw"))'
    assert r.render(b"line\r\n") == b"{6}\r\nline\r\n"
    assert r.render(b"x" * 2000) == b"{2000}\r\n" + b"x" * 2000
    assert r.render(r.Literal8(b"\x00\x01")) == b"~{2}\r\n\x00\x01"
    assert r.render([]) == b"()"
    with pytest.raises(ValueError):
        r.render(-1)
    with pytest.raises(TypeError):
        r.render(True)
    with pytest.raises(ValueError):
        r.Atom("OK\r\n* BYE")


def test_mailbox_names() -> None:
    assert r.mailbox("已发送") == b'"&XfJT0ZAB-"'
    assert r.mailbox("已发送", utf8=True) == '"已发送"'.encode()
    assert r.mailbox("A&B") == b'"A&-B"'


def test_status_lines_and_codes() -> None:
    assert r.tagged("A1", "OK", "SELECT completed", r.ResponseCode("READ-WRITE")) == (
        b"A1 OK [READ-WRITE] SELECT completed\r\n")
    assert r.untagged_status("OK", "UIDs valid", r.ResponseCode("UIDVALIDITY", 3857529045)) == (
        b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n")
    code = r.ResponseCode("PERMANENTFLAGS", r.flags(["\\Deleted", "\\Seen", "\\*"]))
    assert r.untagged_status("OK", "Limited", code) == b"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"
    assert r.tagged("A2", "NO", "nope", "BADCHARSET (UTF-8)") == b"A2 NO [BADCHARSET (UTF-8)] nope\r\n"
    assert r.tagged("A3", "BAD", "evil\r\nA4 OK injected") == b"A3 BAD evil A4 OK injected\r\n"
    copyuid = r.ResponseCode("COPYUID", 38505, r.Atom("304,319:320"), r.Atom("3956:3958"))
    assert r.tagged("A4", "OK", "Done", copyuid) == b"A4 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"
    assert r.continuation() == b"+ Ready\r\n"
    assert r.continuation("") == b"+ \r\n"
    assert r.untagged(172, r.Atom("EXISTS")) == b"* 172 EXISTS\r\n"
    assert r.untagged(r.Atom("FLAGS"), r.flags(["\\Answered", "\\Seen"])) == b"* FLAGS (\\Answered \\Seen)\r\n"


def test_list_status_search_lines() -> None:
    assert r.list_line("LIST", ["\\HasNoChildren", "\\Sent"], "/", "已发送") == (
        b'* LIST (\\HasNoChildren \\Sent) "/" "&XfJT0ZAB-"\r\n')
    assert r.list_line("LIST", ["\\Noselect"], None, "") == b'* LIST (\\Noselect) NIL ""\r\n'
    assert r.list_line("LIST", [], "/", "Sent", extra=[r.Atom("CHILDINFO"), ["SUBSCRIBED"]]) == (
        b'* LIST () "/" "Sent" (CHILDINFO ("SUBSCRIBED"))\r\n')
    assert r.status_line("INBOX", [("MESSAGES", 231), ("UIDNEXT", 44292)]) == (
        b'* STATUS "INBOX" (MESSAGES 231 UIDNEXT 44292)\r\n')
    assert r.search_line([2, 84, 882]) == b"* SEARCH 2 84 882\r\n"
    assert r.search_line([]) == b"* SEARCH\r\n"
    assert r.search_line([2], modseq=917162500) == b"* SEARCH 2 (MODSEQ 917162500)\r\n"
    assert r.esearch_line("A282", True, [("MIN", 2), ("COUNT", 3), ("ALL", parse_sequence_set("2,10:11"))]) == (
        b'* ESEARCH (TAG "A282") UID MIN 2 COUNT 3 ALL 2,10:11\r\n')
    assert r.vanished_line(parse_sequence_set("41,43:116"), earlier=True) == b"* VANISHED (EARLIER) 41,43:116\r\n"


def test_date_time() -> None:
    assert r.date_time(0) == b'"01-Jan-1970 00:00:00 +0000"'
    eight = datetime.timezone(datetime.timedelta(hours=8))
    assert r.date_time(datetime.datetime(2024, 2, 5, 9, 3, 7, tzinfo=eight)) == b'"05-Feb-2024 09:03:07 +0800"'
    west = datetime.timezone(-datetime.timedelta(hours=3, minutes=30))
    assert r.date_time(datetime.datetime(1994, 2, 7, 21, 52, 25, tzinfo=west)) == b'"07-Feb-1994 21:52:25 -0330"'


def test_fetch_keys_echo_the_request() -> None:
    command = parse_command(b"A1 UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)] BODY[]<0.393216> BINARY.PEEK[1]"
                            b" BINARY.SIZE[2] BODY[1.2.MIME] RFC822.SIZE)")
    assert isinstance(command, c.Fetch)
    keys = [r.fetch_key(item, 0 if getattr(item, "partial", None) else None) for item in command.items]
    assert keys == ["UID", "BODY[HEADER.FIELDS (From To)]", "BODY[]<0>", "BINARY[1]", "BINARY.SIZE[2]",
                    "BODY[1.2.MIME]", "RFC822.SIZE"]


def test_fetch_response_with_envelope_from_imapformat() -> None:
    raw = ("From: 王 <wang@example.com>\r\nSubject: 北京会议\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n").encode()
    envelope, _body, bodystructure = imap_structure(raw)
    line = r.fetch(12, [("UID", 5), ("FLAGS", r.flags(["\\Seen"])), ("ENVELOPE", r.Raw(envelope.encode())),
                        ("BODYSTRUCTURE", r.Raw(bodystructure.encode())), ("BODY[]<0>", raw[:10])])
    assert line.startswith(b"* 12 FETCH (UID 5 FLAGS (\\Seen) ENVELOPE (")
    assert b"{12}\r\n" + "北京会议".encode() in line  # 8-bit header text is a literal counting UTF-8 octets.
    assert line.endswith(b" BODY[]<0> {10}\r\n" + raw[:10] + b")\r\n")


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@given(_text, st.booleans())
def test_strings_round_trip_through_the_parser(text: str, utf8: bool) -> None:
    for form in (r.string(text, utf8), r.astring(text, utf8)):
        command = parse_command(b"A1 LOGIN " + form + b" " + r.string(text, utf8), utf8=utf8)
        assert command == c.Login("A1", text, text)


@given(_text.filter(lambda name: name.upper() != "INBOX"), st.booleans())
def test_mailbox_names_round_trip_through_the_parser(name: str, utf8: bool) -> None:
    assert parse_command(b"A1 SELECT " + r.mailbox(name, utf8), utf8=utf8) == c.Select("A1", name)
