"""searchtext: the cached ENVELOPE read back (quoted strings, literals counting UTF-8 octets, NIL), the Date header's
own day, and text criteria decided on a message; never raising on any input."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from yizhan.mail.parse import parse_message
from yizhan.protocols.imap import search as sk
from yizhan.protocols.imap.searchtext import check_envelope, check_text, parse_envelope, sent_day
from yizhan.store.imapsearch import SearchRow

RAW = ("From: =?UTF-8?B?5byg5LiJ?= <zhang@example.cn>\r\nTo: \"Lee, Bob\" <bob@example.org>, carol@example.net\r\n"
       "Subject: 季度 \"总结\"\r\nDate: Tue, 2 Jan 2024 07:00:00 +0800\r\nX-Tag: Apollo\r\n\r\n正文 body\r\n").encode()


def row(envelope: str, date: int = 0) -> SearchRow:
    return SearchRow(1, 1, (), 0, 0, date, "", envelope)


def test_envelope_read_back() -> None:
    envelope = parse_message(RAW).envelope
    fields = parse_envelope(envelope)
    assert fields is not None and len(fields) == 10
    assert fields[0] == "Tue, 2 Jan 2024 07:00:00 +0800"
    assert fields[5] == [["Lee, Bob", None, "bob", "example.org"], [None, None, "carol", "example.net"]]
    decided = check_envelope(envelope, [sk.Header("from", "张三 <zhang@"), sk.Header("subject", '季度 "总结"'),
                                        sk.Header("to", "lee, bob <bob"), sk.Header("cc", "x"),
                                        sk.Header("x-tag", "apollo")])
    assert decided == {sk.Header("from", "张三 <zhang@"): True, sk.Header("subject", '季度 "总结"'): True,
                       sk.Header("to", "lee, bob <bob"): True, sk.Header("cc", "x"): False}
    # The Date header's own day, not UTC's (which is 1 January).
    assert sent_day(row(envelope)) == datetime.date(2024, 1, 2)
    assert sent_day(row("(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)", 86400)) == datetime.date(1970, 1, 2)


def test_text_on_the_message() -> None:
    keys: list[sk.Header | sk.Text] = [sk.Header("x-tag", "APOLLO"), sk.Header("x-missing", ""), sk.Text("正文"),
                                       sk.Text("zhang@example", body_only=True), sk.Text("zhang@example")]
    assert check_text(RAW, keys) == {keys[0]: True, keys[1]: False, keys[2]: True, keys[3]: False, keys[4]: True}


@given(st.text(max_size=300))
def test_any_envelope_text_is_read_or_refused(text: str) -> None:
    fields = parse_envelope(text)
    assert fields is None or isinstance(fields, list)
    check_envelope(text, [sk.Header("from", "a"), sk.Header("subject", "b")])
    sent_day(row(text))


@given(st.binary(max_size=500), st.text(max_size=20))
def test_any_message_is_checked(raw: bytes, needle: str) -> None:
    keys: list[sk.Header | sk.Text] = [sk.Header("subject", needle), sk.Text(needle), sk.Text(needle, True)]
    assert set(check_text(raw, keys)) == set(keys)
