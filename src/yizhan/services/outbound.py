"""Outbound mail: putting messages in the delivery queue, and the queue's administration (list, show, retry, delete).

The submission handler calls `enqueue` for recipients outside this server; the queue runner (yizhan.queue) sends
them. The web admin console and `yizhan queue` use `list`, `show`, `retry` and `delete`.

Invariants:
- `enqueue` returns only when the message is durable (blob fsynced, rows committed), so the caller may answer 250.
- A message is DKIM-signed here, once, when its sign domain has a key (RFC 6376 §5); what is stored is what is sent,
  so retries send the very same bytes.
- Every enqueue publishes `QueueChanged` on the bus (after commit), so a running queue wakes at once.
- A queued message's blob is removed only when neither a stored nor a queued message uses it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from yizhan.authn import dkim
from yizhan.mail.addresses import is_valid_address
from yizhan.services.bus import EventBus
from yizhan.store.outbound import QueueChanged, QueuedMessage
from yizhan.store.schema import QUEUE_KINDS
from yizhan.store.store import Store
from yizhan.util.clock import now_seconds
from yizhan.util.errors import InvalidInput, NotFound, YizhanError

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 1000


class OutboundService:
    def __init__(self, store: Store, bus: EventBus, max_message_size: int = 50 * 1024 * 1024) -> None:
        self.store = store
        self.bus = bus
        self.max_message_size = max_message_size

    async def enqueue(self, raw: bytes, mail_from: str, recipients: Sequence[str], *,
                      sign_domain: str | None = None, envelope_id: str | None = None, kind: str = "normal",
                      account_id: int | None = None) -> str:
        """Queue `raw` for `recipients` (outside addresses); returns the queue id once it is durable.

        `mail_from` "" is the null reverse-path of a DSN: such a message is never bounced (RFC 3464 §2)."""
        if kind not in QUEUE_KINDS:
            raise InvalidInput(f"unknown queue kind {kind!r}")
        if envelope_id is not None and (len(envelope_id) > 100 or not envelope_id.isprintable()):
            raise InvalidInput("an envelope id is at most 100 printable characters (RFC 3461 §4.4)")
        if len(raw) > self.max_message_size:
            raise InvalidInput(f"message of {len(raw)} bytes exceeds the limit of {self.max_message_size}")
        targets = list(dict.fromkeys(r.strip() for r in recipients))
        if not targets:
            raise InvalidInput("no recipients")
        if len(targets) > MAX_RECIPIENTS:
            raise InvalidInput(f"more than {MAX_RECIPIENTS} recipients")
        for address in [*targets, *([mail_from] if mail_from else [])]:
            if not is_valid_address(address):
                raise InvalidInput(f"invalid address {address!r}")
        data, signed = await self._sign(raw, sign_domain)
        blob = await self.store.blobs.aput(data)
        queue_id = await self.store.outbound.enqueue(
            blob, len(data), mail_from, targets, now=now_seconds(), sign_domain=sign_domain, signed=signed,
            envelope_id=envelope_id, kind=kind, account_id=account_id)
        self.bus.publish([QueueChanged(account_id or 0, queue_id)])
        log.info("queued %s from <%s> for %d recipient(s), %d bytes%s", queue_id, mail_from, len(targets),
                 len(data), ", DKIM-signed" if signed else "")
        return queue_id

    async def _sign(self, raw: bytes, sign_domain: str | None) -> tuple[bytes, bool]:
        """`raw` with a DKIM-Signature prepended when the domain has a key; unsigned when it cannot be signed."""
        if not sign_domain:
            return raw, False
        try:
            key = await self.store.dkim_keys.get(sign_domain)
        except YizhanError as exc:
            log.warning("no DKIM key for %s: %s", sign_domain, exc)
            return raw, False
        if key is None:
            return raw, False
        try:
            header = await asyncio.to_thread(dkim.sign, raw, key.domain, key.selector, key.private_pem)
        except YizhanError as exc:
            # A message without a From header cannot be signed; it is still sent, as the user asked.
            log.warning("not DKIM-signing a message for %s: %s", sign_domain, exc)
            return raw, False
        return header + raw, True

    async def list(self, limit: int = 1000) -> list[QueuedMessage]:
        """Queued messages, oldest first."""
        return await self.store.outbound.list_all(limit)

    async def show(self, queue_id: str) -> tuple[QueuedMessage, bytes]:
        """A queued message and its bytes."""
        message = await self.store.outbound.get(queue_id)
        if message is None:
            raise NotFound(f"no queued message {queue_id}")
        try:
            data = await self.store.blobs.aread(message.blob)
        except OSError:
            data = b""
        return message, data

    async def retry(self, queue_id: str | None = None) -> int:
        """Make pending recipients (of one message, or of all when None) due now; returns how many."""
        if queue_id is not None and await self.store.outbound.get(queue_id) is None:
            raise NotFound(f"no queued message {queue_id}")
        count = await self.store.outbound.retry(queue_id, now_seconds())
        self.bus.publish([QueueChanged(0, queue_id or "")])
        return count

    async def delete(self, queue_id: str) -> None:
        """Remove a message from the queue without sending it (and without a bounce)."""
        freed = await self.store.outbound.delete(queue_id)
        if freed is None:
            raise NotFound(f"no queued message {queue_id}")
        await self.release_blobs(freed)
        log.info("deleted %s from the queue", queue_id)

    async def release_blobs(self, names: Sequence[str]) -> None:
        """Remove those of `names` that no stored or queued message uses, checked again now."""
        for name in await self.store.outbound.unused_blobs(names):
            await asyncio.to_thread(self.store.blobs.remove, name)
