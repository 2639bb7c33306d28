"""Replies and forwards: recipients, subjects, threading headers, attribution in Chinese and English, quoting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.mail.test_render import MIXED, crlf
from yizhan.mail.compose import ComposeRequest, build_message
from yizhan.mail.quote import (
    attribution,
    forward_as_attachment,
    forward_inline,
    forward_subject,
    reply,
    reply_subject,
)
from yizhan.mail.render import render_message

ORIGINAL = crlf("""From: =?utf-8?B?5byg5LiJ?= <zhang@example.cn>
To: Alice <alice@example.com>, bob@example.com
Cc: carol@example.com, ALICE@example.com
Reply-To: team@example.cn
Subject: =?utf-8?B?5Lya6K6u?=
Date: Tue, 02 Jan 2024 10:00:00 +0800
Message-ID: <orig@example.cn>
References: <root@example.cn>
Content-Type: text/plain; charset=utf-8

第一行
second <line>
""")
OWN = ["alice@example.com", "sales@example.com"]
BEIJING = timezone(timedelta(hours=8))


@pytest.mark.parametrize(("subject", "expected"), [
    ("会议", "Re: 会议"), ("Re: 会议", "Re: 会议"), ("RE:x", "RE:x"), ("回复：会议", "回复：会议"),
    ("答复: x", "答复: x"), ("Fwd: x", "Re: Fwd: x"), ("", "Re:"),
])
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


@pytest.mark.parametrize(("subject", "expected"), [
    ("会议", "Fwd: 会议"), ("Fwd: x", "Fwd: x"), ("FW: x", "FW: x"), ("转发：x", "转发：x"), ("Re: x", "Fwd: Re: x"),
])
def test_forward_subject(subject: str, expected: str) -> None:
    assert forward_subject(subject) == expected


def test_reply_goes_to_reply_to() -> None:
    prefill = reply(ORIGINAL, OWN)
    assert prefill.to == ("team@example.cn",)
    assert prefill.cc == ()
    assert prefill.subject == "Re: 会议"
    assert prefill.in_reply_to == "<orig@example.cn>"
    assert prefill.references == ("<root@example.cn>", "<orig@example.cn>")


def test_reply_all_removes_own_addresses_and_duplicates() -> None:
    prefill = reply(ORIGINAL, OWN, reply_all=True)
    assert prefill.to == ("team@example.cn", "bob@example.com")
    assert prefill.cc == ("carol@example.com",)


def test_reply_to_own_sent_message_goes_to_its_recipients() -> None:
    sent = crlf("From: alice@example.com\nTo: bob@example.com\nCc: carol@example.com\nSubject: hi\n\nx\n")
    assert reply(sent, OWN).to == ("bob@example.com",)
    everyone = reply(sent, OWN, reply_all=True)
    assert (everyone.to, everyone.cc) == (("bob@example.com",), ("carol@example.com",))


def test_attribution_languages_and_time_zone() -> None:
    view = render_message(ORIGINAL)
    assert attribution(view, "en", UTC) == "On Tue, 2 Jan 2024 at 02:00, 张三 <zhang@example.cn> wrote:"
    assert attribution(view, "zh", BEIJING) == "在 2024年1月2日 周二 10:00，张三 <zhang@example.cn> 写道："
    undated = render_message(crlf("From: a@example.org\n\nx\n"))
    assert attribution(undated, "zh") == "a@example.org 写道："


def test_quoted_bodies() -> None:
    prefill = reply(ORIGINAL, OWN, language="zh", tz=BEIJING)
    assert "> 第一行\n> second <line>" in prefill.text
    assert "在 2024年1月2日 周二 10:00，张三 &lt;zhang@example.cn&gt; 写道：" in prefill.html
    assert "<blockquote" in prefill.html and "second &lt;line&gt;" in prefill.html


def test_reply_carries_inline_images_as_cid() -> None:
    prefill = reply(MIXED, OWN)
    assert 'src="cid:logo@x"' in prefill.html
    assert [(i.cid, i.content_type) for i in prefill.inline_images] == [("logo@x", "image/png")]
    assert "data-remote-src" in prefill.html
    assert 'src="https://track.example/p.gif"' in reply(MIXED, OWN, remote_images=True).html


def test_forward_inline_keeps_attachments() -> None:
    prefill = forward_inline(MIXED, language="en")
    assert prefill.subject == "Fwd: mixed"
    assert "---------- Forwarded message ----------" in prefill.text
    assert "From: a@example.org" in prefill.text
    assert [a.filename for a in prefill.attachments] == ["报告.pdf", "数据.xlsx", "转发的邮件.eml"]
    zh = forward_inline(ORIGINAL, language="zh", tz=BEIJING)
    assert "---------- 转发的邮件 ----------" in zh.text
    assert "发件人：张三 <zhang@example.cn>" in zh.text and "主题：会议" in zh.text
    assert "日期：2024年1月2日 周二 10:00" in zh.text


def test_forward_as_attachment_round_trip() -> None:
    prefill = forward_as_attachment(ORIGINAL)
    assert prefill.subject == "Fwd: 会议"
    assert [(a.filename, a.content_type) for a in prefill.attachments] == [("会议.eml", "message/rfc822")]
    built = build_message(ComposeRequest(from_address="alice@example.com", to=("dave@example.com",),
                                         subject=prefill.subject, text="FYI", attachments=prefill.attachments))
    view = render_message(built.raw)
    assert [(a.filename, a.is_message) for a in view.attachments] == [("会议.eml", True)]


def test_reply_built_has_threading_headers() -> None:
    prefill = reply(ORIGINAL, OWN, reply_all=True)
    built = build_message(ComposeRequest(from_address="alice@example.com", to=prefill.to, cc=prefill.cc,
                                         subject=prefill.subject, html="<p>ok</p>" + prefill.html,
                                         in_reply_to=prefill.in_reply_to, references=prefill.references,
                                         inline_images=prefill.inline_images),
                          now=datetime(2024, 1, 3, tzinfo=UTC))
    view = render_message(built.raw)
    assert view.in_reply_to == ("<orig@example.cn>",)
    assert view.references == ("<root@example.cn>", "<orig@example.cn>")
    assert view.subject == "Re: 会议"
    assert "第一行" in view.body_html
