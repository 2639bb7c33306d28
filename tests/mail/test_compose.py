"""Composing: the MIME structure, encoded Chinese headers and file names, Bcc kept out, recipients validated, limits;
every message built is read back by the renderer and by Python's email package as what was written."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.mail.compose import (
    Attachment,
    ComposeLimits,
    ComposeRequest,
    InlineImage,
    build_message,
    parse_recipients,
)
from yizhan.mail.parts import extract_part
from yizhan.mail.render import RenderOptions, render_message
from yizhan.util.errors import InvalidInput

NOW = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


def request(**changes: object) -> ComposeRequest:
    base: dict[str, object] = {"from_address": "alice@example.com", "from_name": "爱丽丝", "to": ("bob@example.com",),
                               "subject": "周报", "text": "你好"}
    base.update(changes)
    return ComposeRequest(**base)  # type: ignore[arg-type]


def structure(raw: bytes) -> list[str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return [part.get_content_type() for part in message.walk()]


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def test_text_only_is_one_part() -> None:
    built = build_message(request(), now=NOW)
    assert structure(built.raw) == ["text/plain"]
    message = email.message_from_bytes(built.raw, policy=email.policy.default)
    assert message["Subject"] == "周报"
    assert str(message["From"]) == "爱丽丝 <alice@example.com>"
    assert message.get_content().strip() == "你好"
    assert message["Date"] == "Sat, 01 Jun 2024 08:00:00 +0000"
    assert message["MIME-Version"] == "1.0"
    assert built.message_id.endswith("@example.com>") and message["Message-ID"] == built.message_id
    assert header_block(built.raw).isascii()


def test_full_structure_and_read_back() -> None:
    built = build_message(request(
        html='<p style="color: #c00"><b>加粗</b> 正文 <img src="cid:pic1@yz"></p>', text="",
        attachments=(Attachment("季度报告 2024.pdf", "application/pdf", b"%PDF-1.4 " + bytes(range(256))),
                     Attachment("notes.txt", "text/plain", b"plain notes")),
        inline_images=(InlineImage("pic1@yz", "image/png", b"\x89PNG\r\n\x1a\n"),),
    ), now=NOW)
    assert structure(built.raw) == ["multipart/mixed", "multipart/related", "multipart/alternative", "text/plain",
                                    "text/html", "image/png", "application/pdf", "text/plain"]
    view = render_message(built.raw, RenderOptions(part_url=lambda path: f"/part/{path}"))
    assert view.subject == "周报"
    assert '<p style="color: #c00"><b>加粗</b> 正文 <img src="/part/1.2"></p>' in view.body_html
    assert [(a.filename, a.content_type, a.is_inline) for a in view.attachments] == [
        ("part-1.2.png", "image/png", True), ("季度报告 2024.pdf", "application/pdf", False),
        ("notes.txt", "text/plain", False)]
    pdf = extract_part(built.raw, "2")
    assert pdf is not None and pdf.data == b"%PDF-1.4 " + bytes(range(256))
    # Python's reader sees the same names and the generated plain text.
    message = email.message_from_bytes(built.raw, policy=email.policy.default)
    names = [p.get_filename() for p in message.iter_attachments()]
    assert names == ["季度报告 2024.pdf", "notes.txt"]
    plain = message.get_body(("plain",))
    assert plain is not None and "加粗 正文" in plain.get_content()


def test_bcc_only_in_own_copies() -> None:
    req = request(to=("Bob <bob@example.com>",), cc=("carol@example.com",), bcc=("secret@example.com",))
    sent = build_message(req, now=NOW)
    assert b"secret@example.com" not in sent.raw
    assert sent.recipients == ("bob@example.com", "carol@example.com", "secret@example.com")
    copy = build_message(req, now=NOW, include_bcc=True, message_id=sent.message_id)
    assert b"Bcc: secret@example.com" in copy.raw
    assert copy.message_id == sent.message_id


@pytest.mark.parametrize(("typed", "expected"), [
    (["a@example.com, b@example.com; c@example.com"], ["a@example.com", "b@example.com", "c@example.com"]),
    (['"Wong, Alice" <alice@example.com>; 张三 <zhang@example.cn>'], ["alice@example.com", "zhang@example.cn"]),
    (["a@example.com；b@example.com，c@example.com"], ["a@example.com", "b@example.com", "c@example.com"]),
    (["A@Example.com", "a@example.com"], ["A@Example.com"]),
    (["  ", ",;"], []),
])
def test_parse_recipients(typed: list[str], expected: list[str]) -> None:
    assert [addr for _, addr in parse_recipients(typed)] == expected


@pytest.mark.parametrize("bad", ["bob", "bob@", "@example.com", "bob@exa mple.com", "a@b.com, nope", "<>",
                                 "bob@example..com"])
def test_bad_address_named_in_error(bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_message(request(to=(bad,)))
    assert "not a valid address" in str(caught.value)
    wrong = next(p.strip() for p in bad.split(",") if p.strip() != "a@b.com")
    assert wrong in str(caught.value)


def test_drafts_keep_unfinished_recipients() -> None:
    built = build_message(request(to=("bob@", "carol@example.com")), strict=False, include_bcc=True)
    assert b"carol@example.com" in built.raw
    # The unfinished entry comes back as the text typed, for the user to finish.
    assert [a.display() for a in render_message(built.raw).to] == ["bob@", "carol@example.com"]
    assert built.recipients == ("carol@example.com",)
    assert build_message(request(to=()), strict=False).recipients == ()
    with pytest.raises(InvalidInput, match="at least one recipient"):
        build_message(request(to=()))


def test_limits() -> None:
    with pytest.raises(InvalidInput, match="too large"):
        build_message(request(attachments=(Attachment("big.bin", "application/octet-stream", b"x" * 2000),)),
                      limits=ComposeLimits(max_bytes=1000))
    with pytest.raises(InvalidInput, match="at most 2 attachments"):
        build_message(request(attachments=tuple(Attachment(f"{i}.txt", "text/plain", b"x") for i in range(3))),
                      limits=ComposeLimits(max_attachments=2))
    with pytest.raises(InvalidInput, match="at most 2 recipients"):
        build_message(request(to=("a@example.com, b@example.com, c@example.com",)),
                      limits=ComposeLimits(max_recipients=2))
    with pytest.raises(InvalidInput, match="sender"):
        build_message(request(from_address="not an address"))
    with pytest.raises(InvalidInput, match="inline image"):
        build_message(request(inline_images=(InlineImage("bad id>", "image/png", b"x"),)))


def test_reply_headers_read_receipt_priority() -> None:
    built = build_message(request(in_reply_to="<orig@example.org>", references=("<root@example.org>",
                                                                                 "<orig@example.org>"),
                                  read_receipt=True, priority=1), now=NOW)
    view = render_message(built.raw)
    assert view.in_reply_to == ("<orig@example.org>",)
    assert view.references == ("<root@example.org>", "<orig@example.org>")
    assert [a.addr for a in view.mdn_to] == ["alice@example.com"]
    assert view.priority == 1


def test_header_injection_impossible() -> None:
    built = build_message(request(subject="hi\r\nBcc: victim@example.com", from_name="x\r\nX-Evil: 1",
                                  attachments=(Attachment('a"\r\nX-Evil: 2.txt', "text/plain\r\nX-Evil: 3", b"x"),)))
    headers = [line for line in built.raw.split(b"\r\n") if line.startswith((b"Bcc", b"X-Evil"))]
    assert headers == []


def test_forwarded_message_attachment_is_not_base64() -> None:
    original = b"From: a@example.org\r\nSubject: old\r\n\r\nbody\r\n"
    built = build_message(request(attachments=(Attachment("old.eml", "message/rfc822", original),)))
    view = render_message(built.raw)
    assert [(a.content_type, a.is_message) for a in view.attachments] == [("message/rfc822", True)]
    assert b"Content-Transfer-Encoding: 7bit\r\nContent-Disposition: attachment" in built.raw


def test_long_lines_are_folded() -> None:
    built = build_message(request(subject="很长的主题" * 60, to=tuple(f"user{i}@example.com" for i in range(40)),
                                  attachments=(Attachment("很长的文件名" * 30 + ".docx", "application/msword", b"x"),)))
    assert max(len(line) for line in header_block(built.raw).split(b"\r\n")) <= 998
    view = render_message(built.raw)
    assert view.subject == "很长的主题" * 60
    assert len(view.to) == 40
    assert view.attachments[0].filename == "很长的文件名" * 30 + ".docx"


@settings(max_examples=60, deadline=None)
@given(subject=st.text(max_size=120), name=st.text(max_size=40), body=st.text(max_size=400),
       filename=st.text(min_size=1, max_size=60))
def test_anything_typed_reads_back(subject: str, name: str, body: str, filename: str) -> None:
    built = build_message(request(subject=subject, from_name=name, text=body,
                                  attachments=(Attachment(filename, "application/octet-stream", b"data"),)))
    view = render_message(built.raw)
    assert view.subject == " ".join("".join(c if c >= " " and c != "\x7f" else " " for c in subject).split())
    assert len(view.attachments) == 1
    part = extract_part(built.raw, view.attachments[0].path)
    assert part is not None and part.data == b"data"
