"""parse_message: decoded fields, body text, attachments, threading keys, and never raising."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.mail.malformed import MALFORMED_WORDS, malformed_corpus
from yizhan.mail.model import Address, ParsedMessage
from yizhan.mail.parse import MAX_BODY_TEXT, base_subject, parse_message


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


def _check_clean(parsed: ParsedMessage) -> None:
    """Every string is valid Unicode without NUL, so the store and index can take it as is."""
    for item in dataclasses.fields(parsed):
        value = getattr(parsed, item.name)
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            texts = [v.name, v.addr] if isinstance(v, Address) else [v] if isinstance(v, str) else []
            for text in texts:
                text.encode("utf-8")
                assert "\x00" not in text


FULL = _crlf(
    "Return-Path: <bounce@example.net>\n"
    "From: =?UTF-8?B?5byg5LiJ?= <zhang@example.net>\n"
    "Sender: list@example.net\n"
    "Reply-To: reply@example.net\n"
    'To: Bob <bob@example.com>, "Doe, John" <j@x.org>\n'
    "Cc: carol@example.com\n"
    "Bcc: secret@example.com\n"
    "Subject: =?UTF-8?B?5YyX?= =?UTF-8?B?5Lqs?= meeting\n"
    "Date: Tue, 1 Jul 2003 10:52:37 +0200\n"
    "Message-ID: <abc@example.net>\n"
    "In-Reply-To: <prev@example.com>\n"
    "References: <root@example.com>\n <prev@example.com>\n"
    'Content-Type: multipart/mixed; boundary="mix"\n'
    "\n"
    "--mix\n"
    'Content-Type: multipart/alternative; boundary="alt"\n\n'
    "--alt\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
    "Plain caf=C3=A9 text\n"
    "--alt\nContent-Type: text/html; charset=utf-8\n\n<p>HTML only words</p>\n"
    "--alt--\n"
    "--mix\n"
    'Content-Type: application/pdf; name="=?UTF-8?B?5oql5ZGKLnBkZg==?="\n'
    "Content-Transfer-Encoding: base64\n\nJVBERi0=\n"
    "--mix\n"
    "Content-Type: image/png\nContent-Disposition: attachment; filename*=UTF-8''%E5%9B%BE.png\n\niVBO\n"
    "--mix--\n"
)


def test_full_message() -> None:
    parsed = parse_message(FULL)
    assert parsed.subject == "北京 meeting"
    assert parsed.from_ == (Address("张三", "zhang@example.net"),)
    assert parsed.sender == (Address("", "list@example.net"),)
    assert parsed.reply_to == (Address("", "reply@example.net"),)
    assert parsed.to == (Address("Bob", "bob@example.com"), Address("Doe, John", "j@x.org"))
    assert parsed.cc == (Address("", "carol@example.com"),)
    assert parsed.bcc == (Address("", "secret@example.com"),)
    assert parsed.date == datetime(2003, 7, 1, 8, 52, 37, tzinfo=UTC)
    assert parsed.message_id == "<abc@example.net>"
    assert parsed.in_reply_to == ("<prev@example.com>",)
    assert parsed.references == ("<root@example.com>", "<prev@example.com>")
    assert parsed.body_text == "Plain café text"
    assert "HTML only words" not in parsed.body_text
    assert parsed.preview == "Plain café text"
    assert parsed.attachment_names == ("报告.pdf", "图.png")
    assert parsed.has_attachments
    assert parsed.envelope.startswith('("Tue, 1 Jul 2003 10:52:37 +0200" "=?UTF-8?B?5YyX?= =?UTF-8?B?5Lqs?= meeting"')
    assert parsed.bodystructure.endswith('"MIXED" ("BOUNDARY" "mix") NIL NIL NIL)')
    assert parsed.body.endswith('"MIXED")')
    assert parsed.defects == ()


@pytest.mark.parametrize(
    ("raw", "field", "expected"),
    [
        (b"Subject: hi\r\nContent-Type: text/html\r\n\r\n<p>only</p><p>html</p>", "body_text", "only\nhtml"),
        (b"Date: 1 Jan 2020 00:00:00 -0000\r\n\r\n", "date", datetime(2020, 1, 1, tzinfo=UTC)),
        (b"Date: Mon, 3 Feb 20 04:05:06 EST\r\n\r\n", "date", datetime(2020, 2, 3, 9, 5, 6, tzinfo=UTC)),
        (b"Date: yesterday\r\n\r\n", "date", None),
        (b"Date: Mon, 3 Feb 99999 04:05:06 +0000\r\n\r\n", "date", None),
        (b"Message-ID: abc@example.com\r\n\r\n", "message_id", "<abc@example.com>"),
        (b"Message-ID: <a@b> <c@d>\r\n\r\n", "message_id", "<a@b>"),
        (b"Message-ID: garbage\r\n\r\n", "message_id", ""),
        (b"References: <a@b>, junk <c@d>\r\n\r\n", "references", ("<a@b>", "<c@d>")),
        (b"In-Reply-To: <x@y> (comment)\r\n\r\n", "in_reply_to", ("<x@y>",)),
        ("Subject: 年终总结\r\n\r\n".encode("gbk"), "subject", "年终总结"),
        (b"Subject: a\r\n\tfolded\r\n  subject\r\n\r\n", "subject", "a folded subject"),
        (
            b"Content-Type: text/plain\r\n"
            b'Content-Disposition: attachment; filename="=?gb2312?B?xOO6ww==?=.txt"\r\n\r\nx',
            "attachment_names",
            ("你好.txt",),
        ),
        (
            b'Content-Type: application/octet-stream; name="' + "报表.xls".encode("gbk") + b'"\r\n\r\nx',
            "attachment_names",
            ("报表.xls",),
        ),
        (
            b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n"
            b" filename*0*=utf-8''%E5%B9%B4;\r\n filename*1*=%E7%BB%88.txt\r\n\r\nx",
            "attachment_names",
            ("年终.txt",),
        ),
        (b"", "envelope", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"),
    ],
)
def test_fields(raw: bytes, field: str, expected: object) -> None:
    assert getattr(parse_message(raw), field) == expected


def test_inline_image_is_not_an_attachment() -> None:
    raw = _crlf(
        "Content-Type: multipart/related; boundary=r\n\n--r\nContent-Type: text/html\n\n<img src=cid:i>\n"
        "--r\nContent-Type: image/png\nContent-ID: <i>\nContent-Disposition: inline\n\niVBO\n--r--\n"
    )
    parsed = parse_message(raw)
    assert not parsed.has_attachments and parsed.attachment_names == ()


def test_forwarded_message_text_is_searchable() -> None:
    raw = _crlf(
        "Subject: fwd\nContent-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nsee below\n"
        "--m\nContent-Type: message/rfc822\n\nSubject: inner topic\n\ninner forwardedword\n--m--\n"
    )
    parsed = parse_message(raw)
    assert "inner topic" in parsed.body_text and "forwardedword" in parsed.body_text


def test_body_text_is_capped() -> None:
    raw = b"Subject: big\r\n\r\n" + b"word " * (MAX_BODY_TEXT // 2)
    parsed = parse_message(raw)
    assert len(parsed.body_text) == MAX_BODY_TEXT
    assert len(parsed.preview) == 200


@pytest.mark.parametrize("name", sorted(malformed_corpus()))
def test_malformed_corpus(name: str) -> None:
    parsed = parse_message(malformed_corpus()[name])
    _check_clean(parsed)
    word = MALFORMED_WORDS[name]
    assert word in " ".join([parsed.subject, parsed.body_text, *parsed.attachment_names])


def test_malformed_corpus_words_cover_every_entry() -> None:
    assert set(MALFORMED_WORDS) == set(malformed_corpus())


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Hello", "hello"),
        ("Re: Hello", "hello"),
        ("RE: re: Fwd: Hello", "hello"),
        ("Re[2]: Hello", "hello"),
        ("Re [2]: Hello", "hello"),
        ("[list] Re: [other] Hello", "hello"),
        ("Fw: Hello (fwd)", "hello"),
        ("Hello (fwd) (FWD)", "hello"),
        ("[Fwd: Re: Hello]", "hello"),
        ("回复：北京会议", "北京会议"),
        ("转发: 答复: 北京会议", "北京会议"),
        ("AW: WG: Termin", "termin"),
        ("[tag]", "[tag]"),
        ("  many   spaces  ", "many spaces"),
        ("=?UTF-8?B?5Zue5aSN77ya5YyX5Lqs?=", "北京"),
        ("Re:", ""),
        ("", ""),
    ],
)
def test_base_subject(subject: str, expected: str) -> None:
    assert base_subject(subject) == expected


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    _check_clean(parse_message(raw))


_SEEDS = [FULL, *[raw for raw in malformed_corpus().values() if 0 < len(raw) < 20000]]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real message with a few byte-level mutations: deletions, insertions and overwrites."""
    data = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["delete", "insert", "flip", "cut"]))
        if op == "delete":
            del data[pos : pos + draw(st.integers(1, 50))]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from([b"\r\n", b"\n\n", b"--", b"=?", b"?=", b"\x00", b"\xff\xfe", b'"']))
        elif op == "flip":
            data[pos] = draw(st.integers(0, 255))
        else:
            del data[pos:]
    return bytes(data)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=300)
@given(mutated())
def test_never_raises_on_mutated_messages(raw: bytes) -> None:
    _check_clean(parse_message(raw))
