"""Reads the IMAP server needs and the general repositories do not offer: a folder's entries with their MODSEQs
(the snapshot a SELECT takes), the per-entry fetch data, including the cached ENVELOPE and BODYSTRUCTURE, and the
UIDs expunged since a MODSEQ (QRESYNC's VANISHED, RFC 7162 §3.2.10).

Invariants: read-only (the reader engine; never blocks the writer); results are frozen records ordered by UID;
a UID list is queried in chunks so no statement exceeds the database's parameter limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.store.messages import flag_names

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class EntryState:
    """One entry as a SELECT snapshot sees it (RFC 9051 §2.3.1, RFC 7162 §3.1)."""

    uid: int
    modseq: int
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EntryData:
    """What FETCH may return about one entry without reading its blob (RFC 9051 §6.4.5)."""

    uid: int
    modseq: int
    flags: tuple[str, ...]
    blob: str
    size: int
    internal_date: int
    envelope: str
    bodystructure: str
    body: str


def _flags(bits: int, keywords: str) -> tuple[str, ...]:
    return flag_names(bits) + tuple(keywords.split())


class MailView:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def states(self, folder_id: int) -> list[EntryState]:
        """Every entry of the folder, in UID order: UID, MODSEQ and flags (system flags then keywords)."""
        query = select(t.entries.c.uid, t.entries.c.modseq, t.entries.c.flags, t.entries.c.keywords).where(
            t.entries.c.folder_id == folder_id).order_by(t.entries.c.uid)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [EntryState(r.uid, r.modseq, _flags(r.flags, r.keywords)) for r in rows]

    async def data(self, folder_id: int, uids: Sequence[int]) -> list[EntryData]:
        """Fetch data of those `uids` that still exist, in UID order."""
        out: list[EntryData] = []
        wanted = sorted(set(uids))
        async with self.db.read() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                query = select(
                    t.entries.c.uid, t.entries.c.modseq, t.entries.c.flags, t.entries.c.keywords, t.messages.c.blob,
                    t.messages.c.size, t.messages.c.internal_date, t.messages.c.envelope,
                    t.messages.c.bodystructure, t.messages.c.body,
                ).select_from(t.entries.join(t.messages, t.messages.c.id == t.entries.c.message_id)).where(
                    t.entries.c.folder_id == folder_id, t.entries.c.uid.in_(chunk)).order_by(t.entries.c.uid)
                for r in (await conn.execute(query)).all():
                    out.append(EntryData(r.uid, r.modseq, _flags(r.flags, r.keywords), r.blob, r.size,
                                         r.internal_date, r.envelope, r.bodystructure, r.body))
        return out

    async def expunged_since(self, folder_id: int, modseq: int) -> list[int]:
        """UIDs expunged from the folder with a MODSEQ above `modseq`, ascending."""
        query = select(t.expunged.c.uid).where(t.expunged.c.folder_id == folder_id,
                                               t.expunged.c.modseq > modseq).order_by(t.expunged.c.uid)
        async with self.db.read() as conn:
            return list((await conn.execute(query)).scalars().all())
