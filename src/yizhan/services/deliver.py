"""Delivery: raw bytes, an envelope sender and recipients in; the message filed into each recipient's INBOX.

Invariants:
- The bytes are kept exactly as received, however malformed; parsing problems never refuse a message.
- `deliver` returns only after the blob and the index rows are durable (group commit, see store/ingest.py),
  so a protocol may acknowledge the message (SMTP 250, LMTP per recipient) as soon as it returns.
- Recipients that resolve to the same account receive one copy; identical bytes share one blob.
- Outcomes are per recipient: one recipient over quota does not fail the others.
- Each delivery is written to the delivery log (direction "local": filed here) through services/logwriter.py,
  in the background: logging never delays nor fails a delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from yizhan.services.bus import EventBus
from yizhan.services.directory import DirectoryService
from yizhan.services.logwriter import DeliveryLogWriter
from yizhan.services.prepare import prepare_and_keep_in_thread
from yizhan.store.ingest import NewEntry
from yizhan.store.records import StoredEntry
from yizhan.store.store import Store
from yizhan.util.clock import to_seconds
from yizhan.util.errors import InvalidInput, NotFound, YizhanError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecipientOutcome:
    recipient: str
    stored: tuple[StoredEntry, ...] = ()
    # Outside addresses this recipient's aliases forward to (the queue takes them, once it exists).
    forwards: tuple[str, ...] = ()
    error: YizhanError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    blob: str
    outcomes: tuple[RecipientOutcome, ...] = field(default=())


class DeliveryService:
    def __init__(self, store: Store, bus: EventBus, directory: DirectoryService,
                 max_message_size: int = 50 * 1024 * 1024) -> None:
        self.store = store
        self.bus = bus
        self.directory = directory
        self.max_message_size = max_message_size
        self.delivery_log = DeliveryLogWriter(store)

    async def deliver(self, raw: bytes, mail_from: str, recipients: Sequence[str],
                      internal_date: datetime | None = None, junk: bool = False) -> DeliveryReport:
        """File `raw` for each recipient. Unknown recipients get a NotFound outcome. With `junk` (DMARC said
        quarantine, RFC 7489 §6.3) it goes to each recipient's Junk folder, marked `$Junk`, or to the INBOX of an
        account that has none."""
        if len(raw) > self.max_message_size:
            raise InvalidInput(f"message of {len(raw)} bytes exceeds the limit of {self.max_message_size}")
        resolution = await self.directory.resolve(recipients)
        accounts = {a.id: a for found in resolution.accounts.values() for a in found}
        inboxes = dict(resolution.inboxes)
        keywords: tuple[str, ...] = ()
        if junk:
            junk_folders = await self.store.folders.by_special_use(sorted(inboxes), "junk")
            inboxes.update({account_id: folder.id for account_id, folder in junk_folders.items()})
            keywords = ("$Junk",)

        prepared, blob = await prepare_and_keep_in_thread(self.store, raw)
        received = to_seconds(internal_date)
        entries = [
            NewEntry(account_id=a, folder_id=inboxes[a], blob=blob, size=len(raw), internal_date=received,
                     parsed=prepared.parsed, thread_subject=prepared.thread_subject, search=prepared.search,
                     keywords=keywords)
            for a in accounts if a in inboxes
        ]
        results, events = await self.store.ingest.add(entries)
        self.bus.publish(events)
        by_account = {entry.account_id: result for entry, result in zip(entries, results, strict=True)}

        outcomes = []
        for recipient in recipients:
            if recipient in resolution.unknown:
                outcomes.append(RecipientOutcome(recipient, error=NotFound(f"no mailbox {recipient} here")))
                continue
            stored = []
            error: YizhanError | None = None
            for account in resolution.accounts.get(recipient, []):
                result = by_account.get(account.id, NotFound(f"{account.address} has no INBOX"))
                if isinstance(result, StoredEntry):
                    stored.append(result)
                else:
                    error = result
            forwards = tuple(resolution.forwards.get(recipient, ()))
            if not stored and not forwards:
                error = error or NotFound(f"no active mailbox for {recipient}")
            outcomes.append(RecipientOutcome(recipient, tuple(stored), forwards, None if stored or forwards
                                             else error))
        self._log(mail_from, prepared.parsed.message_id, len(raw), outcomes)
        if prepared.parsed.defects:
            log.info("delivered malformed message %s: %s", blob[:12], "; ".join(prepared.parsed.defects[:5]))
        return DeliveryReport(blob, tuple(outcomes))

    def _log(self, mail_from: str, message_id: str, size: int, outcomes: Sequence[RecipientOutcome]) -> None:
        """One delivery-log line for the recipients filed or forwarded, one per recipient refused (never raises)."""
        try:
            done = [o.recipient for o in outcomes if o.ok]
            if done:
                self.delivery_log.submit("local", mail_from, done, message_id, size, "delivered")
            for outcome in outcomes:
                if not outcome.ok:
                    self.delivery_log.submit("local", mail_from, [outcome.recipient], message_id, size,
                                             "rejected" if isinstance(outcome.error, NotFound) else "failed",
                                             str(outcome.error))
        except Exception:
            log.exception("delivery log entry not written")
