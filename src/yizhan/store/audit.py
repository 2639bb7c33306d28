"""The admin audit log: append-only rows of who did what to what, when and from where.

Invariants:
- This module offers `append` and `query` only: there is no update and no delete, and database triggers refuse
  both (migration 0004), so an administrator cannot edit the record through Yizhan or plain SQL updates.
- `details` is a JSON object; rows keep the actor's address, so they outlive the account.
- Queries page by id (newest first): `before_id` is the smallest id of the previous page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, insert, select

from yizhan.store import schema as t
from yizhan.store.db import Database


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: int
    actor_id: int | None
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    client: str


def _details(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def newest_first(stmt: Select[Any], log: Table, since: int | None, until: int | None, before_id: int | None,
                 limit: int) -> Select[Any]:
    """A log query (audit or delivery) narrowed to [since, until) by `at`, paged by id below `before_id`, newest
    first: the paging both logs share."""
    if since is not None:
        stmt = stmt.where(log.c.at >= since)
    if until is not None:
        stmt = stmt.where(log.c.at < until)
    if before_id is not None:
        stmt = stmt.where(log.c.id < before_id)
    return stmt.order_by(log.c.id.desc()).limit(limit)


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def append(self, at: int, actor_id: int | None, actor: str, action: str, target: str,
                     details: dict[str, Any], client: str) -> int:
        async with self.db.write() as conn:
            result = await conn.execute(insert(t.audit_log).values(
                at=at, actor_id=actor_id, actor=actor, action=action, target=target,
                details=json.dumps(details, ensure_ascii=False, sort_keys=True), client=client))
        return int(result.inserted_primary_key[0])

    async def query(self, actor: str | None = None, action: str | None = None, since: int | None = None,
                    until: int | None = None, before_id: int | None = None, limit: int = 50) -> list[AuditEntry]:
        """Entries newest first, filtered by actor address, action, time range [since, until) and page."""
        log = t.audit_log
        stmt = select(log)
        if actor is not None:
            stmt = stmt.where(log.c.actor == actor)
        if action is not None:
            stmt = stmt.where(log.c.action == action)
        async with self.db.read() as conn:
            rows = (await conn.execute(newest_first(stmt, log, since, until, before_id, limit))).all()
        return [AuditEntry(r.id, r.at, r.actor_id, r.actor, r.action, r.target, _details(r.details), r.client)
                for r in rows]
