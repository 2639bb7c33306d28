"""Parsing a raw message into a `ParsedMessage`: decoded headers, body text, attachments, IMAP structures.

Invariants: `parse_message` never raises, whatever the bytes (broken MIME, 8-bit headers, wrong or unknown
charsets, truncated parts, NUL bytes, empty input); what cannot be read is left empty and noted in
`defects`. The MIME tree comes from `imapformat.parse_structure`, which locates parts in the raw bytes, so
the text indexed, the attachments listed and the BODYSTRUCTURE served describe the very same parts. It is
faster than the email package (even with policy.compat32), which matters at an import rate of thousands of
messages a second.
"""

from __future__ import annotations

import binascii
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from yizhan.mail.addresses import parse_address_list
from yizhan.mail.charsets import b64decode_loose, decode_bytes, decode_header_value
from yizhan.mail.htmltext import html_to_text
from yizhan.mail.imapformat import MimePart, build_bodies, build_envelope, parse_params, parse_structure
from yizhan.mail.model import Address, ParsedMessage

MAX_BODY_TEXT = 256 * 1024
PREVIEW_CHARS = 200
# HTML beyond this many bytes is not turned into text: the text cap is reached long before.
_MAX_HTML_BYTES = 512 * 1024
_MAX_DEFECTS = 20

_MSG_ID = re.compile(r"<[^<>\s]+>")
_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMPTY_ENVELOPE = "(" + " ".join(["NIL"] * 10) + ")"


def _clean(text: str) -> str:
    """One line of display text: control characters removed, whitespace collapsed."""
    # str.split() splits on exactly what `\s` matches in a str pattern (str.isspace), and is several times
    # faster than a substitution.
    return " ".join(_CONTROL.sub("", text).split())


def decode_body(raw: bytes, part: MimePart) -> bytes:
    """The body of a leaf part with its Content-Transfer-Encoding (RFC 2045 §6) undone, tolerantly."""
    data = raw[part.body_start : part.end]
    encoding = (part.header("content-transfer-encoding") or "").strip().lower()
    try:
        if encoding == "base64":
            return b64decode_loose(data)
        if encoding == "quoted-printable":
            return binascii.a2b_qp(data)
    except (binascii.Error, ValueError):
        pass
    return data


def _decoded_param(params: tuple[tuple[str, str], ...], name: str) -> str | None:
    """A parameter's value with RFC 2231 continuations and charsets and RFC 2047 words decoded."""
    plain: str | None = None
    segments: dict[int, tuple[str, bool]] = {}
    for key, value in params:
        if key == name:
            plain = value if plain is None else plain
        elif key.startswith(name + "*"):
            # RFC 2231 §3 and §4: "name*" (encoded), "name*0" (continued), "name*1*" (continued and encoded).
            rest = key[len(name) + 1 :]
            number = rest.rstrip("*") or "0"
            if number.isdigit() and len(number) < 4:
                segments.setdefault(int(number), (value, rest == "" or rest.endswith("*")))
    if segments:
        charset: str | None = None
        data = bytearray()
        for index, key_number in enumerate(sorted(segments)):
            value, encoded = segments[key_number]
            if encoded:
                if index == 0 and value.count("'") >= 2:
                    charset, _language, value = value.split("'", 2)
                data += _percent_decode(value)
            else:
                data += value.encode("utf-8", "replace")
        return decode_bytes(bytes(data), charset)
    if plain is not None:
        return decode_header_value(plain)
    return None


def _percent_decode(value: str) -> bytes:
    """RFC 2231 §4 percent-decoding into bytes (urllib's unquote_to_bytes, without the import cost)."""
    raw = value.encode("utf-8", "replace")
    if b"%" not in raw:
        return raw
    pieces = raw.split(b"%")
    out = bytearray(pieces[0])
    for piece in pieces[1:]:
        try:
            out.append(int(piece[:2], 16))
            out += piece[2:]
        except ValueError:
            out += b"%" + piece
    return bytes(out)


def _filename(part: MimePart) -> str:
    """The decoded file name: Content-Disposition filename, else Content-Type name (RFC 2183 §2.3)."""
    disposition = part.header("content-disposition")
    if disposition:
        name = _decoded_param(parse_params(disposition)[1], "filename")
        if name:
            return _clean(name)
    name = _decoded_param(part.params, "name")
    return _clean(name) if name else ""


class _Collector:
    """What the walk over the MIME tree gathers."""

    def __init__(self, raw: bytes, defects: list[str]) -> None:
        self.raw = raw
        self.defects = defects
        self.texts: list[str] = []
        self.size = 0
        self.names: list[str] = []
        self.has_attachments = False

    def add_text(self, text: str) -> None:
        if self.size >= MAX_BODY_TEXT or not text:
            return
        text = text[: MAX_BODY_TEXT - self.size].replace("\r\n", "\n").replace("\r", "\n")
        self.texts.append(text)
        self.size += len(text) + 1

    def walk(self, part: MimePart, want_text: bool) -> None:
        if part.parts:
            chosen = _chosen_alternative(part.parts) if part.subtype == "alternative" else -1
            for index, child in enumerate(part.parts):
                self.walk(child, want_text and (chosen < 0 or index == chosen))
            return
        disposition = parse_params(part.header("content-disposition") or "")[0]
        name = _filename(part)
        if part.message is not None:
            if disposition == "attachment":
                self.has_attachments = True
                if name:
                    self.names.append(name)
            inner = decode_header_value(part.message.header("subject") or "")
            if want_text:
                self.add_text(_clean(inner))
            self.walk(part.message, want_text)
            return
        if _is_attachment(part, disposition, name):
            self.has_attachments = True
            if name:
                self.names.append(name)
            return
        if not want_text or part.maintype != "text":
            return
        if part.subtype == "html":
            data = decode_body(self.raw, part)[:_MAX_HTML_BYTES]
            self.add_text(html_to_text(decode_bytes(data, part.param("charset"))))
        elif part.subtype in ("plain", "enriched", "markdown", "x-markdown") or not part.subtype:
            data = decode_body(self.raw, part)[: MAX_BODY_TEXT * 4]
            self.add_text(decode_bytes(data, part.param("charset")).replace("\x00", ""))


def _chosen_alternative(parts: list[MimePart]) -> int:
    """Which part of a multipart/alternative gives the text: plain text if any, else HTML, else the last."""
    for wanted in ("plain", "html"):
        for index, part in enumerate(parts):
            if part.maintype == "text" and part.subtype == wanted:
                return index
    for index, part in enumerate(parts):
        if part.parts:
            return index
    return len(parts) - 1


def _is_attachment(part: MimePart, disposition: str, name: str) -> bool:
    """RFC 2183 disposition first; else named or non-text parts are attachments, except inline images."""
    if disposition == "attachment":
        return True
    if part.maintype == "text":
        return bool(name) and disposition != "inline"
    if part.maintype == "image" and part.header("content-id") and disposition != "attachment":
        return False
    return True


def _addresses(headers: dict[str, str], name: str) -> tuple[Address, ...]:
    value = headers.get(name)
    return parse_address_list(value) if value else ()


def _date(value: str | None, defects: list[str]) -> datetime | None:
    """The Date header (RFC 5322 §3.3, obsolete forms included) as an aware UTC datetime."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
        if parsed.tzinfo is None:
            # "-0000" means the zone is unknown (RFC 5322 §3.3); UTC is the best reading.
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, OverflowError, IndexError, AttributeError):
        defects.append("unreadable Date")
        return None


def _message_ids(value: str | None) -> tuple[str, ...]:
    """The `<...>` ids of Message-ID, In-Reply-To or References (RFC 5322 §3.6.4), brackets optional."""
    if not value:
        return ()
    value = value.replace("\x00", "")
    ids = _MSG_ID.findall(value)
    if ids:
        return tuple(dict.fromkeys(ids))
    bare = value.strip()
    if bare and " " not in bare and "@" in bare:
        return (f"<{bare.strip('<>')}>",)
    return ()


def parse_message(raw: bytes) -> ParsedMessage:
    """Everything Yizhan keeps about a message besides its bytes; never raises."""
    defects: list[str] = []
    try:
        if not isinstance(raw, bytes | bytearray | memoryview):
            raw = str(raw).encode("utf-8", "replace")
        raw = bytes(raw)
        if not raw:
            defects.append("empty message")
        root = parse_structure(raw, defects)
        return _build(raw, root, defects)
    except Exception as exc:
        defects.append(f"unparseable: {type(exc).__name__}")
        return ParsedMessage(envelope=_EMPTY_ENVELOPE, defects=tuple(defects[:_MAX_DEFECTS]))


def _build(raw: bytes, root: MimePart, defects: list[str]) -> ParsedMessage:
    headers: dict[str, str] = {}
    for key, value in root.headers:
        headers.setdefault(key, value)
    if not root.headers:
        defects.append("no header")
    collector = _Collector(raw, defects)
    try:
        collector.walk(root, True)
    except RecursionError:
        defects.append("body too deeply nested")
    body_text = "\n".join(collector.texts)
    try:
        envelope = build_envelope(root.headers)
        body, bodystructure = build_bodies(root, raw)
    except RecursionError:
        envelope, body, bodystructure = _EMPTY_ENVELOPE, "NIL", "NIL"
    message_ids = _message_ids(headers.get("message-id"))
    return ParsedMessage(
        subject=_clean(decode_header_value(headers.get("subject", ""))),
        from_=_addresses(headers, "from"),
        sender=_addresses(headers, "sender"),
        reply_to=_addresses(headers, "reply-to"),
        to=_addresses(headers, "to"),
        cc=_addresses(headers, "cc"),
        bcc=_addresses(headers, "bcc"),
        date=_date(headers.get("date"), defects),
        message_id=message_ids[0] if message_ids else "",
        in_reply_to=_message_ids(headers.get("in-reply-to")),
        references=_message_ids(headers.get("references")),
        body_text=body_text,
        preview=" ".join(body_text[: PREVIEW_CHARS * 4].split())[:PREVIEW_CHARS],
        attachment_names=tuple(collector.names),
        has_attachments=collector.has_attachments,
        envelope=envelope,
        body=body,
        bodystructure=bodystructure,
        defects=tuple(dict.fromkeys(defects))[:_MAX_DEFECTS],
    )


# RFC 5256 §2.1 subj-refwd, extended with the Chinese and common European reply and forward prefixes.
_REFWD = r"(?:re|fwd?|aw|wg|sv|vs|antw|回复|回覆|答复|答覆|转发|轉寄|转寄|轉發)"
_BLOB = r"\[[^\[\]]*\]\s*"
_LEADER = re.compile(rf"^(?:{_BLOB})*{_REFWD}\s*(?:{_BLOB})?[:：]\s*", re.IGNORECASE)
_LEADING_BLOB = re.compile(rf"^{_BLOB}")
_TRAILER = re.compile(r"(?:\s*\(fwd\))+\s*$", re.IGNORECASE)


def base_subject(subject: str) -> str:
    """The RFC 5256 §2.1 base subject used for threading, lowercased for comparison."""
    try:
        text = _WHITESPACE.sub(" ", decode_header_value(subject)).strip()
        while True:
            # Step 2: remove trailing "(fwd)" and whitespace.
            text = _TRAILER.sub("", text).strip()
            # Steps 3 to 5: remove leaders ("Re:", "[tag] Fwd:") and leading [blobs] that do not
            # leave it empty.
            while True:
                previous = text
                text = _LEADER.sub("", text, count=1)
                blob = _LEADING_BLOB.match(text)
                if blob and text[blob.end() :].strip():
                    text = text[blob.end() :]
                if text == previous:
                    break
            # Step 6: "[fwd: subject]" wraps a forwarded subject.
            lowered = text.lower()
            if lowered.startswith("[fwd:") and text.endswith("]"):
                text = text[5:-1].strip()
                continue
            return text.lower()
    except Exception:
        return subject.strip().lower()


__all__ = ["base_subject", "decode_body", "parse_message"]
