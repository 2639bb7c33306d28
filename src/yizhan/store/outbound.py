"""The outbound queue's repository: queued messages, their recipients' states, and the blobs they hold.

Invariants:
- A queued message and all its recipients are inserted in one transaction, after its blob is durable; so when
  `enqueue` returns, the message survives a crash or restart.
- Only `pending` recipients are ever attempted; `delivered`, `bounced` and `expired` are final.
- A message leaves the queue (its rows are deleted) only when every one of its recipients is final, or when an
  administrator deletes it.
- A blob the queue holds is referenced: `blobs_in_use` is what integrity checks and deletions consult, so
  `yizhan check --repair` never removes it.
Instants are epoch seconds (UTC).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.store.events import Event
from yizhan.store.sqlrun import SqlAlchemyTx, Tx, placeholders

PENDING, DELIVERED, BOUNCED, EXPIRED = "pending", "delivered", "bounced", "expired"
FINAL = frozenset({DELIVERED, BOUNCED, EXPIRED})


@dataclass(frozen=True, slots=True)
class QueueChanged(Event):
    """Something was queued or made due now; the runner wakes up. `account_id` is the submitter's, or 0."""

    queue_id: str


@dataclass(frozen=True, slots=True)
class QueuedRecipient:
    address: str
    domain: str
    status: str
    attempts: int
    next_attempt_at: int
    last_attempt_at: int | None
    last_reply: str
    delay_notified: bool


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    queue_id: str
    blob: str
    size: int
    mail_from: str
    created_at: int
    sign_domain: str | None
    signed: bool
    envelope_id: str | None
    kind: str
    account_id: int | None
    recipients: tuple[QueuedRecipient, ...]


@dataclass(frozen=True, slots=True)
class RecipientUpdate:
    """The outcome of one attempt (or a decision) for one recipient of a queued message."""

    address: str
    status: str
    next_attempt_at: int
    last_reply: str
    attempted_at: int | None = None
    delay_notified: bool | None = None


def queued_blobs(tx: Tx, names: Iterable[str]) -> set[str]:
    """Which of `names` a queued message still holds."""
    wanted = sorted(set(names))
    held: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        held.update(blob for (blob,) in tx.rows(
            f"SELECT DISTINCT blob FROM queue_messages WHERE blob IN ({placeholders(len(chunk))})", chunk))
    return held


async def blobs_in_use(conn: AsyncConnection, names: Iterable[str]) -> set[str]:
    """`queued_blobs` inside the caller's SQLAlchemy transaction."""
    wanted = sorted(set(names))
    if not wanted:
        return set()
    return await conn.run_sync(lambda sync: queued_blobs(SqlAlchemyTx(sync), wanted))


def _recipient(row: Any) -> QueuedRecipient:
    return QueuedRecipient(
        address=row.address, domain=row.domain, status=row.status, attempts=row.attempts,
        next_attempt_at=row.next_attempt_at, last_attempt_at=row.last_attempt_at, last_reply=row.last_reply,
        delay_notified=bool(row.delay_notified),
    )


def _message(row: Any, recipients: Sequence[QueuedRecipient]) -> QueuedMessage:
    return QueuedMessage(
        queue_id=row.queue_id, blob=row.blob, size=row.size, mail_from=row.mail_from, created_at=row.created_at,
        sign_domain=row.sign_domain, signed=bool(row.signed), envelope_id=row.envelope_id, kind=row.kind,
        account_id=row.account_id, recipients=tuple(recipients),
    )


class Outbound:
    """Reads and writes of the outbound queue."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue(self, blob: str, size: int, mail_from: str, recipients: Sequence[str], *, now: int,
                      sign_domain: str | None = None, signed: bool = False, envelope_id: str | None = None,
                      kind: str = "normal", account_id: int | None = None) -> str:
        """Queue a message whose blob is already durable; returns its queue id once the rows are committed."""
        if kind not in t.QUEUE_KINDS:
            raise ValueError(f"unknown queue kind {kind!r}")
        unique = list(dict.fromkeys(recipients))
        queue_id = secrets.token_hex(8)
        async with self.db.write() as conn:
            result = await conn.execute(insert(t.queue_messages).values(
                queue_id=queue_id, blob=blob, size=size, mail_from=mail_from, created_at=now,
                sign_domain=sign_domain, signed=signed, envelope_id=envelope_id, kind=kind, account_id=account_id))
            message_id = result.inserted_primary_key[0]
            await conn.execute(insert(t.queue_recipients), [
                dict(message_id=message_id, address=address, domain=address.rpartition("@")[2].lower(), status=PENDING,
                     attempts=0, next_attempt_at=now, last_attempt_at=None, last_reply="", delay_notified=False)
                for address in unique
            ])
        return queue_id

    async def _load(self, conn: AsyncConnection, where: Any, recipient_filter: Any = None,
                    limit: int | None = None) -> list[QueuedMessage]:
        query = select(t.queue_messages).where(where).order_by(t.queue_messages.c.id)
        if limit is not None:
            query = query.limit(limit)
        rows = (await conn.execute(query)).all()
        if not rows:
            return []
        ids = [r.id for r in rows]
        rq = select(t.queue_recipients).where(t.queue_recipients.c.message_id.in_(ids))
        if recipient_filter is not None:
            rq = rq.where(recipient_filter)
        by_message: dict[int, list[QueuedRecipient]] = {}
        for r in (await conn.execute(rq.order_by(t.queue_recipients.c.id))).all():
            by_message.setdefault(r.message_id, []).append(_recipient(r))
        return [_message(r, by_message.get(r.id, [])) for r in rows]

    async def due(self, now: int, limit: int = 100) -> list[QueuedMessage]:
        """Messages with recipients due for an attempt, each carrying only its due recipients, oldest first."""
        is_due = and_(t.queue_recipients.c.status == PENDING, t.queue_recipients.c.next_attempt_at <= now)
        has_due = select(t.queue_recipients.c.message_id).where(is_due).distinct().scalar_subquery()
        async with self.db.read() as conn:
            return await self._load(conn, t.queue_messages.c.id.in_(has_due), is_due, limit)

    async def next_due(self) -> int | None:
        """The earliest instant a pending recipient is due, or None when nothing is pending."""
        async with self.db.read() as conn:
            value = await conn.scalar(select(func.min(t.queue_recipients.c.next_attempt_at)).where(
                t.queue_recipients.c.status == PENDING))
        return int(value) if value is not None else None

    async def get(self, queue_id: str) -> QueuedMessage | None:
        async with self.db.read() as conn:
            found = await self._load(conn, t.queue_messages.c.queue_id == queue_id)
        return found[0] if found else None

    async def list_all(self, limit: int = 1000) -> list[QueuedMessage]:
        async with self.db.read() as conn:
            return await self._load(conn, t.queue_messages.c.id > 0, None, limit)

    async def count(self) -> int:
        async with self.db.read() as conn:
            return int(await conn.scalar(select(func.count()).select_from(t.queue_messages)) or 0)

    async def update(self, queue_id: str, updates: Sequence[RecipientUpdate]) -> tuple[bool, list[str]]:
        """Record attempt outcomes. When every recipient is then final the message leaves the queue.

        Returns (finished, blobs no message or queued message uses any more)."""
        async with self.db.write() as conn:
            message_id = await conn.scalar(select(t.queue_messages.c.id).where(
                t.queue_messages.c.queue_id == queue_id))
            if message_id is None:
                return True, []
            for u in updates:
                values: dict[str, Any] = dict(status=u.status, next_attempt_at=u.next_attempt_at,
                                              last_reply=u.last_reply[:2000])
                if u.attempted_at is not None:
                    values.update(last_attempt_at=u.attempted_at, attempts=t.queue_recipients.c.attempts + 1)
                if u.delay_notified is not None:
                    values["delay_notified"] = u.delay_notified
                await conn.execute(update(t.queue_recipients).where(
                    t.queue_recipients.c.message_id == message_id,
                    t.queue_recipients.c.address == u.address,
                    t.queue_recipients.c.status == PENDING).values(**values))
            pending = await conn.scalar(select(func.count()).where(
                t.queue_recipients.c.message_id == message_id, t.queue_recipients.c.status == PENDING))
            if pending:
                return False, []
            return True, await self._drop(conn, message_id)

    async def _drop(self, conn: AsyncConnection, message_id: int) -> list[str]:
        blob = await conn.scalar(select(t.queue_messages.c.blob).where(t.queue_messages.c.id == message_id))
        await conn.execute(delete(t.queue_recipients).where(t.queue_recipients.c.message_id == message_id))
        await conn.execute(delete(t.queue_messages).where(t.queue_messages.c.id == message_id))
        if blob is None or await blobs_in_use(conn, [blob]):
            return []
        used = await conn.scalar(select(func.count()).where(t.messages.c.blob == blob))
        return [] if used else [blob]

    async def retry(self, queue_id: str | None, now: int) -> int:
        """Make pending recipients (of one message, or all when None) due now; returns how many."""
        query = update(t.queue_recipients).where(t.queue_recipients.c.status == PENDING)
        if queue_id is not None:
            query = query.where(t.queue_recipients.c.message_id == select(t.queue_messages.c.id).where(
                t.queue_messages.c.queue_id == queue_id).scalar_subquery())
        async with self.db.write() as conn:
            result = await conn.execute(query.values(next_attempt_at=now))
        return int(result.rowcount or 0)

    async def delete(self, queue_id: str) -> list[str] | None:
        """Remove a message from the queue without sending it; None when there is no such message.

        Returns the blobs no longer used by anyone."""
        async with self.db.write() as conn:
            message_id = await conn.scalar(select(t.queue_messages.c.id).where(
                t.queue_messages.c.queue_id == queue_id))
            if message_id is None:
                return None
            return await self._drop(conn, message_id)

    async def unused_blobs(self, names: Iterable[str]) -> list[str]:
        """Which of `names` neither a stored message nor a queued message uses (checked now)."""
        wanted = sorted(set(names))
        if not wanted:
            return []
        async with self.db.read() as conn:
            used = await blobs_in_use(conn, wanted)
            used |= set((await conn.execute(select(t.messages.c.blob).where(t.messages.c.blob.in_(wanted))
                                            .distinct())).scalars())
        return [n for n in wanted if n not in used]
