"""A compose request (what the web or API form holds) turned into an RFC 5322 / MIME message.

Structure (RFC 2046, RFC 2387): multipart/mixed (when there are attachments) ⊃ multipart/related (when there are
inline images) ⊃ multipart/alternative (text/plain, then text/html, RFC 2046 §5.1.4: the preferred last). When only
HTML is given, the text/plain alternative is generated from it (`mail.htmltext`); with only text, the message is
a single text/plain part. Header fields: From, To, Cc (never Bcc unless `include_bcc`, for the sender's own Sent
and Drafts copies), Subject, Date, Message-ID, In-Reply-To and References (RFC 5322 §3.6.4), MIME-Version,
Disposition-Notification-To for a read receipt (RFC 8098 §2.1), X-Priority and Importance. Encoding: `mimewrite`.

Recipients are typed as the user types them: any number of strings, each possibly holding several addresses
separated by "," or ";" (`parse_recipients`); a bad one raises InvalidInput naming it. Limits (`ComposeLimits`)
bound recipients, attachments and the total size.

Invariants: pure apart from reading the clock and a random source (Date and Message-ID, both overridable); the
same request, `now` and `message_id` give the same bytes except for MIME boundaries; lines end in CRLF.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from yizhan.mail.addresses import is_valid_address, normalize_address, parse_address_list, split_address
from yizhan.mail.htmltext import html_to_text
from yizhan.mail.mimewrite import (
    address_field,
    ascii_address,
    base64_body,
    clean,
    content_type_pair,
    filename_params,
    new_boundary,
    param_header,
    text_body,
    unstructured,
)
from yizhan.util.errors import InvalidInput

_MSG_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")
_CID = re.compile(r"^[!#-;=?-~]+$")
MAX_SUBJECT_CHARS = 998
MAX_REFERENCES = 30


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class InlineImage:
    """An image the HTML shows with `<img src="cid:CID">` (`cid` without brackets)."""

    cid: str
    content_type: str
    data: bytes
    filename: str = ""


@dataclass(frozen=True, slots=True)
class ComposeRequest:
    from_address: str
    from_name: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    html: str = ""
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    inline_images: tuple[InlineImage, ...] = ()
    # The Message-ID replied to, and the References of the reply (both with angle brackets).
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    read_receipt: bool = False
    # 1 (highest) … 5 (lowest); 3 is normal and writes no header.
    priority: int = 3
    reply_to: str = ""


@dataclass(frozen=True, slots=True)
class ComposeLimits:
    max_bytes: int = 25 * 1024 * 1024
    max_attachments: int = 100
    max_recipients: int = 500


@dataclass(frozen=True, slots=True)
class BuiltMessage:
    raw: bytes
    message_id: str
    sender: str
    # Every envelope recipient (To, Cc and Bcc), normalised, each once.
    recipients: tuple[str, ...]


def _split(value: str) -> list[str]:
    """Split on "," and ";" outside quoted strings and angle brackets."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = False
    angle = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            angle = True
        elif char == ">" and not quoted:
            angle = False
        elif char in ",;，；" and not quoted and not angle:
            pieces.append("".join(current))
            current = []
            continue
        current.append(char)
    pieces.append("".join(current))
    return [p.strip() for p in pieces if p.strip()]


def parse_recipients(values: Iterable[str], *, strict: bool = True) -> list[tuple[str, str]]:
    """(display name, address) for every address typed, in order, duplicates removed.

    With `strict`, an entry that is not exactly one valid address raises InvalidInput naming it; otherwise (drafts)
    it is kept with an empty address and its text as the name."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for value in values:
        for piece in _split(clean(value)):
            found = parse_address_list(piece)
            addr = found[0].addr.strip() if len(found) == 1 else ""
            # The address must be all of the entry, or all inside its angle brackets: "bob@exa mple.com" is not
            # "mple.com <bob@exa>".
            written = piece[piece.find("<") + 1 : piece.rfind(">")] if "<" in piece else piece
            if not addr or not is_valid_address(addr) or written.strip() != addr:
                if strict:
                    raise InvalidInput(f"“{piece[:200]}” is not a valid address; write it as name@example.com")
                out.append((piece[:200], ""))
                continue
            key = normalize_address(addr)
            if key not in seen:
                seen.add(key)
                out.append((found[0].name, addr))
    return out


def _part(headers: list[str], body: bytes) -> bytes:
    return "".join(headers).encode("utf-8") + b"\r\n" + body


def _multipart(subtype: str, parts: list[bytes], extra: str = "") -> tuple[list[str], bytes]:
    boundary = new_boundary()
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    body += b"--" + boundary.encode() + b"--\r\n"
    return [f'Content-Type: multipart/{subtype}; boundary="{boundary}"{extra}\r\n'], body


def _text_part(subtype: str, text: str) -> bytes:
    encoding, body = text_body(text)
    return _part([f"Content-Type: text/{subtype}; charset=utf-8\r\n",
                  f"Content-Transfer-Encoding: {encoding}\r\n"], body)


def _file_part(filename: str, ctype: str, data: bytes, disposition: str, cid: str = "") -> bytes:
    main, sub = content_type_pair(ctype)
    type_params, disposition_params = filename_params(filename) if filename else ([], [])
    headers = [param_header("Content-Type", f"{main}/{sub}", type_params)]
    if main == "message" and sub in ("rfc822", "global"):
        # RFC 2046 §5.2.1: an encapsulated message is never base64; 8bit is fine for our 8BITMIME peers.
        lines_ok = b"\x00" not in data and all(len(line) <= 998 for line in data.split(b"\n"))
        if lines_ok:
            body = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            headers.append("Content-Transfer-Encoding: " + ("7bit" if body.isascii() else "8bit") + "\r\n")
            headers.append(param_header("Content-Disposition", disposition, disposition_params))
            return _part(headers, body if body.endswith(b"\r\n") else body + b"\r\n")
        headers = [param_header("Content-Type", "application/octet-stream", type_params)]
    headers.append("Content-Transfer-Encoding: base64\r\n")
    headers.append(param_header("Content-Disposition", disposition, disposition_params))
    if cid:
        headers.append(f"Content-ID: <{cid}>\r\n")
    return _part(headers, base64_body(data))


def _body(request: ComposeRequest) -> tuple[list[str], bytes]:
    """The content headers and body of everything below the top-level header."""
    html = request.html
    text = request.text
    if html and not text:
        text = html_to_text(html)
    if html:
        if "<html" not in html[:2000].lower():
            html = f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>{html}</body></html>'
        headers, body = _multipart("alternative", [_text_part("plain", text), _text_part("html", html)])
    else:
        encoding, body = text_body(text)
        headers = ["Content-Type: text/plain; charset=utf-8\r\n", f"Content-Transfer-Encoding: {encoding}\r\n"]
    if request.inline_images:
        images = [_file_part(image.filename, image.content_type, image.data, "inline", image.cid)
                  for image in request.inline_images]
        headers, body = _multipart("related", [_part(headers, body), *images], '; type="multipart/alternative"'
                                   if html else "")
    if request.attachments:
        files = [_file_part(a.filename or "attachment", a.content_type, a.data, "attachment")
                 for a in request.attachments]
        headers, body = _multipart("mixed", [_part(headers, body), *files])
    return headers, body


def _message_id(value: str) -> str:
    value = clean(value)
    if value and not value.startswith("<"):
        value = f"<{value}>"
    return value if _MSG_ID.match(value) and len(value) <= 250 else ""


def new_message_id(sender: str) -> str:
    domain = ascii_address("x@" + (split_address(sender)[1] or "localhost")).split("@", 1)[1]
    return f"<{secrets.token_hex(16)}@{domain}>"


def check_request(request: ComposeRequest, limits: ComposeLimits) -> None:
    """InvalidInput for what the user must fix: sizes, counts, identifiers, the sender."""
    if not is_valid_address(request.from_address.strip()):
        raise InvalidInput(f"the sender “{request.from_address[:200]}” is not a valid address")
    if len(request.attachments) + len(request.inline_images) > limits.max_attachments:
        raise InvalidInput(f"at most {limits.max_attachments} attachments may be sent in one message")
    size = len(request.html) + len(request.text) + sum(len(a.data) for a in request.attachments)
    size += sum(len(i.data) for i in request.inline_images)
    # Base64 grows content by a third; the finished message is checked again.
    if size * 4 // 3 > limits.max_bytes:
        raise InvalidInput(f"the message is too large: at most {limits.max_bytes // (1024 * 1024)} MB with attachments")
    for image in request.inline_images:
        if not _CID.match(image.cid) or len(image.cid) > 250:
            raise InvalidInput(f"invalid inline image id “{image.cid[:100]}”")
    if len(request.subject) > MAX_SUBJECT_CHARS:
        raise InvalidInput(f"the subject is too long (at most {MAX_SUBJECT_CHARS} characters)")
    if request.priority not in (1, 2, 3, 4, 5):
        raise InvalidInput("priority must be 1 (highest) to 5 (lowest)")


def build_message(request: ComposeRequest, *, limits: ComposeLimits | None = None, include_bcc: bool = False,
                  strict: bool = True, now: datetime | None = None, message_id: str | None = None) -> BuiltMessage:
    """The message bytes for `request`. `strict=False` (drafts) keeps recipients that are not valid yet and
    allows a message without any; `include_bcc` writes the Bcc field (the sender's own copies)."""
    limits = limits or ComposeLimits()
    check_request(request, limits)
    to = parse_recipients(request.to, strict=strict)
    cc = parse_recipients(request.cc, strict=strict)
    bcc = parse_recipients(request.bcc, strict=strict)
    envelope = list(dict.fromkeys(normalize_address(a) for _, a in (*to, *cc, *bcc) if a))
    if strict and not envelope:
        raise InvalidInput("add at least one recipient")
    if len(envelope) > limits.max_recipients:
        raise InvalidInput(f"at most {limits.max_recipients} recipients may be sent to at once")
    sender = request.from_address.strip()
    mid = _message_id(message_id or "") or new_message_id(sender)
    lines = [
        f"Date: {format_datetime(now or datetime.now(UTC))}\r\n",
        address_field("From", [(request.from_name, sender)]),
    ]
    for name, entries in (("To", to), ("Cc", cc), ("Bcc", bcc if include_bcc else [])):
        if entries:
            lines.append(address_field(name, entries))
    if request.reply_to.strip():
        lines.append(address_field("Reply-To", parse_recipients([request.reply_to], strict=strict)))
    lines.append(unstructured("Subject", request.subject))
    lines.append(f"Message-ID: {mid}\r\n")
    in_reply_to = _message_id(request.in_reply_to)
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}\r\n")
    references = [r for r in (_message_id(r) for r in request.references) if r]
    if len(references) > MAX_REFERENCES:
        # RFC 5322 §3.6.4 wants the first and the most recent; keep the thread's root and the latest ones.
        references = [references[0], *references[-(MAX_REFERENCES - 1):]]
    if references:
        lines.append("References: " + "\r\n ".join(dict.fromkeys(references)) + "\r\n")
    if request.read_receipt:
        lines.append(address_field("Disposition-Notification-To", [(request.from_name, sender)]))
    if request.priority != 3:
        label = {1: "1 (Highest)", 2: "2 (High)", 4: "4 (Low)", 5: "5 (Lowest)"}[request.priority]
        lines.append(f"X-Priority: {label}\r\n")
        lines.append("Importance: " + ("high" if request.priority < 3 else "low") + "\r\n")
    lines.append("MIME-Version: 1.0\r\n")
    lines.append("User-Agent: Yizhan\r\n")
    headers, body = _body(request)
    raw = "".join(lines + headers).encode("utf-8") + b"\r\n" + body
    if len(raw) > limits.max_bytes:
        raise InvalidInput(f"the message is too large: at most {limits.max_bytes // (1024 * 1024)} MB with attachments")
    return BuiltMessage(raw=raw, message_id=mid, sender=sender, recipients=tuple(envelope))


__all__ = ["Attachment", "BuiltMessage", "ComposeLimits", "ComposeRequest", "InlineImage", "build_message",
           "new_message_id", "parse_recipients"]
