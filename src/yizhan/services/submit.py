"""Taking messages in from the SMTP front ends: which recipients to accept, and where an accepted message goes.

- `check_recipient` is the RCPT rule (RFC 5321 §3.3): an address of a hosted domain is accepted when it resolves
  (account, alias, catch-all) and not every mailbox it reaches is full; an address of any other domain only when
  the session may relay (an authenticated user), otherwise `PermissionDenied` — never an open relay.
- `receive` files a message received by the MX or LMTP for local recipients; alias forwards to outside addresses
  go to the outbound queue in one entry.
- `submit` sends a message of an authenticated user: local recipients (hosted domains) are filed directly, every
  other recipient goes into ONE queue entry, DKIM-signed for the sender's domain.

Invariants: every method returns only when what it accepted is durable (delivery and queue both fsync before
returning), so the caller may answer 250. Recipients that fail when filing after others succeeded are put in the
queue (when the caller asks for it, and always for `submit`), which retries them locally and bounces them in the
end, so one recipient's full mailbox never loses the message nor refuses it for the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from yizhan.mail.addresses import is_valid_address, normalize_address, split_address
from yizhan.services.deliver import DeliveryService
from yizhan.services.directory import DirectoryService
from yizhan.services.outbound import OutboundService
from yizhan.services.senders import SenderPolicy
from yizhan.store.records import AccountRecord
from yizhan.store.store import Store
from yizhan.util.errors import InvalidInput, NotFound, PermissionDenied, QuotaExceeded, YizhanError


@dataclass(frozen=True, slots=True)
class Acceptance:
    """What became of one recipient: `error` is None when the message is durably on its way to it."""

    recipient: str
    error: YizhanError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def domain_of(address: str) -> str:
    return split_address(normalize_address(address))[1]


class SubmitService:
    def __init__(self, store: Store, directory: DirectoryService, delivery: DeliveryService,
                 outbound: OutboundService) -> None:
        self.store = store
        self.directory = directory
        self.delivery = delivery
        self.outbound = outbound
        self.senders = SenderPolicy(store)

    async def is_hosted(self, domain: str) -> bool:
        return await self.directory.is_hosted(domain)

    async def check_recipient(self, address: str, *, may_relay: bool, size: int = 0) -> bool:
        """True for a local recipient, False for a remote one the session may relay to; raises otherwise:
        InvalidInput (not an address), PermissionDenied (relay refused), NotFound (no such mailbox here),
        QuotaExceeded (every mailbox it reaches is full, or would be with `size` more bytes)."""
        if not is_valid_address(address.strip()):
            raise InvalidInput(f"<{address}> is not a valid address")
        if not await self.is_hosted(domain_of(address)):
            if may_relay:
                return False
            raise PermissionDenied(f"relay access denied for <{address}>")
        resolution = await self.directory.resolve([address])
        if address in resolution.unknown:
            raise NotFound(f"no mailbox <{address}> here")
        accounts = resolution.accounts.get(address, [])
        if not accounts and not resolution.forwards.get(address):
            raise NotFound(f"no active mailbox <{address}> here")
        limited = [a for a in accounts if a.quota_bytes]
        if limited and len(limited) == len(accounts) and not resolution.forwards.get(address):
            # Usage changes with every delivery, so it is read now (only for mailboxes that have a quota).
            usage = await self.store.directory.usage([a.id for a in limited])
            if all(_full(a, usage.get(a.id, a.used_bytes), size) for a in limited):
                raise QuotaExceeded(f"mailbox <{address}> is full")
        return True

    async def receive(self, raw: bytes, mail_from: str, recipients: Sequence[str], *,
                      requeue_failures: bool, junk: bool = False) -> list[Acceptance]:
        """File `raw` for local `recipients` (MX, LMTP). With `requeue_failures`, recipients that fail while
        others succeed are queued for a later local attempt instead of failing. With `junk`, into Junk."""
        report = await self.delivery.deliver(raw, mail_from, recipients, junk=junk)
        forwards = _unique(f for outcome in report.outcomes for f in outcome.forwards)
        succeeded = any(outcome.ok for outcome in report.outcomes)
        requeued = [o.recipient for o in report.outcomes if not o.ok] if requeue_failures and succeeded else []
        extra = _unique([*forwards, *requeued])
        if extra:
            await self.outbound.enqueue(raw, mail_from, extra)
        return [Acceptance(o.recipient, None if o.ok or o.recipient in requeued else o.error)
                for o in report.outcomes]

    async def submit(self, account: AccountRecord, raw: bytes, mail_from: str,
                     recipients: Sequence[str]) -> list[Acceptance]:
        """Send `raw` from `account`: local recipients filed now, all others queued once. Every recipient is
        accepted when this returns (failures are the queue's to retry or bounce)."""
        hosted: dict[str, bool] = {}
        for recipient in recipients:
            domain = domain_of(recipient)
            if domain not in hosted:
                hosted[domain] = await self.is_hosted(domain)
        local = [r for r in recipients if hosted[domain_of(r)]]
        remote = [r for r in recipients if not hosted[domain_of(r)]]
        queued = list(remote)
        if local:
            report = await self.delivery.deliver(raw, mail_from, local)
            queued += [f for outcome in report.outcomes for f in outcome.forwards]
            queued += [outcome.recipient for outcome in report.outcomes if not outcome.ok]
        queued = _unique(queued)
        if queued:
            await self.outbound.enqueue(raw, mail_from, queued, sign_domain=domain_of(mail_from) or None,
                                        account_id=account.id)
        return [Acceptance(r) for r in recipients]


def _full(account: AccountRecord, used_bytes: int, size: int) -> bool:
    return bool(account.quota_bytes) and used_bytes + max(size, 1) > account.quota_bytes


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
