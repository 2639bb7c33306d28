"""A stored message as the web shows it: a frozen `MessageView` built from the raw bytes.

What the view holds: the decoded header fields (RFC 2047 words in any charset, gb2312/gbk read as GB18030), the
best body as safe HTML (the HTML alternative sanitised by `mail.sanitize`; else plain text turned into HTML with
format=flowed honoured and links made clickable), the attachments with their IMAP part paths, the Content-ID →
part path map of inline parts, and flags: remote images, List-Unsubscribe (RFC 2369, RFC 8058 one-click),
Disposition-Notification-To (an MDN request, RFC 8098), priority.

Which body: in multipart/alternative the richest part shown (HTML, else plain text, RFC 2046 §5.1.4), in
multipart/related the root (its `start` parameter, else the first part, RFC 2387 §3.2), in other multiparts every
inline text part in order. Text parts with a file name or `Content-Disposition: attachment`, and every other
type, are attachments; an image with a Content-ID inside multipart/related, or referenced by `cid:`, is inline.

Invariants: pure and never raises on any bytes (malformed mail gives a view with what could be read and its
`defects`); the HTML in a view is always sanitiser output; sizes are bounded (`MAX_BODY_CHARS` per body part).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from yizhan.mail.addresses import parse_address_list
from yizhan.mail.charsets import decode_bytes, decode_header_value
from yizhan.mail.htmltext import html_to_text
from yizhan.mail.imapformat import MimePart, find_section, parse_structure
from yizhan.mail.model import Address
from yizhan.mail.parse import _message_ids, decode_body
from yizhan.mail.parts import (
    child_path,
    content_id,
    content_type,
    decoded_size,
    default_filename,
    disposition,
    parse_path,
    part_filename,
)
from yizhan.mail.sanitize import SanitizeOptions, sanitize_html
from yizhan.mail.textformat import text_to_html

MAX_BODY_CHARS = 2 * 1024 * 1024
MAX_BODY_PARTS = 20
MAX_ATTACHMENTS = 500


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """One attachment or inline part. `path` is its IMAP part path ("1.2"); `size` counts decoded bytes."""

    path: str
    filename: str
    content_type: str
    size: int
    is_inline: bool
    content_id: str = ""
    # An attached message (message/rfc822): the web may show it with `render_attached`.
    is_message: bool = False


@dataclass(frozen=True, slots=True)
class MessageView:
    subject: str = ""
    from_: tuple[Address, ...] = ()
    sender: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    date: datetime | None = None
    message_id: str = ""
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    # Safe HTML of the body (sanitiser output), and which kind of part it came from: "html", "text" or "none".
    body_html: str = ""
    body_kind: str = "none"
    # The plain text of the body shown (for quoting in a reply), and the original HTML part when there was one.
    body_text: str = ""
    attachments: tuple[AttachmentInfo, ...] = ()
    # Content-ID (without brackets) → part path, for every part that has a Content-ID.
    inline_parts: tuple[tuple[str, str], ...] = ()
    has_remote_images: bool = False
    # RFC 2369 List-Unsubscribe URLs (http, https and mailto only), and RFC 8058 one-click support.
    list_unsubscribe: tuple[str, ...] = ()
    unsubscribe_one_click: bool = False
    # RFC 8098 §2.1: where the sender asks for a read receipt (empty: no request).
    mdn_to: tuple[Address, ...] = ()
    # 1 (highest) to 5 (lowest); 3 when the message says nothing.
    priority: int = 3
    defects: tuple[str, ...] = field(default=())

    def cid_map(self) -> dict[str, str]:
        return dict(self.inline_parts)


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """`part_url(path)` is the URL the web serves a part at (for cid: images); remote images go through
    `proxy_url(url)` when `allow_remote`, and are blocked otherwise."""

    allow_remote: bool = False
    proxy_url: Callable[[str], str] | None = None
    part_url: Callable[[str], str] | None = None


@dataclass
class _Walk:
    raw: bytes
    bodies: list[tuple[MimePart, str]] = field(default_factory=list)
    attachments: list[AttachmentInfo] = field(default_factory=list)
    cids: dict[str, str] = field(default_factory=dict)


def _displayable(part: MimePart) -> bool:
    return part.maintype == "text" and part.subtype in ("plain", "html") and part.message is None


def _has_html(part: MimePart) -> bool:
    if part.parts:
        return any(_has_html(p) for p in part.parts[:50])
    return part.maintype == "text" and part.subtype == "html"


def _chosen_alternative(parts: list[MimePart]) -> int:
    """The richest alternative we can show: the last containing HTML, else the last plain text, else the first."""
    for index in range(len(parts) - 1, -1, -1):
        if _has_html(parts[index]) and disposition(parts[index]) != "attachment":
            return index
    for index in range(len(parts) - 1, -1, -1):
        if parts[index].maintype == "text" and parts[index].subtype == "plain":
            return index
    return 0


def _related_root(part: MimePart) -> int:
    start = part.param("start")
    if start:
        wanted = start.strip().strip("<>")
        for index, child in enumerate(part.parts):
            if content_id(child) == wanted:
                return index
    return 0


def _walk(walk: _Walk, part: MimePart, path: str, display: bool, in_related: bool = False, depth: int = 0) -> None:
    if depth > 40 or len(walk.attachments) >= MAX_ATTACHMENTS:
        return
    if part.parts:
        if part.subtype == "alternative":
            chosen = _chosen_alternative(part.parts)
            for index, child in enumerate(part.parts, 1):
                # Alternatives not shown are other renderings of the same content: only their inline parts count.
                _walk(walk, child, child_path(path, index), display and index - 1 == chosen, in_related, depth + 1)
        elif part.subtype == "related":
            root = _related_root(part)
            for index, child in enumerate(part.parts, 1):
                _walk(walk, child, child_path(path, index), display and index - 1 == root, True, depth + 1)
        else:
            for index, child in enumerate(part.parts, 1):
                _walk(walk, child, child_path(path, index), display, in_related, depth + 1)
        return
    leaf_path = path or "1"
    cid = content_id(part)
    if cid:
        walk.cids.setdefault(cid, leaf_path)
    kind = disposition(part)
    name = part_filename(part)
    if display and _displayable(part) and kind != "attachment" and not (name and kind != "inline"):
        if len(walk.bodies) < MAX_BODY_PARTS:
            walk.bodies.append((part, leaf_path))
        return
    if not display and _displayable(part) and not name and kind != "attachment":
        return  # The text of an alternative not shown.
    ctype = content_type(part)
    inline = bool(cid) and part.maintype == "image" and kind != "attachment" and (in_related or kind == "inline")
    walk.attachments.append(AttachmentInfo(
        path=leaf_path, filename=name or default_filename(leaf_path, ctype), content_type=ctype,
        size=decoded_size(walk.raw, part), is_inline=inline, content_id=cid, is_message=part.message is not None,
    ))


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (TypeError, ValueError, OverflowError, IndexError, AttributeError):
        return None


def _unsubscribe(value: str | None) -> tuple[str, ...]:
    """RFC 2369 §3.2: a comma-separated list of <URL>s; only http, https and mailto are kept."""
    if not value:
        return ()
    urls = []
    for piece in value.split(","):
        piece = piece.strip()
        if piece.startswith("<") and ">" in piece:
            url = "".join(piece[1 : piece.index(">")].split())
            if url.lower().startswith(("http://", "https://", "mailto:")) and len(url) <= 2048:
                urls.append(url)
    return tuple(urls[:5])


def _priority(headers: dict[str, str]) -> int:
    value = headers.get("x-priority", "").strip()
    if value[:1].isdigit() and 1 <= int(value[:1]) <= 5:
        return int(value[:1])
    for name in ("importance", "priority", "x-msmail-priority"):
        word = headers.get(name, "").strip().lower()
        if word in ("high", "urgent"):
            return 1
        if word in ("low", "non-urgent"):
            return 5
    return 3


def _body(raw: bytes, part: MimePart, options: SanitizeOptions) -> tuple[str, str, bool, str, frozenset[str]]:
    """(safe HTML, kind, has remote images, plain text, Content-IDs referenced) of one body part."""
    charset = part.param("charset")
    text = decode_bytes(decode_body(raw, part)[: MAX_BODY_CHARS * 2], charset)[:MAX_BODY_CHARS].replace("\x00", "")
    if part.subtype == "html":
        safe = sanitize_html(text, options)
        return safe.html, "html", safe.has_remote_images, html_to_text(text), safe.cids
    fmt = (part.param("format") or "").strip().lower()
    delsp = (part.param("delsp") or "").strip().lower() == "yes"
    return sanitize_html(text_to_html(text, fmt == "flowed", delsp)).html, "text", False, text, frozenset()


def _view(raw: bytes, root: MimePart, prefix: str, options: RenderOptions, defects: list[str]) -> MessageView:
    headers: dict[str, str] = {}
    for key, value in root.headers:
        headers.setdefault(key, value)
    walk = _Walk(raw)
    try:
        if root.parts or not prefix:
            _walk(walk, root, prefix, True)
        else:
            # The single body of an attached message is numbered under the message/rfc822 part ("2.1").
            _walk(walk, root, child_path(prefix, 1), True)
    except RecursionError:
        defects.append("body too deeply nested")
    cids = walk.cids
    part_url = options.part_url

    def cid_url(cid: str) -> str | None:
        path = cids.get(cid)
        return part_url(path) if path is not None and part_url is not None else None

    sanitize = SanitizeOptions(allow_remote=options.allow_remote, proxy_url=options.proxy_url, part_url=cid_url)
    html_parts: list[str] = []
    texts: list[str] = []
    remote = False
    kinds = set()
    referenced: set[str] = set()
    for part, _path in walk.bodies:
        safe, kind, has_remote, text, used = _body(raw, part, sanitize)
        referenced |= used
        html_parts.append(safe)
        texts.append(text)
        remote = remote or has_remote
        kinds.add(kind)
    # Images the HTML shows through cid: are inline even outside multipart/related.
    attachments = tuple(
        AttachmentInfo(a.path, a.filename, a.content_type, a.size, True, a.content_id, a.is_message)
        if not a.is_inline and a.content_id in referenced and a.content_type.startswith("image/") else a
        for a in walk.attachments
    )
    unsubscribe = _unsubscribe(headers.get("list-unsubscribe"))
    message_ids = _message_ids(headers.get("message-id"))
    return MessageView(
        subject=" ".join(decode_header_value(headers.get("subject", "")).split()),
        from_=parse_address_list(headers.get("from", "")),
        sender=parse_address_list(headers.get("sender", "")),
        to=parse_address_list(headers.get("to", "")),
        cc=parse_address_list(headers.get("cc", "")),
        bcc=parse_address_list(headers.get("bcc", "")),
        reply_to=parse_address_list(headers.get("reply-to", "")),
        date=_date(headers.get("date")),
        message_id=message_ids[0] if message_ids else "",
        in_reply_to=_message_ids(headers.get("in-reply-to")),
        references=_message_ids(headers.get("references")),
        body_html="".join(html_parts),
        body_kind="html" if "html" in kinds else "text" if kinds else "none",
        body_text="\n\n".join(texts),
        attachments=attachments,
        inline_parts=tuple(cids.items()),
        has_remote_images=remote,
        list_unsubscribe=unsubscribe,
        unsubscribe_one_click=("one-click" in headers.get("list-unsubscribe-post", "").lower()
                               and any(u.lower().startswith("https://") for u in unsubscribe)),
        mdn_to=parse_address_list(headers.get("disposition-notification-to", "")),
        priority=_priority(headers),
        defects=tuple(dict.fromkeys(defects))[:20],
    )


def render_message(raw: bytes, options: RenderOptions | None = None) -> MessageView:
    """The view of a whole message; never raises (a message that cannot be read at all gives an empty view)."""
    defects: list[str] = []
    try:
        raw = bytes(raw)
        root = parse_structure(raw, defects)
        return _view(raw, root, "", options or RenderOptions(), defects)
    except Exception as exc:
        return MessageView(defects=(*defects[:19], f"unreadable: {type(exc).__name__}"))


def render_attached(raw: bytes, path: str, options: RenderOptions | None = None) -> MessageView | None:
    """The view of the message attached (message/rfc822) at part `path`, its parts numbered under that path, so
    downloads use the outer message's bytes; None when `path` is not an attached message."""
    section = parse_path(path)
    if section is None:
        return None
    try:
        raw = bytes(raw)
        defects: list[str] = []
        part = find_section(parse_structure(raw, defects), section)
        if part is None or part.message is None:
            return None
        return _view(raw, part.message, path, options or RenderOptions(), defects)
    except Exception:
        return None


__all__ = ["AttachmentInfo", "MessageView", "RenderOptions", "render_attached", "render_message"]
