"""Reading and changing the messages of a folder: listing, flags, expunge, streaming for export.

Invariants:
- Every change to an entry takes the folder's next MODSEQ (RFC 7162 §3.1) and is returned as an event.
- Expunging removes entries, records the UIDs in `expunged` for QRESYNC, updates counters and usage, and
  deletes message rows no entry refers to any more; a blob is reported free only when no message row uses it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.store.events import Event, FlagsChanged, MessagesExpunged
from yizhan.store.outbound import queued_blobs
from yizhan.store.records import MessageSummary
from yizhan.store.sqlrun import SqlAlchemyTx, Tx, placeholders
from yizhan.util.errors import NotFound

_CHUNK = 500
_BIT_NAMES = {bit: name for name, bit in t.FLAG_BITS.items()}


def flag_names(bits: int) -> tuple[str, ...]:
    return tuple(name for bit, name in sorted(_BIT_NAMES.items()) if bits & bit)


_BITS_BY_LOWER_NAME = {name.lower(): bit for name, bit in t.FLAG_BITS.items()}


def flag_bits(names: Iterable[str]) -> tuple[int, tuple[str, ...]]:
    """System flags as bits, and the other names as keywords (case of system flags ignored)."""
    bits = 0
    keywords = []
    for name in names:
        bit = _BITS_BY_LOWER_NAME.get(name.lower())
        if bit:
            bits |= bit
        elif name and not name.startswith("\\"):
            keywords.append(name)
    return bits, tuple(dict.fromkeys(keywords))


def non_negative(expression: Any) -> ColumnElement[Any]:
    """`expression`, but never below zero (portable: no GREATEST on SQLite, no scalar MAX on PostgreSQL)."""
    return case((expression < 0, 0), else_=expression)


SUMMARY_COLUMNS = (
    t.entries.c.folder_id, t.folders.c.name.label("folder"), t.entries.c.uid, t.entries.c.message_id,
    t.messages.c.blob, t.messages.c.size, t.messages.c.internal_date, t.messages.c.date, t.messages.c.subject,
    t.messages.c.from_addr, t.messages.c.from_name, t.messages.c.to_text, t.entries.c.flags,
    t.entries.c.keywords, t.messages.c.thread_id, t.messages.c.has_attachments, t.messages.c.preview,
)


def summary(row: Any) -> MessageSummary:
    return MessageSummary(
        folder_id=row.folder_id, folder=row.folder, uid=row.uid, message_id=row.message_id, blob=row.blob,
        size=row.size, internal_date=row.internal_date, date=row.date, subject=row.subject,
        from_addr=row.from_addr, from_name=row.from_name, to_text=row.to_text, flags=flag_names(row.flags),
        keywords=tuple(row.keywords.split()), thread_id=row.thread_id, has_attachments=bool(row.has_attachments),
        preview=row.preview,
    )


def summary_query() -> Any:
    return select(*SUMMARY_COLUMNS).select_from(
        t.entries.join(t.messages, t.messages.c.id == t.entries.c.message_id)
        .join(t.folders, t.folders.c.id == t.entries.c.folder_id))


def delete_orphan_messages(tx: Tx, message_ids: list[int]) -> list[str]:
    """Delete those of `message_ids` that no entry refers to; return blobs that no message uses any more."""
    if not message_ids:
        return []
    orphans: list[int] = []
    blobs: set[str] = set()
    for start in range(0, len(message_ids), _CHUNK):
        chunk = message_ids[start:start + _CHUNK]
        marks = placeholders(len(chunk))
        rows = tx.rows(f"SELECT m.id, m.blob FROM messages m WHERE m.id IN ({marks}) "
                       "AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.message_id = m.id)", chunk)
        if rows:
            orphans.extend(mid for mid, _ in rows)
            blobs.update(blob for _, blob in rows)
            tx.run(f"DELETE FROM messages WHERE id IN ({placeholders(len(rows))})", [mid for mid, _ in rows])
    if not orphans:
        return []
    # The search index is contentless: its rows of deleted messages stay until `check --repair` rebuilds it,
    # and are never returned, because searches join the messages table (whose ids are never reused).
    wanted = sorted(blobs)
    used: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        names = wanted[start:start + _CHUNK]
        used.update(blob for (blob,) in tx.rows(
            f"SELECT DISTINCT blob FROM messages WHERE blob IN ({placeholders(len(names))})", names))
    # A blob the outbound queue holds is still in use (store/outbound.py).
    used |= queued_blobs(tx, blobs - used)
    return sorted(blobs - used)


async def delete_orphans_in(conn: AsyncConnection, message_ids: list[int]) -> list[str]:
    """`delete_orphan_messages` inside the caller's SQLAlchemy transaction."""
    return await conn.run_sync(lambda sync: delete_orphan_messages(SqlAlchemyTx(sync), message_ids))


def _flags_after(bits: int, keywords: str, add_bits: int, remove_bits: int, add_keywords: tuple[str, ...],
                 remove_keywords: tuple[str, ...]) -> tuple[int, str]:
    new_bits = (bits | add_bits) & ~remove_bits
    kept = [k for k in keywords.split() if k not in remove_keywords]
    kept += [k for k in add_keywords if k not in kept]
    return new_bits, " ".join(kept)


class Messages:
    """Entries of folders."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def page(self, folder_id: int, offset: int = 0, limit: int = 50, newest_first: bool = True
                   ) -> list[MessageSummary]:
        order = t.entries.c.uid.desc() if newest_first else t.entries.c.uid
        query = summary_query().where(t.entries.c.folder_id == folder_id).order_by(order).offset(offset).limit(limit)
        async with self.db.read() as conn:
            return [summary(r) for r in (await conn.execute(query)).all()]

    async def get(self, folder_id: int, uid: int) -> MessageSummary:
        query = summary_query().where(t.entries.c.folder_id == folder_id, t.entries.c.uid == uid)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"no message with UID {uid}")
        return summary(row)

    async def uids(self, folder_id: int) -> list[int]:
        async with self.db.read() as conn:
            return list((await conn.execute(select(t.entries.c.uid).where(
                t.entries.c.folder_id == folder_id).order_by(t.entries.c.uid))).scalars())

    async def stream(self, folder_id: int, page: int = 500) -> AsyncIterator[MessageSummary]:
        """Every entry of the folder in UID order, read a page at a time (constant memory)."""
        last = 0
        while True:
            query = summary_query().where(t.entries.c.folder_id == folder_id, t.entries.c.uid > last) \
                .order_by(t.entries.c.uid).limit(page)
            async with self.db.read() as conn:
                rows = [summary(r) for r in (await conn.execute(query)).all()]
            if not rows:
                return
            for row in rows:
                yield row
            last = rows[-1].uid

    async def store_flags(self, folder_id: int, uids: list[int], add: Iterable[str] = (),
                          remove: Iterable[str] = (), unchangedsince: int | None = None,
                          modified: list[int] | None = None, replace: Iterable[str] | None = None) -> list[Event]:
        """Add and remove flags on entries (or, with `replace`, set exactly those flags); each entry that changes
        gets the folder's next MODSEQ.

        With `unchangedsince` (RFC 7162 §3.1.3), entries whose MODSEQ is above it are left alone, decided in the
        same transaction, and their UIDs appended to `modified`.
        """
        add_bits, add_keywords = flag_bits(add)
        remove_bits, remove_keywords = flag_bits(remove)
        exact = None if replace is None else flag_bits(replace)
        wanted = sorted(set(uids))

        def write(tx: Tx) -> tuple[list[Event], list[int]]:
            folder = tx.one(f"SELECT account_id, highestmodseq FROM folders WHERE id = ?{tx.for_update}",
                            (folder_id,))
            if folder is None:
                raise NotFound("no such folder")
            account_id, modseq = folder
            events: list[Event] = []
            skipped: list[int] = []
            changes: list[tuple[int, str, int, int, int]] = []
            unseen_delta = 0
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                rows = tx.rows(f"SELECT uid, modseq, flags, keywords FROM entries WHERE folder_id = ? "
                               f"AND uid IN ({placeholders(len(chunk))}) ORDER BY uid", (folder_id, *chunk))
                for uid, entry_modseq, bits, keywords in rows:
                    if unchangedsince is not None and entry_modseq > unchangedsince:
                        skipped.append(uid)
                        continue
                    if exact is not None:
                        new_bits, new_keywords = exact[0], " ".join(exact[1])
                    else:
                        new_bits, new_keywords = _flags_after(bits, keywords, add_bits, remove_bits, add_keywords,
                                                              remove_keywords)
                    if new_bits == bits and new_keywords == keywords:
                        continue
                    modseq += 1
                    unseen_delta += (1 if bits & t.SEEN else 0) - (1 if new_bits & t.SEEN else 0)
                    changes.append((new_bits, new_keywords, modseq, folder_id, uid))
                    events.append(FlagsChanged(account_id, folder_id, uid, modseq,
                                               flag_names(new_bits) + tuple(new_keywords.split())))
            if changes:
                tx.many("UPDATE entries SET flags = ?, keywords = ?, modseq = ? WHERE folder_id = ? AND uid = ?",
                        changes)
                tx.run("UPDATE folders SET highestmodseq = ?, unseen_count = unseen_count + ? WHERE id = ?",
                       (modseq, unseen_delta, folder_id))
            return events, skipped

        events, skipped = await self.db.run_write(write)
        if modified is not None:
            modified.extend(skipped)
        return events

    async def expunge(self, folder_id: int, uids: list[int] | None = None) -> tuple[list[Event], list[str]]:
        """Remove entries flagged \\Deleted (only those in `uids` when given). Returns events and freed blobs."""
        deleted = t.FLAG_BITS["\\Deleted"]
        only = None if uids is None else sorted(set(uids))

        def write(tx: Tx) -> tuple[list[Event], list[str]]:
            folder = tx.one(f"SELECT account_id, highestmodseq FROM folders WHERE id = ?{tx.for_update}",
                            (folder_id,))
            if folder is None:
                raise NotFound("no such folder")
            account_id, highest = folder
            select_deleted = ("SELECT e.uid, e.message_id, e.flags, m.size FROM entries e "
                              "JOIN messages m ON m.id = e.message_id WHERE e.folder_id = ? AND (e.flags & ?) != 0")
            if only is None:
                rows = tx.rows(select_deleted, (folder_id, deleted))
            else:
                rows = []
                for start in range(0, len(only), _CHUNK):
                    chunk = only[start:start + _CHUNK]
                    rows += tx.rows(f"{select_deleted} AND e.uid IN ({placeholders(len(chunk))})",
                                    (folder_id, deleted, *chunk))
            if not rows:
                return [], []
            modseq = highest + 1
            gone = sorted(uid for uid, _, _, _ in rows)
            tx.many("DELETE FROM entries WHERE folder_id = ? AND uid = ?", [(folder_id, uid) for uid in gone])
            tx.many("INSERT INTO expunged (folder_id, uid, modseq) VALUES (?, ?, ?)",
                    [(folder_id, uid, modseq) for uid in gone])
            size = sum(row[3] for row in rows)
            unseen = sum(1 for row in rows if not row[2] & t.SEEN)
            tx.run("UPDATE folders SET highestmodseq = ?, exists_count = exists_count - ?, "
                   "unseen_count = unseen_count - ?, size_bytes = size_bytes - ? WHERE id = ?",
                   (modseq, len(rows), unseen, size, folder_id))
            tx.run("UPDATE accounts SET used_bytes = CASE WHEN used_bytes < ? THEN 0 ELSE used_bytes - ? END "
                   "WHERE id = ?", (size, size, account_id))
            freed = delete_orphan_messages(tx, sorted({row[1] for row in rows}))
            return [MessagesExpunged(account_id, folder_id, tuple(gone), modseq)], freed

        return await self.db.run_write(write)

    async def count(self, account_id: int) -> int:
        async with self.db.read() as conn:
            return int(await conn.scalar(select(func.count()).select_from(t.messages).where(
                t.messages.c.account_id == account_id)) or 0)
