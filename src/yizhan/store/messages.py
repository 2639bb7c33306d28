"""Reading and changing the messages of a folder: listing, flags, expunge, streaming for export.

Invariants:
- Every change to an entry takes the folder's next MODSEQ (RFC 7162 §3.1) and is returned as an event.
- Expunging removes entries, records the UIDs in `expunged` for QRESYNC, updates counters and usage, and
  deletes message rows no entry refers to any more; a blob is reported free only when no message row uses it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.store.events import Event, FlagsChanged, MessagesExpunged
from yizhan.store.outbound import blobs_in_use
from yizhan.store.records import MessageSummary
from yizhan.util.errors import NotFound

_BIT_NAMES = {bit: name for name, bit in t.FLAG_BITS.items()}


def flag_names(bits: int) -> tuple[str, ...]:
    return tuple(name for bit, name in sorted(_BIT_NAMES.items()) if bits & bit)


def flag_bits(names: Iterable[str]) -> tuple[int, tuple[str, ...]]:
    """System flags as bits, and the other names as keywords (case of system flags ignored)."""
    bits = 0
    keywords = []
    lookup = {name.lower(): bit for name, bit in t.FLAG_BITS.items()}
    for name in names:
        bit = lookup.get(name.lower())
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


async def delete_orphan_messages(conn: AsyncConnection, message_ids: list[int]) -> list[str]:
    """Delete those of `message_ids` that no entry refers to; return blobs that no message uses any more."""
    if not message_ids:
        return []
    still_filed = set((await conn.execute(select(t.entries.c.message_id).where(
        t.entries.c.message_id.in_(message_ids)))).scalars().all())
    orphans = [m for m in message_ids if m not in still_filed]
    if not orphans:
        return []
    blobs = set((await conn.execute(select(t.messages.c.blob).where(t.messages.c.id.in_(orphans)))).scalars())
    await conn.execute(delete(t.messages).where(t.messages.c.id.in_(orphans)))
    # The search index is contentless: its rows of deleted messages stay until `check --repair` rebuilds it,
    # and are never returned, because searches join the messages table (whose ids are never reused).
    used = set((await conn.execute(select(t.messages.c.blob).where(t.messages.c.blob.in_(sorted(blobs))))).scalars())
    # A blob the outbound queue holds is still in use (store/outbound.py).
    used |= await blobs_in_use(conn, blobs)
    return sorted(blobs - used)


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
                          modified: list[int] | None = None) -> list[Event]:
        """Add and remove flags on entries; each entry that changes gets the folder's next MODSEQ.

        With `unchangedsince` (RFC 7162 §3.1.3), entries whose MODSEQ is above it are left alone, decided in the
        same transaction, and their UIDs appended to `modified`.
        """
        add_bits, add_keywords = flag_bits(add)
        remove_bits, remove_keywords = flag_bits(remove)
        events: list[Event] = []
        async with self.db.write() as conn:
            folder = (await conn.execute(select(t.folders).where(t.folders.c.id == folder_id)
                                         .with_for_update())).first()
            if folder is None:
                raise NotFound("no such folder")
            rows = (await conn.execute(select(t.entries).where(
                t.entries.c.folder_id == folder_id, t.entries.c.uid.in_(uids)))).all()
            modseq = folder.highestmodseq
            unseen_delta = 0
            changes = []
            for row in rows:
                if unchangedsince is not None and row.modseq > unchangedsince:
                    if modified is not None:
                        modified.append(row.uid)
                    continue
                bits = (row.flags | add_bits) & ~remove_bits
                keywords = [k for k in row.keywords.split() if k not in remove_keywords]
                keywords += [k for k in add_keywords if k not in keywords]
                if bits == row.flags and " ".join(keywords) == row.keywords:
                    continue
                modseq += 1
                unseen_delta += (1 if row.flags & t.SEEN else 0) - (1 if bits & t.SEEN else 0)
                changes.append(dict(f=folder_id, u=row.uid, flags=bits, keywords=" ".join(keywords), modseq=modseq))
                events.append(FlagsChanged(folder.account_id, folder_id, row.uid, modseq,
                                           flag_names(bits) + tuple(keywords)))
            if changes:
                await conn.execute(update(t.entries).where(
                    t.entries.c.folder_id == bindparam("f"), t.entries.c.uid == bindparam("u")).values(
                    flags=bindparam("flags"), keywords=bindparam("keywords"), modseq=bindparam("modseq")), changes)
                await conn.execute(update(t.folders).where(t.folders.c.id == folder_id).values(
                    highestmodseq=modseq, unseen_count=t.folders.c.unseen_count + unseen_delta))
        return events

    async def expunge(self, folder_id: int, uids: list[int] | None = None) -> tuple[list[Event], list[str]]:
        """Remove entries flagged \\Deleted (only those in `uids` when given). Returns events and freed blobs."""
        deleted = t.FLAG_BITS["\\Deleted"]
        async with self.db.write() as conn:
            folder = (await conn.execute(select(t.folders).where(t.folders.c.id == folder_id)
                                         .with_for_update())).first()
            if folder is None:
                raise NotFound("no such folder")
            query = select(t.entries.c.uid, t.entries.c.message_id, t.entries.c.flags, t.messages.c.size).join(
                t.messages, t.messages.c.id == t.entries.c.message_id).where(
                t.entries.c.folder_id == folder_id, t.entries.c.flags.op("&")(deleted) != 0)
            if uids is not None:
                query = query.where(t.entries.c.uid.in_(uids))
            rows = (await conn.execute(query)).all()
            if not rows:
                return [], []
            modseq = folder.highestmodseq + 1
            gone = [r.uid for r in rows]
            await conn.execute(delete(t.entries).where(t.entries.c.folder_id == folder_id,
                                                       t.entries.c.uid.in_(gone)))
            await conn.execute(insert(t.expunged), [dict(folder_id=folder_id, uid=u, modseq=modseq) for u in gone])
            size = sum(r.size for r in rows)
            unseen = sum(1 for r in rows if not r.flags & t.SEEN)
            await conn.execute(update(t.folders).where(t.folders.c.id == folder_id).values(
                highestmodseq=modseq, exists_count=t.folders.c.exists_count - len(rows),
                unseen_count=t.folders.c.unseen_count - unseen, size_bytes=t.folders.c.size_bytes - size))
            await conn.execute(update(t.accounts).where(t.accounts.c.id == folder.account_id).values(
                used_bytes=non_negative(t.accounts.c.used_bytes - size)))
            freed = await delete_orphan_messages(conn, sorted({r.message_id for r in rows}))
        return [MessagesExpunged(folder.account_id, folder_id, tuple(gone), modseq)], freed

    async def count(self, account_id: int) -> int:
        async with self.db.read() as conn:
            return int(await conn.scalar(select(func.count()).select_from(t.messages).where(
                t.messages.c.account_id == account_id)) or 0)
