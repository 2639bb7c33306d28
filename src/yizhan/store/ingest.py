"""Filing new messages into folders, with group commit.

Callers (deliveries, imports, IMAP APPEND) submit entries whose blobs are already durable. One writer task takes
everything waiting, up to `max_batch` entries, and files it in ONE transaction: a handful of statements however
many entries, and one fsync of the write-ahead log for all of them. Each caller's future is resolved only after
that commit returns, so nothing is acknowledged before it is durable, and concurrent deliveries share the fsync
instead of queueing behind one fsync each.

Per entry, in the same transaction: the next UID and MODSEQ of the folder, the message row (with its thread),
the entry, the search index row, the folder's counters and the account's usage. An entry that cannot be filed
(its folder is gone, its account is over quota) gets an error result without failing the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.sql import Select

from yizhan.mail.model import ParsedMessage
from yizhan.mail.tokens import SearchDocument
from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.store.events import Event, MessageAdded
from yizhan.store.records import StoredEntry
from yizhan.store.sqlrun import Tx, placeholders, row_batches
from yizhan.util.clock import now_seconds, to_seconds
from yizhan.util.errors import NotFound, QuotaExceeded, TemporaryFailure, YizhanError

log = logging.getLogger(__name__)

# SearchDocument lives in yizhan.mail.tokens (so parsing workers need not import the store); named here too.
__all__ = ["Ingest", "NewEntry", "Result", "SearchDocument", "write_entries"]

_CHUNK = 500
# How far back a reply found only by its subject may join a thread (seconds).
_SUBJECT_THREAD_WINDOW = 60 * 86400


@dataclass(frozen=True, slots=True)
class NewEntry:
    """One message to file into one folder. `blob` must already be durable."""

    account_id: int
    folder_id: int
    blob: str
    size: int
    internal_date: int
    parsed: ParsedMessage
    thread_subject: str
    search: SearchDocument
    flags: int = 0
    keywords: tuple[str, ...] = ()
    # Quota is not enforced for imports by an administrator.
    enforce_quota: bool = True


Result = StoredEntry | YizhanError


@dataclass
class _Request:
    entries: list[NewEntry]
    future: asyncio.Future[tuple[list[Result], list[Event]]] = field(repr=False)


def _message_row(entry: NewEntry) -> dict[str, Any]:
    p = entry.parsed
    sender = p.from_[0] if p.from_ else None
    date = to_seconds(p.date, entry.internal_date) if p.date else entry.internal_date
    return dict(
        account_id=entry.account_id, blob=entry.blob, size=entry.size, internal_date=entry.internal_date,
        date=date, subject=p.subject[:2000], from_addr=(sender.addr if sender else "")[:320],
        from_name=(sender.name if sender else "")[:200],
        to_text=", ".join(a.display() for a in p.to)[:4000], cc_text=", ".join(a.display() for a in p.cc)[:4000],
        message_id=p.message_id[:500], in_reply_to=(p.in_reply_to[0] if p.in_reply_to else "")[:500],
        refs=" ".join(p.references)[:8000], thread_id=0, thread_subject=entry.thread_subject[:200],
        has_attachments=p.has_attachments, preview=p.preview[:300], envelope=p.envelope,
        bodystructure=p.bodystructure, body=p.body, created_at=now_seconds(),
    )


class Ingest:
    """The group-commit writer of new entries."""

    def __init__(self, db: Database, max_batch: int = 256) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def add(self, entries: list[NewEntry]) -> tuple[list[Result], list[Event]]:
        """File `entries`; returns one result per entry (in order) and the events, after the commit."""
        if not entries:
            return [], []
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="ingest-writer")
        future: asyncio.Future[tuple[list[Result], list[Event]]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(entries, future))
        return await future

    async def filed_blobs(self, folder_id: int, blobs: list[str]) -> set[str]:
        """Which of `blobs` are already filed in the folder (an import skips them, so it can be run again).

        The query starts from the blob index and checks each hit's entries by message id, so its cost follows
        the batch, not the folder: SQLite otherwise prefers the (folder_id, modseq) index and scans every entry of
        the folder for each batch. `folder_id + 0` keeps that index out of the plan.
        """
        if not blobs:
            return set()
        async with self.db.read() as conn:
            return set((await conn.execute(filed_blobs_query(folder_id, blobs))).scalars())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            size = len(batch[0].entries)
            while size < self.max_batch and not self._queue.empty():
                request = self._queue.get_nowait()
                batch.append(request)
                size += len(request.entries)
            await self._commit(batch)

    async def _commit(self, batch: list[_Request]) -> None:
        entries = [entry for request in batch for entry in request.entries]
        try:
            results, events = await self._write(entries)
        except Exception:
            log.exception("group commit of %d entries failed; retrying them one request at a time", len(entries))
            for request in batch:
                try:
                    outcome = await self._write(request.entries)
                except Exception as exc:
                    log.exception("filing %d entries failed", len(request.entries))
                    if not request.future.done():
                        request.future.set_exception(TemporaryFailure(f"storage failure: {exc}"))
                else:
                    if not request.future.done():
                        request.future.set_result(outcome)
            return
        start = 0
        for request in batch:
            end = start + len(request.entries)
            mine = results[start:end]
            ok = {(r.folder_id, r.uid) for r in mine if isinstance(r, StoredEntry)}
            my_events: list[Event] = [e for e in events if isinstance(e, MessageAdded) and (e.folder_id, e.uid) in ok]
            if not request.future.done():
                request.future.set_result((mine, my_events))
            start = end

    async def _write(self, entries: list[NewEntry]) -> tuple[list[Result], list[Event]]:
        return await self.db.run_write(lambda tx: write_entries(tx, entries))


def filed_blobs_query(folder_id: int, blobs: list[str]) -> Select[tuple[str]]:
    """The query of `Ingest.filed_blobs`."""
    return select(t.messages.c.blob).where(
        t.messages.c.blob.in_(sorted(set(blobs))),
        exists().where(t.entries.c.message_id == t.messages.c.id, t.entries.c.folder_id + 0 == folder_id))


def write_entries(tx: Tx, entries: list[NewEntry]) -> tuple[list[Result], list[Event]]:
    """File `entries` inside the caller's write transaction (see the module docstring)."""
    folder_ids = sorted({e.folder_id for e in entries})
    folders = {
        fid: dict(account_id=aid, uidnext=uidnext, highestmodseq=modseq) for fid, aid, uidnext, modseq in tx.rows(
            f"SELECT id, account_id, uidnext, highestmodseq FROM folders WHERE id IN ({placeholders(len(folder_ids))})"
            f"{tx.for_update}", folder_ids)
    }
    account_ids = sorted({e.account_id for e in entries})
    usage = {
        aid: [used, quota] for aid, used, quota in tx.rows(
            f"SELECT id, used_bytes, quota_bytes FROM accounts WHERE id IN ({placeholders(len(account_ids))})",
            account_ids)
    }
    # Filled in order: an error now, or None until the entry is filed below.
    results: list[Result | None] = []
    accepted: list[tuple[int, NewEntry, int, int]] = []
    for index, entry in enumerate(entries):
        folder = folders.get(entry.folder_id)
        if folder is None or folder["account_id"] != entry.account_id or entry.account_id not in usage:
            results.append(NotFound("folder no longer exists"))
            continue
        used, quota = usage[entry.account_id]
        if entry.enforce_quota and quota and used + entry.size > quota:
            results.append(QuotaExceeded("mailbox is over quota"))
            continue
        usage[entry.account_id][0] = used + entry.size
        uid = folder["uidnext"]
        folder["uidnext"] = uid + 1
        folder["highestmodseq"] += 1
        accepted.append((index, entry, uid, folder["highestmodseq"]))
        results.append(None)
    if not accepted:
        return [r for r in results if r is not None], []

    rows = [_message_row(entry) for _, entry, _, _ in accepted]
    _assign_threads(tx, rows)
    if tx.for_update:
        # PostgreSQL: the ids come from the sequence, one INSERT ... RETURNING per row.
        message_ids = []
        for row in rows:
            inserted = tx.one(f"INSERT INTO messages ({', '.join(_MESSAGE_COLUMNS)}) "
                              f"VALUES ({placeholders(len(_MESSAGE_COLUMNS))}) RETURNING id",
                              [row[c] for c in _MESSAGE_COLUMNS])
            assert inserted is not None
            message_ids.append(int(inserted[0]))
        new_threads = _thread_within_batch(rows, message_ids)
        tx.many("UPDATE messages SET thread_id = ? WHERE id = ?", [(t["tid"], t["mid"]) for t in new_threads])
    else:
        # SQLite: the ids are known before the insert (see _next_message_ids), so new threads get theirs at once.
        message_ids = _next_message_ids(tx, len(rows))
        _thread_within_batch(rows, message_ids)
        tx.insert(_INSERT_MESSAGE, [(mid, *(row[c] for c in _MESSAGE_COLUMNS))
                                    for mid, row in zip(message_ids, rows, strict=True)])
    # One statement per table for the whole batch (`Tx.insert`), not one step per row.
    tx.insert("INSERT INTO entries (folder_id, uid, message_id, modseq, flags, keywords)",
              [(e.folder_id, uid, mid, modseq, e.flags, " ".join(e.keywords))
               for (_, e, uid, modseq), mid in zip(accepted, message_ids, strict=True)])
    if not tx.for_update:
        # The full-text index (FTS5) exists on SQLite only.
        tx.insert("INSERT INTO message_text(rowid, acct, subject, sender, recipients, body, attachments)",
                  [(mid, f"a{e.account_id}", e.search.subject, e.search.sender, e.search.recipients, e.search.body,
                    e.search.attachments) for (_, e, _, _), mid in zip(accepted, message_ids, strict=True)])

    # Counters: one UPDATE per folder and per account touched.
    per_folder: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    per_account: dict[int, int] = defaultdict(int)
    for _, e, _, _ in accepted:
        counts = per_folder[e.folder_id]
        counts[0] += 1
        counts[1] += 0 if e.flags & t.SEEN else 1
        counts[2] += e.size
        per_account[e.account_id] += e.size
    folder_rows = [(fid, folders[fid]["uidnext"], folders[fid]["highestmodseq"], n, unseen, size)
                   for fid, (n, unseen, size) in per_folder.items()]
    account_rows = [(aid, delta) for aid, delta in per_account.items()]
    if tx.for_update:
        tx.many("UPDATE folders SET uidnext = ?, highestmodseq = ?, exists_count = exists_count + ?, "
                "unseen_count = unseen_count + ?, size_bytes = size_bytes + ? WHERE id = ?",
                [(*row[1:], row[0]) for row in folder_rows])
        tx.many("UPDATE accounts SET used_bytes = used_bytes + ? WHERE id = ?",
                [(delta, aid) for aid, delta in account_rows])
    else:
        # SQLite: one UPDATE ... FROM (VALUES ...) per table, whatever the number of folders and accounts.
        for values, parameters in row_batches(folder_rows):
            tx.run("UPDATE folders SET uidnext = v.column2, highestmodseq = v.column3, "
                   "exists_count = exists_count + v.column4, unseen_count = unseen_count + v.column5, "
                   f"size_bytes = size_bytes + v.column6 FROM (VALUES {values}) AS v WHERE folders.id = v.column1",
                   parameters)
        for values, parameters in row_batches(account_rows):
            tx.run(f"UPDATE accounts SET used_bytes = used_bytes + v.column2 FROM (VALUES {values}) AS v "
                   "WHERE accounts.id = v.column1", parameters)

    events: list[Event] = []
    for (index, e, uid, modseq), mid in zip(accepted, message_ids, strict=True):
        results[index] = StoredEntry(e.account_id, e.folder_id, uid, modseq, mid)
        events.append(MessageAdded(e.account_id, e.folder_id, uid, modseq))
    filed = [r for r in results if r is not None]
    assert len(filed) == len(results), "every entry has an outcome"
    return filed, events


# The columns of a message row (besides its id) in the order of the SQLite insert below.
_MESSAGE_COLUMNS = (
    "account_id", "blob", "size", "internal_date", "date", "subject", "from_addr", "from_name", "to_text", "cc_text",
    "message_id", "in_reply_to", "refs", "thread_id", "thread_subject", "has_attachments", "preview", "envelope",
    "bodystructure", "body", "created_at",
)
_INSERT_MESSAGE = f"INSERT INTO messages (id, {', '.join(_MESSAGE_COLUMNS)})"


def _next_message_ids(tx: Tx, count: int) -> list[int]:
    """The ids the next `count` message rows take (SQLite only).

    The transaction holds the database's write lock (BEGIN IMMEDIATE), so the next ids are known: they follow
    the AUTOINCREMENT sequence, which the explicit ids then advance. Giving them explicitly lets one plain
    executemany insert the batch, several times faster than INSERT ... RETURNING with ordered results.
    """
    last = tx.one("SELECT seq FROM sqlite_sequence WHERE name = 'messages'")
    first = int(last[0] if last else 0) + 1
    return list(range(first, first + count))


def _thread_within_batch(rows: list[dict[str, Any]], message_ids: list[int]) -> list[dict[str, int]]:
    """Rows that found no thread join a thread started earlier in this batch, or start their own.

    Sets `thread_id` of those rows and returns them as (mid, tid) parameters for an UPDATE when the rows are
    already inserted.
    """
    in_batch: dict[str, int] = {}
    new_threads = []
    for mid, row in zip(message_ids, rows, strict=True):
        if row["thread_id"] == 0:
            refs = [r for r in [*reversed(row["refs"].split()), row["in_reply_to"]] if r]
            row["thread_id"] = next((in_batch[r] for r in refs if r in in_batch), mid)
            new_threads.append(dict(mid=mid, tid=row["thread_id"]))
        if row["message_id"]:
            in_batch.setdefault(row["message_id"], row["thread_id"])
    return new_threads


def _assign_threads(tx: Tx, rows: list[dict[str, Any]]) -> None:
    """Set `thread_id` of each new row from References/In-Reply-To, replies to it, or a reply subject.

    Rows left at 0 start a thread of their own (their id, once known). Rows in the same batch thread together.
    Each lookup is one query for the whole batch, every account at once (a statement per account cost more in
    hand-offs of the GIL than in SQL).
    """
    accounts = sorted({row["account_id"] for row in rows})
    wanted = sorted({ref for row in rows for ref in [*row["refs"].split(), row["in_reply_to"]] if ref})
    own_ids = sorted({row["message_id"] for row in rows if row["message_id"]})
    # Messages these rows refer to, and replies that arrived before the message they answer.
    known = {(account, value): thread for account, value, thread in _lookup(tx, "message_id", accounts, wanted)}
    children = {(account, value): thread for account, value, thread in _lookup(tx, "in_reply_to", accounts, own_ids)}
    subjects = sorted({row["thread_subject"] for row in rows if row["thread_subject"]})
    # A reply joins by subject a thread with a message of that subject within the window before the newest
    # message of its account in this batch.
    newest: dict[int, int] = {}
    for row in rows:
        newest[row["account_id"]] = max(newest.get(row["account_id"], row["date"]), row["date"])
    since = {account: date - _SUBJECT_THREAD_WINDOW for account, date in newest.items()}
    by_subject: dict[tuple[int, str], int] = {}
    for start in range(0, len(subjects), _CHUNK):
        chunk = subjects[start:start + _CHUNK]
        for account, subject, date, thread in tx.rows(
                f"SELECT account_id, thread_subject, date, thread_id FROM messages WHERE account_id IN "
                f"({placeholders(len(accounts))}) AND thread_subject IN ({placeholders(len(chunk))}) AND date > ? "
                "ORDER BY date", (*accounts, *chunk, min(since.values()))):
            if date > since[account]:
                by_subject[(account, subject)] = thread
    for row in rows:
        account = row["account_id"]
        refs = [r for r in [*reversed(row["refs"].split()), row["in_reply_to"]] if r]
        thread = next((known[(account, r)] for r in refs if (account, r) in known), 0)
        if not thread and (account, row["message_id"]) in children:
            thread = children[(account, row["message_id"])]
        is_reply = row["subject"].lower().lstrip().startswith(("re:", "fw:", "fwd:", "回复", "答复", "转发"))
        if not thread and is_reply and (account, row["thread_subject"]) in by_subject:
            thread = by_subject[(account, row["thread_subject"])]
        row["thread_id"] = thread


def _lookup(tx: Tx, column: str, accounts: list[int], values: list[str]) -> list[tuple[int, str, int]]:
    """(account, value, thread_id) of the accounts' messages whose `column` is one of `values`."""
    found: list[tuple[int, str, int]] = []
    for start in range(0, len(values), _CHUNK):
        chunk = values[start:start + _CHUNK]
        found += [(account, value, thread) for account, value, thread in tx.rows(
            f"SELECT account_id, {column}, thread_id FROM messages WHERE account_id IN ({placeholders(len(accounts))})"
            f" AND {column} IN ({placeholders(len(chunk))})", (*accounts, *chunk))]
    return found
