"""The admin audit log (who did what, to what, when, from where) and the delivery log's use cases.

Rules kept here:
- `AuditService.record` is called by the admin front ends after an admin action succeeded; entries are never
  changed or removed (the store has no such call, and the database refuses it).
- Details are a JSON object of at most `MAX_DETAILS` bytes; keys that look like secrets (password, token, secret,
  key) are replaced by "***", so a secret never reaches the log.
- `DeliveryLogService.record` normalises addresses (lowercase) and Message-IDs (without <>) and bounds every
  field; `prune` keeps `retention_days`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from yizhan.mail.addresses import normalize_address
from yizhan.store.audit import AuditEntry, AuditLog
from yizhan.store.deliverylog import DeliveryLog, DeliveryRecord
from yizhan.store.records import AccountRecord
from yizhan.store.schema import DELIVERY_DIRECTIONS
from yizhan.store.store import Store
from yizhan.util.clock import now_seconds
from yizhan.util.errors import InvalidInput

MAX_DETAILS = 8 * 1024
MAX_PAGE = 500
MAX_RECIPIENTS = 1000
_SECRET_WORDS = ("password", "passwd", "secret", "token", "key", "hash")


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): ("***" if any(w in str(k).lower() for w in _SECRET_WORDS) else _redact(v))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def _page(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")


class AuditService:
    def __init__(self, store: Store) -> None:
        self.log = AuditLog(store.db)

    async def record(self, actor: AccountRecord | None, action: str, target: str = "",
                     details: dict[str, Any] | None = None, client: str = "") -> int:
        """Append an entry; `actor` None is the system or the CLI. Returns the entry's id."""
        if not action or len(action) > 64:
            raise InvalidInput("an audit action is 1 to 64 characters")
        safe = _redact(details or {})
        text = json.dumps(safe, ensure_ascii=False, default=str)
        if len(text.encode("utf-8")) > MAX_DETAILS:
            safe = {"truncated": text[:MAX_DETAILS // 4]}
        return await self.log.append(now_seconds(), actor.id if actor else None,
                                     actor.address if actor else "system", action, target[:500], safe,
                                     client[:64])

    async def query(self, actor: str | None = None, action: str | None = None, since: int | None = None,
                    until: int | None = None, before_id: int | None = None, limit: int = 50) -> list[AuditEntry]:
        """Entries newest first; page on with `before_id` = the last entry's id."""
        _page(limit)
        return await self.log.query(normalize_address(actor) if actor else None, action, since, until,
                                    before_id, limit)


class DeliveryLogService:
    def __init__(self, store: Store, retention_days: int = 30) -> None:
        self.log = DeliveryLog(store.db)
        self.retention_days = retention_days

    async def record(self, direction: str, sender: str, recipients: Sequence[str], message_id: str, size: int,
                     result: str, detail: str = "", at: int | None = None) -> int:
        """Log one delivery. `direction` is in, out or local; `result` a short word (delivered, deferred,
        bounced, rejected, ...); `detail` the remote reply or reason."""
        if direction not in DELIVERY_DIRECTIONS:
            raise InvalidInput(f"direction must be one of {', '.join(DELIVERY_DIRECTIONS)}")
        rcpts = tuple(dict.fromkeys(normalize_address(r)[:320] for r in recipients[:MAX_RECIPIENTS] if r))
        record = DeliveryRecord(at if at is not None else now_seconds(), direction,
                                normalize_address(sender)[:320], rcpts, message_id.strip().strip("<>")[:500],
                                max(0, int(size)), result[:20], detail[:2000])
        (log_id,) = await self.log.append([record])
        return log_id

    async def search(self, address: str | None = None, message_id: str | None = None, since: int | None = None,
                     until: int | None = None, direction: str | None = None, before_id: int | None = None,
                     limit: int = 50) -> list[DeliveryRecord]:
        _page(limit)
        if direction is not None and direction not in DELIVERY_DIRECTIONS:
            raise InvalidInput(f"direction must be one of {', '.join(DELIVERY_DIRECTIONS)}")
        return await self.log.search(normalize_address(address) if address else None,
                                     message_id.strip().strip("<>") if message_id else None, since, until, direction,
                                     before_id, limit)

    async def prune(self, now: int | None = None) -> int:
        """Remove entries older than the retention period; returns how many."""
        moment = now if now is not None else now_seconds()
        return await self.log.prune(moment - self.retention_days * 86400)
