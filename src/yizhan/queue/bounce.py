"""Telling the sender: DSN bounces (Action: failed) and delay notices (Action: delayed), RFC 3464.

Invariants:
- Never a bounce for a bounce: a message whose envelope sender is the null reverse-path "" gets no DSN
  (RFC 3464 §2, RFC 5321 §4.5.5), so two servers can never bounce mail back and forth.
- A DSN is itself sent from "": to a sender hosted here it is filed into their INBOX through
  `DeliveryService.deliver`, to anyone else it is queued (kind "dsn" or "delay") like any outbound message.
- `notify` returns only once the DSN is durable (filed or queued), so the caller may then mark the recipients final.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from yizhan.mail.dsn import DsnRecipient, build_report
from yizhan.services.deliver import DeliveryService
from yizhan.services.outbound import OutboundService
from yizhan.store.outbound import QueuedMessage
from yizhan.store.store import Store
from yizhan.util.clock import now_seconds
from yizhan.util.errors import YizhanError

log = logging.getLogger(__name__)


class Bouncer:
    def __init__(self, store: Store, delivery: DeliveryService, outbound: OutboundService, hostname: str) -> None:
        self.store = store
        self.delivery = delivery
        self.outbound = outbound
        self.hostname = hostname

    async def notify(self, message: QueuedMessage, original: bytes, recipients: Sequence[DsnRecipient],
                     action: str) -> None:
        """Send a DSN about `recipients` of `message` to its sender (nothing for a message from "")."""
        sender = message.mail_from
        if not sender or not recipients:
            if not sender:
                log.info("no DSN for %s: its sender is the null reverse-path", message.queue_id)
            return
        dsn = await asyncio.to_thread(
            build_report, original, action=action, recipients=recipients, reporting_mta=self.hostname,
            sender=sender, arrival=message.created_at, now=now_seconds(), envelope_id=message.envelope_id)
        domain = sender.rpartition("@")[2].lower()
        if await self.store.directory.get_domain(domain) is not None:
            report = await self.delivery.deliver(dsn, "", [sender])
            for outcome in report.outcomes:
                if outcome.error is not None:
                    # The sender's own account is gone or full: a DSN about a DSN is never sent, so it is dropped.
                    log.warning("DSN for %s not filed for <%s>: %s", message.queue_id, sender, outcome.error)
            forwards = [f for outcome in report.outcomes for f in outcome.forwards]
            if forwards:
                await self.outbound.enqueue(dsn, "", forwards, kind="dsn" if action == "failed" else "delay")
        else:
            try:
                await self.outbound.enqueue(dsn, "", [sender], kind="dsn" if action == "failed" else "delay")
            except YizhanError as exc:
                log.warning("DSN for %s not queued for <%s>: %s", message.queue_id, sender, exc)
                return
        log.info("%s DSN for %s sent to <%s> (%d recipient(s))", action, message.queue_id, sender, len(recipients))
