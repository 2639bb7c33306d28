"""Notes (记事本) of an account: title, body stored as given with its format ("plain" or "html"), pinned.

Invariants:
- Every method takes `account_id` and every statement filters by it: another account's note is NotFound.
- The number of notes never exceeds the `max_count` given to `create`, checked in the writing transaction.
- HTML bodies are stored as the user sent them and are never trusted: whoever shows one sanitises it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update

from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.util.clock import now_seconds
from yizhan.util.errors import NotFound, QuotaExceeded


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    account_id: int
    title: str
    body: str
    format: str
    pinned: bool
    created_at: int
    updated_at: int


def _note(row: Any) -> Note:
    return Note(row.id, row.account_id, row.title, row.body, row.format, bool(row.pinned), row.created_at,
                row.updated_at)


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's wildcards in `text` escaped (use with escape="\\\\")."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class Notes:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def count(self, account_id: int) -> int:
        async with self.db.read() as conn:
            return int(await conn.scalar(select(func.count()).where(t.notes.c.account_id == account_id)) or 0)

    async def get(self, account_id: int, note_id: int) -> Note:
        async with self.db.read() as conn:
            row = (await conn.execute(select(t.notes).where(
                t.notes.c.id == note_id, t.notes.c.account_id == account_id))).first()
        if row is None:
            raise NotFound(f"no note {note_id}")
        return _note(row)

    async def list_notes(self, account_id: int, query: str = "", offset: int = 0, limit: int = 50) -> list[Note]:
        """Pinned notes first, then the most recently changed; `query` (lowercased by the caller) keeps notes whose
        lowercased title or body contains it: ASCII letters match in any case on both databases."""
        stmt = select(t.notes).where(t.notes.c.account_id == account_id)
        if query:
            pattern = like_pattern(query)
            stmt = stmt.where(or_(func.lower(t.notes.c.title).like(pattern, escape="\\"),
                                  func.lower(t.notes.c.body).like(pattern, escape="\\")))
        stmt = stmt.order_by(t.notes.c.pinned.desc(), t.notes.c.updated_at.desc(), t.notes.c.id.desc())
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt.offset(offset).limit(limit))).all()
        return [_note(r) for r in rows]

    async def create(self, account_id: int, title: str, body: str, format: str, pinned: bool,
                     max_count: int) -> Note:
        now = now_seconds()
        async with self.db.write() as conn:
            have = int(await conn.scalar(select(func.count()).where(t.notes.c.account_id == account_id)) or 0)
            if have >= max_count:
                raise QuotaExceeded(f"an account holds at most {max_count} notes; delete some first")
            result = await conn.execute(insert(t.notes).values(
                account_id=account_id, title=title, body=body, format=format, pinned=pinned, created_at=now,
                updated_at=now))
        return Note(int(result.inserted_primary_key[0]), account_id, title, body, format, pinned, now, now)

    async def update(self, account_id: int, note_id: int, **changes: Any) -> Note:
        """Change title, body, format and/or pinned."""
        async with self.db.write() as conn:
            result = await conn.execute(update(t.notes).where(
                t.notes.c.id == note_id, t.notes.c.account_id == account_id).values(
                updated_at=now_seconds(), **changes))
            if result.rowcount == 0:
                raise NotFound(f"no note {note_id}")
            row = (await conn.execute(select(t.notes).where(t.notes.c.id == note_id))).one()
        return _note(row)

    async def delete(self, account_id: int, note_id: int) -> None:
        async with self.db.write() as conn:
            result = await conn.execute(delete(t.notes).where(
                t.notes.c.id == note_id, t.notes.c.account_id == account_id))
        if result.rowcount == 0:
            raise NotFound(f"no note {note_id}")
