"""Deciding SEARCH's text criteria on one message (RFC 9051 §6.4.4): HEADER, SUBJECT, FROM, TO, CC, BCC, BODY and
TEXT, and the day of its Date header for SENTBEFORE / SENTON / SENTSINCE.

SUBJECT, FROM, TO, CC and BCC are decided on the cached ENVELOPE (RFC 3501 §6.4.4 defines them on the envelope's
fields; names are decoded from RFC 2047), so no message needs reading for them; other headers and the body are
decided on the message itself, decoded (`mail.parse`). Matches are substrings compared case-insensitively after
NFKC. Pure: no I/O; nothing here raises on any input (an unreadable envelope decides nothing).
"""

from __future__ import annotations

import datetime
import email.utils
import unicodedata

from yizhan.mail.charsets import decode_header_value
from yizhan.mail.imapformat import parse_structure, scan_headers
from yizhan.mail.parse import parse_message
from yizhan.protocols.imap import search as sk
from yizhan.store.imapsearch import SearchRow

TextKey = sk.Header | sk.Text
Sexp = list["Sexp"] | str | None
# The ENVELOPE fields (RFC 9051 §7.5.2) that answer a header criterion without reading the message.
ENVELOPE_FIELDS = {"subject": 1, "from": 2, "to": 5, "cc": 6, "bcc": 7}
_MAX_ENVELOPE = 1 << 20


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def utc_day(seconds: int) -> datetime.date:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).date()


def parse_envelope(envelope: str) -> list[Sexp] | None:
    """The cached ENVELOPE as nested lists of strings and None (NIL); None when it cannot be read."""
    data = envelope.encode("utf-8")[:_MAX_ENVELOPE]
    stack: list[list[Sexp]] = [[]]
    i = 0
    try:
        while i < len(data):
            ch = data[i:i + 1]
            if ch == b"(":
                stack.append([])
                i += 1
            elif ch == b")":
                done = stack.pop()
                stack[-1].append(done)
                i += 1
            elif ch == b" ":
                i += 1
            elif ch == b'"':
                out = bytearray()
                i += 1
                while data[i:i + 1] != b'"':
                    if data[i:i + 1] == b"\\":
                        i += 1
                    out += data[i:i + 1]
                    i += 1
                    if i >= len(data):
                        return None
                stack[-1].append(out.decode("utf-8", "replace"))
                i += 1
            elif ch == b"{":
                close = data.index(b"}", i)
                size = int(data[i + 1:close])
                start = close + 3  # "}" CR LF
                stack[-1].append(data[start:start + size].decode("utf-8", "replace"))
                i = start + size
            elif data[i:i + 3] == b"NIL":
                stack[-1].append(None)
                i += 3
            else:
                return None
    except (ValueError, IndexError):
        return None
    top = stack[0]
    if len(stack) != 1 or len(top) != 1 or not isinstance(top[0], list):
        return None
    return top[0]


def _address_text(field: Sexp) -> str:
    """An envelope address list as `Name <mailbox@host>, ...`, names decoded (RFC 2047)."""
    if not isinstance(field, list):
        return ""
    parts = []
    for address in field:
        if not isinstance(address, list) or len(address) != 4:
            continue
        name, _, mailbox, host = (a if isinstance(a, str) else "" for a in address)
        name = decode_header_value(name) if name else ""
        addr = f"{mailbox}@{host}" if mailbox and host else mailbox
        parts.append(f"{name} <{addr}>" if name and addr else name or addr)
    return ", ".join(parts)


def check_envelope(envelope: str, keys: list[TextKey]) -> dict[TextKey, bool]:
    """The header criteria the ENVELOPE answers (SUBJECT, FROM, TO, CC, BCC with a non-empty value)."""
    fields = parse_envelope(envelope) if envelope else None
    if fields is None or len(fields) < 8:
        return {}
    out: dict[TextKey, bool] = {}
    for key in keys:
        if isinstance(key, sk.Header) and key.value and key.field in ENVELOPE_FIELDS:
            value = fields[ENVELOPE_FIELDS[key.field]]
            if key.field == "subject":
                text = decode_header_value(value) if isinstance(value, str) else ""
            else:
                text = _address_text(value)
            out[key] = _fold(key.value) in _fold(text)
    return out


def _envelope_date(envelope: str) -> str | None:
    """The Date field written first in a cached ENVELOPE (a quoted string), or None."""
    if not envelope.startswith('("'):
        return None
    out = []
    i = 2
    while i < len(envelope):
        ch = envelope[i]
        if ch == "\\" and i + 1 < len(envelope):
            out.append(envelope[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out)
        out.append(ch)
        i += 1
    return None


def sent_day(row: SearchRow) -> datetime.date:
    """The calendar day of the Date header in its own zone (RFC 9051 §6.4.4: time and timezone disregarded)."""
    written = _envelope_date(row.envelope)
    if written:
        try:
            parsed = email.utils.parsedate_to_datetime(written)
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
        if parsed is not None:
            return parsed.date()
    return utc_day(row.date)


def check_text(raw: bytes, keys: list[TextKey]) -> dict[TextKey, bool]:
    """Each text criterion decided on the message itself (in a thread: it parses)."""
    wanted = {key.field for key in keys if isinstance(key, sk.Header)}
    with_text = any(isinstance(key, sk.Text) for key in keys)
    # Header criteria alone need only the top-level header, not the MIME tree.
    fields = parse_structure(raw).headers if with_text else scan_headers(raw, 0, len(raw))[0]
    headers = [(name, decode_header_value(value)) for name, value in fields if with_text or name in wanted]
    parsed = parse_message(raw) if with_text else None
    out: dict[TextKey, bool] = {}
    for key in keys:
        if isinstance(key, sk.Header):
            values = [value for name, value in headers if name == key.field]
            needle = _fold(key.value)
            out[key] = bool(values) if not needle else any(needle in _fold(v) for v in values)
            continue
        assert parsed is not None
        hay = [parsed.body_text, *parsed.attachment_names]
        if not key.body_only:
            hay += [value for _, value in headers]
        needle = _fold(key.value)
        out[key] = any(needle in _fold(h) for h in hay)
    return out
