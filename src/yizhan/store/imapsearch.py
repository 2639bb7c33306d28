"""Reads behind IMAP SEARCH (RFC 9051 §6.4.4): a folder's entries with the metadata criteria look at, and the
entries whose message the full-text index matches.

Invariants: read-only (the reader engine; never blocks the writer); results are ordered by UID; the text match
takes an FTS5 expression already made safe by `mail.tokens` (never user syntax) and answers None where the
database has no full-text index (PostgreSQL for now), so the caller falls back to reading the messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text

from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.store.messages import flag_names


@dataclass(frozen=True, slots=True)
class SearchRow:
    """One entry as SEARCH sees it without reading its blob."""

    uid: int
    modseq: int
    flags: tuple[str, ...]
    size: int
    # Epoch seconds (UTC): the internal date, and the Date header (the internal date when it had none).
    internal_date: int
    date: int
    blob: str
    # The cached ENVELOPE (whose first item is the Date header as written), when asked for; else "".
    envelope: str = ""


class ImapSearch:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def rows(self, folder_id: int, min_uid: int = 1, max_uid: int | None = None,
                   with_envelope: bool = False) -> list[SearchRow]:
        """The folder's entries with UIDs in [min_uid, max_uid], in UID order."""
        columns = [t.entries.c.uid, t.entries.c.modseq, t.entries.c.flags, t.entries.c.keywords, t.messages.c.size,
                   t.messages.c.internal_date, t.messages.c.date, t.messages.c.blob]
        if with_envelope:
            columns.append(t.messages.c.envelope)
        query = select(*columns).select_from(
            t.entries.join(t.messages, t.messages.c.id == t.entries.c.message_id)).where(
            t.entries.c.folder_id == folder_id, t.entries.c.uid >= min_uid)
        if max_uid is not None:
            query = query.where(t.entries.c.uid <= max_uid)
        async with self.db.read() as conn:
            rows = (await conn.execute(query.order_by(t.entries.c.uid))).all()
        return [SearchRow(r.uid, r.modseq, flag_names(r.flags) + tuple(r.keywords.split()), r.size, r.internal_date,
                          r.date, r.blob, r.envelope if with_envelope else "") for r in rows]

    async def text_uids(self, folder_id: int, match: str) -> set[int] | None:
        """UIDs of the folder's entries whose message matches the FTS5 expression; None without an index."""
        if not self.db.is_sqlite:
            return None
        query = select(t.entries.c.uid).where(
            t.entries.c.folder_id == folder_id,
            t.entries.c.message_id.in_(select(text("rowid")).select_from(text("message_text")).where(
                text("message_text MATCH :match")))).params(match=match)
        async with self.db.read() as conn:
            return set((await conn.execute(query)).scalars().all())
