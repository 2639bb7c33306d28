"""Evaluating a SEARCH criteria tree (`search.SearchKey`, RFC 9051 §6.4.4) over one selected mailbox, cheaply.

How: metadata criteria (flags, numbers, UIDs, dates, sizes, MODSEQ) are decided from the rows the store returns
for the folder, without reading messages. Text criteria (HEADER, FROM/TO/CC/BCC/SUBJECT, BODY, TEXT) first ask the
search index (`services.mailbox.text_candidates`): an entry the index does not return does not match; one it
returns matches for sure when the index can prove it, else "maybe". The tree is evaluated in three-valued (Kleene)
logic, so only entries whose result is still unknown are checked: SUBJECT, FROM, TO, CC and BCC against the
cached ENVELOPE (RFC 3501 §6.4.4 defines FROM etc. on the envelope's fields; names decoded from RFC 2047), any
other criterion against the message read and decoded.

Invariants:
- Only entries the session knows (its message numbers) are considered; the result is ascending UIDs.
- Substring matches are case-insensitive after NFKC (RFC 9051 §6.4.4 leaves the comparison to the server); text
  found by the index is matched where words start, CJK text anywhere (so 北京 is found inside 北京会议), and
  headers the index does not hold (HEADER X-Custom) are checked by reading the message.
- Internal dates (BEFORE, ON, SINCE) are compared as UTC days; the Date header (SENTBEFORE, SENTON, SENTSINCE) by
  its own calendar day, falling back to the internal date when the message has none. \\Recent is never set.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from yizhan.mail.charsets import decode_header_value
from yizhan.mail.imapformat import parse_structure
from yizhan.mail.parse import parse_message
from yizhan.protocols.imap import search as sk
from yizhan.protocols.imap.selected import Selected
from yizhan.services.mailbox import MailboxService
from yizhan.store.imapsearch import SearchRow
from yizhan.util.errors import NotFound

Tri = bool | None
TextKey = sk.Header | sk.Text
Sexp = list["Sexp"] | str | None
# The ENVELOPE fields (RFC 9051 §7.5.2) that answer a header criterion without reading the message.
_ENVELOPE_FIELDS = {"subject": 1, "from": 2, "to": 5, "cc": 6, "bcc": 7}
_MAX_ENVELOPE = 1 << 20


@dataclass
class _Context:
    selected: Selected
    now: int
    # Per text criterion: (candidate UIDs or None for "any entry may match", proven).
    texts: dict[TextKey, tuple[set[int] | None, bool]] = field(default_factory=dict)
    ranges: dict[sk.Sequence, list[tuple[int, int]]] = field(default_factory=dict)
    saved: frozenset[int] = frozenset()


def _walk(key: sk.SearchKey) -> Iterator[sk.SearchKey]:
    yield key
    if isinstance(key, sk.Not):
        yield from _walk(key.key)
    elif isinstance(key, sk.Or):
        yield from _walk(key.left)
        yield from _walk(key.right)
    elif isinstance(key, sk.And):
        for sub in key.keys:
            yield from _walk(sub)


def uses_modseq(key: sk.SearchKey) -> bool:
    return any(isinstance(k, sk.ModSeq) for k in _walk(key))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _utc_day(seconds: int) -> datetime.date:
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


def _check_envelope(envelope: str, keys: list[TextKey]) -> dict[TextKey, bool]:
    """The header criteria the ENVELOPE answers (SUBJECT, FROM, TO, CC, BCC with a non-empty value)."""
    fields = parse_envelope(envelope) if envelope else None
    if fields is None or len(fields) < 8:
        return {}
    out: dict[TextKey, bool] = {}
    for key in keys:
        if isinstance(key, sk.Header) and key.value and key.field in _ENVELOPE_FIELDS:
            value = fields[_ENVELOPE_FIELDS[key.field]]
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
    return _utc_day(row.date)


def _and(values: Iterator[Tri]) -> Tri:
    result: Tri = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def _eval(key: sk.SearchKey, row: SearchRow, ctx: _Context, exact: dict[TextKey, bool] | None) -> Tri:
    if isinstance(key, sk.All | sk.Old):
        return True
    if isinstance(key, sk.Flag):
        wanted = key.flag.lower()
        return any(f.lower() == wanted for f in row.flags) == key.present
    if isinstance(key, sk.Recent | sk.New):
        return False
    if isinstance(key, sk.Header | sk.Text):
        if exact is not None and key in exact:
            return exact[key]
        candidates, proven = ctx.texts[key]
        if candidates is None:
            return None
        if row.uid not in candidates:
            return False
        return True if proven else None
    if isinstance(key, sk.Date):
        day = sent_day(row) if key.sent else _utc_day(row.internal_date)
        if key.op == "before":
            return day < key.day
        return day == key.day if key.op == "on" else day >= key.day
    if isinstance(key, sk.Size):
        return row.size > key.size if key.op == "larger" else row.size < key.size
    if isinstance(key, sk.Age):
        # RFC 5032 §3: YOUNGER n is within the last n seconds, OLDER n is not.
        within = ctx.now - row.internal_date <= key.seconds
        return within if key.op == "younger" else not within
    if isinstance(key, sk.Sequence):
        if key.seq.saved:
            return row.uid in ctx.saved
        value = row.uid if key.uid else ctx.selected.number_of(row.uid) or 0
        return any(a <= value <= b for a, b in ctx.ranges[key])
    if isinstance(key, sk.ModSeq):
        return row.modseq >= key.modseq
    if isinstance(key, sk.Not):
        inner = _eval(key.key, row, ctx, exact)
        return None if inner is None else not inner
    if isinstance(key, sk.Or):
        left = _eval(key.left, row, ctx, exact)
        if left is True:
            return True
        right = _eval(key.right, row, ctx, exact)
        if right is True:
            return True
        return None if left is None or right is None else False
    assert isinstance(key, sk.And)
    return _and(_eval(sub, row, ctx, exact) for sub in key.keys)


def _check_text(raw: bytes, keys: list[TextKey]) -> dict[TextKey, bool]:
    """Each text criterion decided on the message itself (in a thread: it parses)."""
    root = parse_structure(raw)
    headers = [(name, decode_header_value(value)) for name, value in root.headers]
    parsed = parse_message(raw) if any(isinstance(k, sk.Text) for k in keys) else None
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


def _uid_bounds(key: sk.SearchKey, largest: int) -> tuple[int, int | None]:
    """UIDs outside these bounds cannot match (from a UID criterion at the top level), to read fewer rows."""
    keys = key.keys if isinstance(key, sk.And) else (key,)
    low, high = 1, None
    for sub in keys:
        if isinstance(sub, sk.Sequence) and sub.uid and not sub.seq.saved:
            spans = sub.seq.resolve(largest)
            if spans:
                low = max(low, spans[0][0])
                high = spans[-1][1] if high is None else min(high, spans[-1][1])
    return low, high


async def evaluate(mailbox: MailboxService, selected: Selected, criteria: sk.SearchKey) -> list[SearchRow]:
    """The rows of the session's messages matching `criteria`, ascending by UID."""
    ctx = _Context(selected, int(time.time()), saved=frozenset(selected.saved))
    largest_uid = selected.uids[-1] if selected.uids else 0
    text_keys: list[TextKey] = []
    with_envelope = False
    for key in _walk(criteria):
        if isinstance(key, sk.Header | sk.Text) and key not in ctx.texts:
            if isinstance(key, sk.Text) and not key.value:
                ctx.texts[key] = (set(selected.uids), True)  # The empty string is in every message.
                continue
            field_name = ("body" if key.body_only else "text") if isinstance(key, sk.Text) else key.field
            if isinstance(key, sk.Header) and not key.value:
                ctx.texts[key] = (None, False)
            else:
                ctx.texts[key] = await mailbox.text_candidates(selected.folder, field_name, key.value)
            text_keys.append(key)
        elif isinstance(key, sk.Sequence) and not key.seq.saved:
            ctx.ranges[key] = key.seq.resolve(largest_uid if key.uid else selected.exists)
        if (isinstance(key, sk.Date) and key.sent) or (isinstance(key, sk.Header) and key.field in _ENVELOPE_FIELDS):
            with_envelope = True
    low, high = _uid_bounds(criteria, largest_uid)
    if not selected.uids or (high is not None and high < low):
        return []
    rows = await mailbox.search_rows(selected.folder, low, high, with_envelope)
    matched: list[SearchRow] = []
    for row in rows:
        if selected.number_of(row.uid) is None:
            continue
        verdict = _eval(criteria, row, ctx, None)
        if verdict is None and with_envelope:
            exact = _check_envelope(row.envelope, text_keys)
            verdict = _eval(criteria, row, ctx, exact)
        if verdict is None:
            try:
                raw = await mailbox.read(row.blob)
            except NotFound:
                continue
            exact = await asyncio.to_thread(_check_text, raw, text_keys)
            verdict = _eval(criteria, row, ctx, exact)
        if verdict:
            matched.append(row)
    return matched
