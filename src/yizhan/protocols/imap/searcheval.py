"""Evaluating a SEARCH criteria tree (`search.SearchKey`, RFC 9051 §6.4.4) over one selected mailbox, cheaply.

How: the tree is translated into the store's condition tree (`store.imapsearch`) and evaluated in SQL, in
three-valued logic: flags, keywords, sizes, internal dates, MODSEQ, UIDs and message numbers (mapped to UID ranges
through the session's numbering) are decided there; text criteria become search-index matches, proven or only
"maybe" (`services.mailbox.text_condition`); the Date header's day is decided in SQL except within a day of the
boundary (time zones). Only the entries SQL leaves undecided are checked here, one by one: first on the cached
ENVELOPE, then, if still needed, on the message read and decoded (`searchtext`), in batches handed to a worker
thread that holds one message at a time.

Invariants:
- Only entries the session knows (its message numbers) are considered; the result is ascending UIDs.
- Substring matches are case-insensitive after NFKC (RFC 9051 §6.4.4 leaves the comparison to the server); text the
  index holds is matched where words start, CJK text anywhere (so 北京 is found inside 北京会议); an entry the
  index does not return for a text criterion does not contain it. Headers the index does not hold (HEADER
  X-Custom) are checked by reading the messages SQL could not rule out.
- Internal dates (BEFORE, ON, SINCE) are compared as UTC days; the Date header (SENTBEFORE, SENTON, SENTSINCE) by
  its own calendar day, falling back to the internal date when the message has none. \\Recent is never set.
- A tree too large for one SQL statement (more than `_MAX_NODES` criteria, or sets of many ranges) is left
  undecided in SQL and evaluated here, so any valid SEARCH is answered.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from yizhan.protocols.imap import search as sk
from yizhan.protocols.imap.searchtext import ENVELOPE_FIELDS, TextKey, check_envelope, check_text, sent_day, utc_day
from yizhan.protocols.imap.selected import Selected
from yizhan.protocols.imap.sequence import SequenceSet
from yizhan.services.mailbox import MailboxService
from yizhan.store import imapsearch as q
from yizhan.store.imapsearch import SearchRow
from yizhan.store.messages import flag_bits

Verdict = bool | None
_MAX_NODES = 300
_MAX_RANGES = 200
# Messages read and checked per worker-thread call (one at a time, so memory holds one message).
_READ_BATCH = 64
_DAY = 86400
# A Date header's own day is its UTC instant shifted by its zone, between -12:00 and +14:00.
_WEST, _EAST = 12 * 3600, 14 * 3600


@dataclass
class _Context:
    selected: Selected
    now: int
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


def _day_start(day: datetime.date) -> int:
    return calendar.timegm(day.timetuple())


def _uid_ranges(spans: list[tuple[int, int]]) -> q.Cond:
    return q.UidIn(tuple(spans)) if len(spans) <= _MAX_RANGES else q.Const(None)


def _translate(key: sk.SearchKey, ctx: _Context) -> q.Cond:
    """The store condition for `key`: SQL decides what it can, the rest is undecided (NULL)."""
    if isinstance(key, sk.All | sk.Old):
        return q.Const(True)
    if isinstance(key, sk.Recent | sk.New):
        return q.Const(False)
    if isinstance(key, sk.Flag):
        bits, keywords = flag_bits([key.flag])
        return q.FlagBit(bits, key.present) if bits else q.Keyword(keywords[0], key.present)
    if isinstance(key, sk.Text):
        if not key.value:
            return q.Const(True)  # The empty string is in every message.
        return MailboxService.text_condition("body" if key.body_only else "text", key.value)
    if isinstance(key, sk.Header):
        return MailboxService.text_condition(key.field, key.value) if key.value else q.Const(None)
    if isinstance(key, sk.Date):
        start = _day_start(key.day)
        if not key.sent:
            if key.op == "before":
                return q.Compare("internal_date", "lt", start)
            if key.op == "since":
                return q.Compare("internal_date", "ge", start)
            return q.AllOf((q.Compare("internal_date", "ge", start), q.Compare("internal_date", "lt", start + _DAY)))
        surely_before = q.Compare("date", "lt", start - _EAST)
        surely_since = q.Compare("date", "ge", start + _WEST)
        if key.op == "before":
            return q.Tri(surely_before, surely_since)
        if key.op == "since":
            return q.Tri(surely_since, surely_before)
        return q.Tri(None, q.AnyOf((surely_before, q.Compare("date", "ge", start + _DAY + _WEST))))
    if isinstance(key, sk.Size):
        if key.op == "larger":
            return q.Compare("size", "ge", key.size + 1)
        return q.Compare("size", "lt", key.size)
    if isinstance(key, sk.Age):
        # RFC 5032 §3: YOUNGER n is within the last n seconds, OLDER n is not.
        return q.Compare("internal_date", "ge" if key.op == "younger" else "lt", ctx.now - key.seconds)
    if isinstance(key, sk.Sequence):
        if key.seq.saved:
            return _uid_ranges(SequenceSet.from_numbers(sorted(ctx.saved)).resolve(0))
        if key.uid:
            return _uid_ranges(ctx.ranges[key])
        uids = ctx.selected.uids
        spans = [(uids[a - 1], uids[min(b, len(uids)) - 1]) for a, b in ctx.ranges[key] if 1 <= a <= len(uids)]
        return _uid_ranges(spans)
    if isinstance(key, sk.ModSeq):
        return q.Compare("modseq", "ge", key.modseq)
    if isinstance(key, sk.Not):
        return q.Not(_translate(key.key, ctx))
    if isinstance(key, sk.Or):
        return q.AnyOf((_translate(key.left, ctx), _translate(key.right, ctx)))
    assert isinstance(key, sk.And)
    return q.AllOf(tuple(_translate(sub, ctx) for sub in key.keys))


def _and(values: Iterator[Verdict]) -> Verdict:
    result: Verdict = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def _eval(key: sk.SearchKey, row: SearchRow, ctx: _Context, exact: dict[TextKey, bool]) -> Verdict:
    """`key` on one row; text criteria from `exact` (undecided when missing)."""
    if isinstance(key, sk.All | sk.Old):
        return True
    if isinstance(key, sk.Flag):
        wanted = key.flag.lower()
        return any(f.lower() == wanted for f in row.flags) == key.present
    if isinstance(key, sk.Recent | sk.New):
        return False
    if isinstance(key, sk.Text) and not key.value:
        return True
    if isinstance(key, sk.Header | sk.Text):
        return exact.get(key)
    if isinstance(key, sk.Date):
        day = sent_day(row) if key.sent else utc_day(row.internal_date)
        if key.op == "before":
            return day < key.day
        return day == key.day if key.op == "on" else day >= key.day
    if isinstance(key, sk.Size):
        return row.size > key.size if key.op == "larger" else row.size < key.size
    if isinstance(key, sk.Age):
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


def _uid_bounds(key: sk.SearchKey, largest: int) -> tuple[int, int]:
    """UIDs outside these bounds cannot match (a UID criterion at the top level, and the largest UID known)."""
    keys = key.keys if isinstance(key, sk.And) else (key,)
    low, high = 1, largest
    for sub in keys:
        if isinstance(sub, sk.Sequence) and sub.uid and not sub.seq.saved:
            spans = sub.seq.resolve(largest)
            if spans:
                low = max(low, spans[0][0])
                high = min(high, spans[-1][1])
    return low, high


def _check_messages(mailbox: MailboxService, blobs: list[str], keys: list[TextKey]) -> list[dict[TextKey, bool] | None]:
    """Text criteria decided on each message, read one at a time (in a worker thread: it reads and parses)."""
    out: list[dict[TextKey, bool] | None] = []
    for blob in blobs:
        raw = mailbox.read_blocking(blob)
        out.append(None if raw is None else check_text(raw, keys))
    return out


async def _decide(mailbox: MailboxService, ctx: _Context, criteria: sk.SearchKey, uids: list[int],
                  text_keys: list[TextKey]) -> list[tuple[int, int]]:
    """(UID, MODSEQ) of those undecided entries that match, checked one by one: on the envelope, then (in batches
    handed to a worker thread) on the message."""
    with_envelope = any(isinstance(k, sk.Header) and k.field in ENVELOPE_FIELDS for k in text_keys) or any(
        isinstance(k, sk.Date) and k.sent for k in _walk(criteria))
    matched: list[tuple[int, int]] = []
    unread: list[tuple[SearchRow, dict[TextKey, bool]]] = []
    for row in await mailbox.search_rows(ctx.selected.folder, uids, with_envelope):
        decided = check_envelope(row.envelope, text_keys) if with_envelope else {}
        verdict = _eval(criteria, row, ctx, decided)
        if verdict is None:
            unread.append((row, decided))
        elif verdict:
            matched.append((row.uid, row.modseq))
    for start in range(0, len(unread), _READ_BATCH):
        batch = unread[start:start + _READ_BATCH]
        checked = await asyncio.to_thread(_check_messages, mailbox, [row.blob for row, _ in batch], text_keys)
        for (row, decided), exact in zip(batch, checked, strict=True):
            # What the envelope decided stands (RFC 3501 §6.4.4 defines those criteria on it).
            if exact is not None and _eval(criteria, row, ctx, {**exact, **decided}):
                matched.append((row.uid, row.modseq))
    return matched


async def evaluate(mailbox: MailboxService, selected: Selected, criteria: sk.SearchKey) -> list[tuple[int, int]]:
    """(UID, MODSEQ) of the session's messages matching `criteria`, ascending by UID."""
    if not selected.uids:
        return []
    ctx = _Context(selected, int(time.time()), saved=frozenset(selected.saved))
    largest_uid = selected.uids[-1]
    nodes = 0
    text_keys: list[TextKey] = []
    for key in _walk(criteria):
        nodes += 1
        if isinstance(key, sk.Header | sk.Text) and key not in text_keys:
            text_keys.append(key)
        elif isinstance(key, sk.Sequence) and not key.seq.saved:
            ctx.ranges[key] = key.seq.resolve(largest_uid if key.uid else selected.exists)
    low, high = _uid_bounds(criteria, largest_uid)
    if high < low:
        return []
    cond = _translate(criteria, ctx) if nodes <= _MAX_NODES else q.Const(None)
    found = await mailbox.search_matching(selected.folder, cond, low, high)
    sure = [(uid, modseq) for uid, modseq, undecided in found if not undecided]
    unsure = [uid for uid, _, undecided in found if undecided]
    if unsure:
        sure = sorted(sure + await _decide(mailbox, ctx, criteria, unsure, text_keys))
    known = set(selected.uids)
    return [(uid, modseq) for uid, modseq in sure if uid in known]
