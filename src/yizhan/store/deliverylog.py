"""The delivery log: one row per delivery attempt or outcome (time, direction, sender, recipients, Message-ID,
size, result, detail), searchable by address, Message-ID and time, and pruned after a retention period.

Invariants:
- Each row's addresses (sender and every recipient, normalised by the caller) are indexed in
  `delivery_log_addresses`, written in the same transaction as the row, so a search by address is an index lookup.
- `prune` removes rows older than a bound, address rows first; nothing else deletes.
- Queries page by id (newest first): `before_id` is the smallest id of the previous page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from yizhan.store import schema as t
from yizhan.store.audit import newest_first
from yizhan.store.db import Database
from yizhan.store.sqlrun import Tx


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One delivery-log row as written (`id` 0) or read."""

    at: int
    direction: str
    sender: str
    recipients: tuple[str, ...]
    message_id: str
    size: int
    result: str
    detail: str
    id: int = 0


def _record(row: Any) -> DeliveryRecord:
    return DeliveryRecord(row.at, row.direction, row.sender, tuple(r for r in row.recipients.split(", ") if r),
                          row.message_id, int(row.size), row.result, row.detail, row.id)


class DeliveryLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def append(self, records: Sequence[DeliveryRecord]) -> list[int]:
        """Insert the rows (one transaction, sharing the store's group commit); returns their ids."""
        batch = list(records)

        def write(tx: Tx) -> list[int]:
            ids: list[int] = []
            for rec in batch:
                row = tx.one("INSERT INTO delivery_log (at, direction, sender, recipients, message_id, size, result, "
                             "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                             (rec.at, rec.direction, rec.sender, ", ".join(rec.recipients), rec.message_id, rec.size,
                              rec.result, rec.detail))
                assert row is not None
                log_id = int(row[0])
                addresses = sorted({a for a in (rec.sender, *rec.recipients) if a})
                tx.many("INSERT INTO delivery_log_addresses (address, log_id) VALUES (?, ?)",
                        [(address, log_id) for address in addresses])
                ids.append(log_id)
            return ids

        return await self.db.run_write(write) if batch else []

    async def search(self, address: str | None = None, message_id: str | None = None, since: int | None = None,
                     until: int | None = None, direction: str | None = None, before_id: int | None = None,
                     limit: int = 50) -> list[DeliveryRecord]:
        """Rows newest first: those naming `address` (sender or recipient), with `message_id`, in [since, until)."""
        log = t.delivery_log
        stmt = select(log)
        if address is not None:
            stmt = stmt.where(log.c.id.in_(select(t.delivery_log_addresses.c.log_id).where(
                t.delivery_log_addresses.c.address == address)))
        if message_id is not None:
            stmt = stmt.where(log.c.message_id == message_id)
        if direction is not None:
            stmt = stmt.where(log.c.direction == direction)
        async with self.db.read() as conn:
            rows = (await conn.execute(newest_first(stmt, log, since, until, before_id, limit))).all()
        return [_record(r) for r in rows]

    async def prune(self, older_than: int, batch: int = 5000) -> int:
        """Delete rows with `at` before `older_than`, in batches (short write transactions); returns how many."""
        log = t.delivery_log
        removed = 0
        while True:
            async with self.db.write() as conn:
                ids = list((await conn.execute(select(log.c.id).where(log.c.at < older_than)
                                               .order_by(log.c.id).limit(batch))).scalars())
                if not ids:
                    return removed
                await conn.execute(delete(t.delivery_log_addresses).where(
                    t.delivery_log_addresses.c.log_id.in_(ids)))
                await conn.execute(delete(log).where(log.c.id.in_(ids)))
            removed += len(ids)
