"""Replies and forwards: who to answer, the subject, the threading headers and the quoted original, in zh or en.

- Reply goes to Reply-To, else From (RFC 5322 §3.6.2); reply-all adds the original To and Cc; the user's own
  addresses are removed, and each address appears once. Replying to a message the user sent (from Sent) goes to
  its original recipients instead.
- The subject gets "Re: " (or "Fwd: ") once: a subject already starting with Re:/回复:/答复: (Fwd:/Fw:/转发:) is kept.
- In-Reply-To is the original's Message-ID; References are the original's References followed by its Message-ID
  (RFC 5322 §3.6.4).
- The quote: an attribution line ("On … wrote:" / "在 … 写道：") and the original body, in a `<blockquote>` for HTML
  (the original's sanitised HTML, inline images carried along as `cid:` parts) and with "> " marks for text.
- Forward inline: "Fwd: ", a block of the original's header fields, its body and its attachments. Forward as
  attachment: the original bytes as one message/rfc822 attachment.

Invariants: pure and never raises on any message (the view comes from `render`, which never raises); the HTML
produced is sanitiser output plus escaped text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal

from yizhan.mail.addresses import normalize_address
from yizhan.mail.compose import Attachment, InlineImage
from yizhan.mail.model import Address
from yizhan.mail.parts import extract_part, safe_filename
from yizhan.mail.render import MessageView, RenderOptions, render_message
from yizhan.mail.textformat import quote_text

Language = Literal["zh", "en"]
_REPLIED = re.compile(r"^\s*(?:re|aw|sv|回复|回覆|答复|答覆)\s*[:：]", re.IGNORECASE)
_FORWARDED = re.compile(r"^\s*(?:fwd?|wg|转发|轉寄|转寄|轉發)\s*[:：]", re.IGNORECASE)
_INLINE_PREFIX = "/yizhan-inline-part/"
_EN_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ZH_DAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_QUOTE_STYLE = "margin: 0 0 0 .8ex; border-left: 1px solid #ccc; padding-left: 1ex"
MAX_REFERENCES = 30


@dataclass(frozen=True, slots=True)
class Prefill:
    """What a reply or forward puts in the compose form (the user then edits it and sends a ComposeRequest)."""

    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str = ""
    html: str = ""
    text: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    inline_images: tuple[InlineImage, ...] = ()


def reply_subject(subject: str) -> str:
    return subject if _REPLIED.match(subject) else f"Re: {subject}".rstrip()


def forward_subject(subject: str) -> str:
    return subject if _FORWARDED.match(subject) else f"Fwd: {subject}".rstrip()


def format_date(when: datetime | None, language: Language, tz: tzinfo = UTC) -> str:
    if when is None:
        return ""
    local = when.astimezone(tz)
    if language == "zh":
        return f"{local.year}年{local.month}月{local.day}日 {_ZH_DAYS[local.weekday()]} {local:%H:%M}"
    return f"{_EN_DAYS[local.weekday()]}, {local.day} {_EN_MONTHS[local.month - 1]} {local.year} at {local:%H:%M}"


def _who(addresses: tuple[Address, ...]) -> str:
    return ", ".join(a.display() for a in addresses)


def attribution(view: MessageView, language: Language, tz: tzinfo = UTC) -> str:
    who = _who(view.from_) or ("未知发件人" if language == "zh" else "an unknown sender")
    when = format_date(view.date, language, tz)
    if language == "zh":
        return f"在 {when}，{who} 写道：" if when else f"{who} 写道："
    return f"On {when}, {who} wrote:" if when else f"{who} wrote:"


def _unique(addresses: Iterable[Address], exclude: set[str]) -> list[Address]:
    out = []
    for address in addresses:
        key = normalize_address(address.addr)
        if address.addr and key not in exclude:
            exclude.add(key)
            out.append(address)
    return out


def reply_recipients(view: MessageView, own: Iterable[str], reply_all: bool) -> tuple[list[str], list[str]]:
    """(To, Cc) of a reply or reply-all as "Name <addr>" strings, without the user's own addresses."""
    mine = {normalize_address(a) for a in own}
    from_me = any(normalize_address(a.addr) in mine for a in view.from_)
    if from_me:
        primary = list(view.to)
        others: list[Address] = list(view.cc) if reply_all else []
        to_list, cc_list = primary, others
    else:
        primary = list(view.reply_to or view.from_)
        to_list = primary + (list(view.to) if reply_all else [])
        cc_list = list(view.cc) if reply_all else []
    seen = set(mine)
    to = _unique(to_list, seen)
    cc = _unique(cc_list, seen)
    if not to and from_me:
        # Replying to a note to oneself: it goes to oneself.
        to = [a for a in view.from_ if a.addr][:1]
    return [a.display() for a in to], [a.display() for a in cc]


def _quotable(raw: bytes, remote_images: bool) -> tuple[MessageView, str, tuple[InlineImage, ...]]:
    """The view, its body HTML with inline images as cid: again, and those images as parts to send along."""
    view = render_message(raw, RenderOptions(part_url=lambda path: _INLINE_PREFIX + path))
    body = view.body_html
    by_path = {path: cid for cid, path in view.inline_parts}
    images: list[InlineImage] = []
    for path, cid in by_path.items():
        marker = f'src="{_INLINE_PREFIX}{path}"'
        if marker in body:
            part = extract_part(raw, path)
            if part is not None and part.content_type.startswith("image/"):
                images.append(InlineImage(cid, part.content_type, part.data, part.filename))
                body = body.replace(marker, f'src="cid:{html.escape(cid, quote=True)}"')
            else:
                body = body.replace(marker, "")
        body = body.replace(f"url({_INLINE_PREFIX}{path})", "none")
    if remote_images:
        body = body.replace(" data-remote-src=", " src=")
    return view, body, tuple(images)


def _references(view: MessageView) -> tuple[str, ...]:
    refs = list(dict.fromkeys([*view.references, *([view.message_id] if view.message_id else [])]))
    if len(refs) > MAX_REFERENCES:
        refs = [refs[0], *refs[-(MAX_REFERENCES - 1):]]
    return tuple(refs)


def reply(raw: bytes, own: Iterable[str], *, reply_all: bool = False, language: Language = "en", tz: tzinfo = UTC,
          remote_images: bool = False) -> Prefill:
    """The compose form for a reply (or reply-all) to the message `raw`; `own` are the user's addresses."""
    view, body, images = _quotable(raw, remote_images)
    to, cc = reply_recipients(view, own, reply_all)
    line = attribution(view, language, tz)
    quoted_html = (f"<p><br></p><div>{html.escape(line)}</div>"
                   f'<blockquote type="cite" style="{_QUOTE_STYLE}">{body}</blockquote>')
    quoted_text = f"\n\n{line}\n{quote_text(view.body_text)}\n"
    return Prefill(to=tuple(to), cc=tuple(cc), subject=reply_subject(view.subject), html=quoted_html,
                   text=quoted_text, in_reply_to=view.message_id, references=_references(view),
                   inline_images=images if body else ())


def _header_block(view: MessageView, language: Language, tz: tzinfo) -> list[tuple[str, str]]:
    labels = (("发件人", "日期", "主题", "收件人", "抄送") if language == "zh"
              else ("From", "Date", "Subject", "To", "Cc"))
    values = (_who(view.from_), format_date(view.date, language, tz), view.subject, _who(view.to), _who(view.cc))
    return [(label, value) for label, value in zip(labels, values, strict=True) if value]


def forward_inline(raw: bytes, *, language: Language = "en", tz: tzinfo = UTC,
                   remote_images: bool = False) -> Prefill:
    """The compose form forwarding `raw` inline: header block, body, and its attachments attached again."""
    view, body, images = _quotable(raw, remote_images)
    title = "---------- 转发的邮件 ----------" if language == "zh" else "---------- Forwarded message ----------"
    fields = _header_block(view, language, tz)
    separator = "：" if language == "zh" else ": "
    block_html = "<br>".join(html.escape(f"{k}{separator}{v}") for k, v in fields)
    forwarded_html = f"<p><br></p><div>{html.escape(title)}<br>{block_html}</div><br>{body}"
    block_text = "\n".join(f"{k}{separator}{v}" for k, v in fields)
    forwarded_text = f"\n\n{title}\n{block_text}\n\n{view.body_text}\n"
    attachments = []
    for info in view.attachments:
        if info.is_inline:
            continue
        part = extract_part(raw, info.path)
        if part is not None:
            attachments.append(Attachment(info.filename, part.content_type, part.data))
    return Prefill(subject=forward_subject(view.subject), html=forwarded_html, text=forwarded_text,
                   references=_references(view), attachments=tuple(attachments), inline_images=images)


def forward_as_attachment(raw: bytes) -> Prefill:
    """The compose form forwarding `raw` as a message/rfc822 attachment named after its subject."""
    view = render_message(raw)
    name = safe_filename(view.subject[:150], "message") + ".eml"
    return Prefill(subject=forward_subject(view.subject), references=_references(view),
                   attachments=(Attachment(name, "message/rfc822", bytes(raw)),))


__all__ = ["Prefill", "attribution", "format_date", "forward_as_attachment", "forward_inline", "forward_subject",
           "reply", "reply_recipients", "reply_subject"]
