"""The message view: decoded Chinese headers and file names, the body chosen and made safe, attachments with part
paths, inline parts, flags; part extraction and the zip of attachments; never raising on any bytes."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.mail.malformed import malformed_corpus
from tests.mailfactory import make_message
from yizhan.mail.parts import attachments_zip, extract_part, safe_filename, unique_names
from yizhan.mail.render import RenderOptions, render_attached, render_message


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.mark.parametrize(("header", "expected"), [
    ("=?gb2312?B?" + b64("中文测试".encode("gbk")) + "?=", "中文测试"),
    # A GBK-only character (镕) in a part labelled gb2312: read as GB18030.
    ("=?GB2312?B?" + b64("朱镕基".encode("gbk")) + "?=", "朱镕基"),
    ("=?gbk?Q?" + "".join(f"={b:02X}" for b in "季度报告".encode("gbk")) + "?=", "季度报告"),
    ("=?big5?B?" + b64("臺灣郵件".encode("big5")) + "?=", "臺灣郵件"),
    ("=?utf-8?B?" + b64("会议".encode()) + "?= =?utf-8?B?" + b64("通知".encode()) + "?=", "会议通知"),
    ("Re: plain", "Re: plain"),
])
def test_subject_decoding(header: str, expected: str) -> None:
    view = render_message(crlf(f"From: a@example.org\nSubject: {header}\n\nbody\n"))
    assert view.subject == expected


def test_address_headers_decoded() -> None:
    name = "=?gbk?B?" + b64("张三".encode("gbk")) + "?="
    raw = crlf(f"From: {name} <zhang@example.cn>\nTo: Alice <alice@example.com>, bob@example.com\n"
               "Cc: \"Li, Si\" <li@example.cn>\nReply-To: list@example.cn\nDate: Tue, 02 Jan 2024 10:00:00 +0800\n"
               "Message-ID: <m1@example.cn>\nIn-Reply-To: <m0@example.cn>\nReferences: <a@x> <m0@example.cn>\n\nhi\n")
    view = render_message(raw)
    assert [(a.name, a.addr) for a in view.from_] == [("张三", "zhang@example.cn")]
    assert [a.addr for a in view.to] == ["alice@example.com", "bob@example.com"]
    assert [(a.name, a.addr) for a in view.cc] == [("Li, Si", "li@example.cn")]
    assert [a.addr for a in view.reply_to] == ["list@example.cn"]
    assert view.date is not None and view.date.isoformat() == "2024-01-02T02:00:00+00:00"
    assert view.message_id == "<m1@example.cn>"
    assert view.in_reply_to == ("<m0@example.cn>",)
    assert view.references == ("<a@x>", "<m0@example.cn>")


MIXED = crlf("""From: a@example.org
Subject: mixed
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

plain version
--alt
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=gb2312
Content-Transfer-Encoding: base64

""" + b64('<p style="color:#c00">你好 <img src="cid:logo@x"> <img src="https://track.example/p.gif"></p>'
          '<script>alert(1)</script>'.encode("gbk")) + """
--rel
Content-Type: image/png
Content-ID: <logo@x>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel--
--alt--
--outer
Content-Type: application/pdf
Content-Disposition: attachment; filename*=gbk''%B1%A8%B8%E6.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQ=
--outer
Content-Type: application/octet-stream; name="=?utf-8?B?""" + b64("数据.xlsx".encode()) + """?="
Content-Transfer-Encoding: base64

AAECAw==
--outer
Content-Type: message/rfc822
Content-Disposition: attachment

From: c@example.org
Subject: =?utf-8?B?""" + b64("转发的邮件".encode()) + """?=
Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8

inner body https://example.com/x
--inner
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

notes
--inner--
--outer--
""")


def test_mixed_message_view() -> None:
    view = render_message(MIXED, RenderOptions(part_url=lambda path: f"/part/{path}"))
    assert view.body_kind == "html"
    assert '<p style="color: #c00">你好 <img src="/part/1.2.2">' in view.body_html
    assert 'data-remote-src="https://track.example/p.gif"' in view.body_html
    assert "script" not in view.body_html and "plain version" not in view.body_html
    assert view.has_remote_images
    assert "你好" in view.body_text
    assert view.cid_map() == {"logo@x": "1.2.2"}
    listed = [(a.path, a.filename, a.content_type, a.size, a.is_inline, a.is_message) for a in view.attachments]
    assert listed == [
        ("1.2.2", "part-1.2.2.png", "image/png", 8, True, False),
        ("2", "报告.pdf", "application/pdf", 8, False, False),
        ("3", "数据.xlsx", "application/octet-stream", 4, False, False),
        ("4", "转发的邮件.eml", "message/rfc822", view.attachments[3].size, False, True),
    ]


def test_remote_images_allowed_through_proxy() -> None:
    view = render_message(MIXED, RenderOptions(allow_remote=True, proxy_url=lambda url: "/proxy?u=1"))
    assert '<img src="/proxy?u=1">' in view.body_html
    assert view.has_remote_images


def test_attached_message_rendered_with_outer_paths() -> None:
    inner = render_attached(MIXED, "4")
    assert inner is not None
    assert inner.subject == "转发的邮件"
    assert 'href="https://example.com/x"' in inner.body_html
    assert [(a.path, a.filename) for a in inner.attachments] == [("4.2", "notes.txt")]
    notes = extract_part(MIXED, "4.2")
    assert notes is not None and notes.data.strip() == b"notes"
    assert render_attached(MIXED, "2") is None
    assert render_attached(MIXED, "x") is None


def test_extract_parts() -> None:
    pdf = extract_part(MIXED, "2")
    assert pdf is not None
    assert (pdf.filename, pdf.content_type, pdf.data) == ("报告.pdf", "application/pdf", b"%PDF-1.4")
    html = extract_part(MIXED, "1.2.1")
    assert html is not None and html.charset == "gb2312" and "你好".encode("gbk") in html.data
    assert extract_part(MIXED, "1") is None  # a multipart has no content of its own
    for bad in ("9", "0", "1.9.9", "", "1..2", "../1", "1." + "1." * 60 + "1"):
        assert extract_part(MIXED, bad) is None


def test_zip_of_attachments() -> None:
    view = render_message(MIXED)
    paths = [a.path for a in view.attachments if not a.is_inline] + ["2", "99"]
    archive = zipfile.ZipFile(io.BytesIO(attachments_zip(MIXED, paths)))
    names = archive.namelist()
    assert names == ["报告.pdf", "数据.xlsx", "转发的邮件.eml", "报告 (2).pdf"]
    assert archive.read("报告.pdf") == b"%PDF-1.4"
    assert all(info.flag_bits & 0x800 for info in archive.infolist() if not info.filename.isascii())


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Windows\\evil.exe", "evil.exe"),
    ("con.txt", "attachment_con.txt"),
    ("...", "attachment"),
    ("a\x00b\r\n.txt", "a_b__.txt"),
    ("report\u202etxt.exe", "report_txt.exe"),
    ("报告.pdf", "报告.pdf"),
    ("长" * 100 + ".pdf", "长" * 65 + ".pdf"),  # 196 bytes of name, 4 of extension
])
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected
    assert len(safe_filename(name).encode()) <= 200


def test_unique_names() -> None:
    assert unique_names(["a.txt", "A.txt", "a.txt", "b", "b"]) == ["a.txt", "A (2).txt", "a (3).txt", "b", "b (2)"]


def test_plain_text_body_links_and_escaping() -> None:
    raw = crlf("From: a@example.org\nContent-Type: text/plain; charset=utf-8\n\n"
               "见 https://example.com/a?b=1&c=2。<b>not bold</b>\nmail bob@example.com, www.example.org.\n"
               "> quoted line\n> > deeper\n")
    view = render_message(raw)
    assert view.body_kind == "text"
    assert 'href="https://example.com/a?b=1&amp;c=2"' in view.body_html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in view.body_html
    assert 'href="mailto:bob@example.com"' in view.body_html
    assert 'href="http://www.example.org"' in view.body_html
    assert view.body_html.count("<blockquote") == 2
    assert 'target="_blank"' in view.body_html


def test_format_flowed() -> None:
    raw = crlf("From: a@example.org\nContent-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\n\n"
               "This is one \nparagraph.\n>Quoted soft \n>line.\n \n-- \nsig\n")
    view = render_message(raw)
    assert "This is oneparagraph." in view.body_html
    assert "Quoted softline." in view.body_html
    plain = crlf("From: a@example.org\nContent-Type: text/plain; format=flowed\n\nOne \ntwo\n")
    assert "One two" in render_message(plain).body_html


def test_flags_unsubscribe_mdn_priority() -> None:
    raw = crlf("From: news@example.org\nList-Unsubscribe: <mailto:leave@example.org?subject=x>, "
               "<https://example.org/unsub?id=1>, <javascript:alert(1)>\n"
               "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
               "Disposition-Notification-To: Boss <boss@example.org>\nX-Priority: 1 (Highest)\n\nhi\n")
    view = render_message(raw)
    assert view.list_unsubscribe == ("mailto:leave@example.org?subject=x", "https://example.org/unsub?id=1")
    assert view.unsubscribe_one_click
    assert [a.addr for a in view.mdn_to] == ["boss@example.org"]
    assert view.priority == 1
    assert render_message(crlf("From: a@b\nImportance: low\n\nx\n")).priority == 5
    plain = render_message(crlf("From: a@b\n\nx\n"))
    assert (plain.list_unsubscribe, plain.unsubscribe_one_click, plain.mdn_to, plain.priority) == ((), False, (), 3)


def test_text_attachment_not_shown_as_body() -> None:
    raw = make_message(body="main text", attachment=("log.txt", b"secret log"))
    view = render_message(raw)
    assert "main text" in view.body_html and "secret log" not in view.body_html
    assert [a.filename for a in view.attachments] == ["log.txt"]


@pytest.mark.parametrize("name", sorted(malformed_corpus()))
def test_malformed_mail_renders(name: str) -> None:
    raw = malformed_corpus()[name]
    view = render_message(raw)
    assert "<script" not in view.body_html
    for attachment in view.attachments:
        extract_part(raw, attachment.path)
    attachments_zip(raw, [a.path for a in view.attachments])


def test_malformed_chinese_filename() -> None:
    raw = malformed_corpus()["rfc2231_gbk_filename"]
    view = render_message(raw)
    assert view.attachments and any("\u4e00" <= c <= "\u9fff" for c in view.attachments[0].filename)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data: bytes) -> None:
    view = render_message(data)
    assert isinstance(view.body_html, str)


_SEEDS = [MIXED, *malformed_corpus().values(), make_message(html="<p>x</p>", attachment=("a.bin", b"1234"))]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_SEEDS), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 20), st.binary(max_size=8)),
                                         max_size=6))
def test_mutated_messages_never_raise(seed: bytes, edits: list[tuple[int, int, bytes]]) -> None:
    data = bytearray(seed)
    for position, cut, insert in edits:
        at = position % (len(data) + 1)
        data[at : at + cut] = insert
    raw = bytes(data)
    view = render_message(raw)
    assert "<script" not in view.body_html.lower()
    for attachment in view.attachments:
        extract_part(raw, attachment.path)
        if attachment.is_message:
            render_attached(raw, attachment.path)


def test_image_referenced_by_cid_outside_related_is_inline() -> None:
    raw = crlf("""From: a@example.org
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/html; charset=utf-8

<p>see <img src="cid:pic@x"></p>
--b
Content-Type: image/png
Content-ID: <pic@x>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--b
Content-Type: image/png
Content-ID: <unused@x>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--b--
""")
    view = render_message(raw, RenderOptions(part_url=lambda path: f"/part/{path}"))
    assert '<img src="/part/2">' in view.body_html
    assert [(a.path, a.is_inline) for a in view.attachments] == [("2", True), ("3", False)]
