"""Read receipts: answering a message's request for a message disposition notification (RFC 8098), once.

A message asks for a receipt with `Disposition-Notification-To` (RFC 8098 §2.1). The reader decides: `send`
builds the MDN (`mail.mdn`) and sends it; `ignore` declines. Either way the message gets the `$MDNSent` keyword
(RFC 3503 §2: set when a receipt was sent or the user declined), and no second receipt is ever sent for it.

Invariants:
- Once per message: `$MDNSent` is set (one store transaction) BEFORE the receipt leaves, and only the caller
  whose store call changed the flags sends; a concurrent second request finds it set and gets AlreadyExists. If
  sending then fails, the keyword is removed again so the reader may retry.
- The envelope sender is null `<>` (RFC 8098 §3), so a receipt never causes a bounce. Local recipients are filed
  directly; others go to the outbound queue once, DKIM-signed for the reader's domain. `send` returns only when the
  receipt is durable (filed or queued).
- Receipts are only sent to at most `MAX_RECIPIENTS` valid addresses taken from the request; the message is
  looked up within the account (`ReadingService.folder_by_id` semantics), so nothing of another account is seen.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from yizhan.mail.addresses import is_valid_address, normalize_address
from yizhan.mail.mdn import build_mdn
from yizhan.mail.render import MessageView, render_message
from yizhan.services.mailbox import MailboxService
from yizhan.services.submit import SubmitService, domain_of
from yizhan.store.records import AccountRecord, FolderRecord
from yizhan.util.clock import now_seconds
from yizhan.util.errors import AlreadyExists, InvalidInput, NotFound, YizhanError

MDN_SENT = "$MDNSent"
MAX_RECIPIENTS = 5


@dataclass(frozen=True, slots=True)
class ReceiptResult:
    """What became of a receipt: `sent_to` is empty when the reader declined."""

    sent_to: tuple[str, ...]


def receipt_recipients(view: MessageView) -> list[str]:
    """The addresses a receipt for `view` goes to (valid ones of Disposition-Notification-To, at most 5)."""
    found = [normalize_address(a.addr) for a in view.mdn_to if a.addr and is_valid_address(a.addr)]
    return list(dict.fromkeys(found))[:MAX_RECIPIENTS]


def asks_for_receipt(view: MessageView, flags: tuple[str, ...]) -> bool:
    """Whether the reading pane should ask the reader about a receipt for this message."""
    return bool(receipt_recipients(view)) and MDN_SENT.lower() not in {f.lower() for f in flags}


class ReceiptService:
    def __init__(self, mailbox: MailboxService, submit: SubmitService, reporting_host: str = "localhost") -> None:
        self.mailbox = mailbox
        self.submit = submit
        self.reporting_host = reporting_host

    async def _load(self, folder: FolderRecord, uid: int) -> tuple[tuple[str, ...], bytes, MessageView]:
        found = await self.mailbox.fetch_data(folder, [uid]) if uid > 0 else []
        if not found:
            raise NotFound("no such message")
        raw = await self.mailbox.read(found[0].blob)
        return found[0].flags, raw, await asyncio.to_thread(render_message, raw)

    async def _claim(self, folder: FolderRecord, uid: int) -> tuple[bytes, MessageView, list[str]]:
        flags, raw, view = await self._load(folder, uid)
        recipients = receipt_recipients(view)
        if not recipients:
            raise InvalidInput("this message does not ask for a read receipt")
        if MDN_SENT.lower() in {f.lower() for f in flags}:
            raise AlreadyExists("a read receipt was already sent or declined for this message")
        changed = await self.mailbox.store_flags(folder, [uid], "add", [MDN_SENT])
        if uid not in changed:
            raise AlreadyExists("a read receipt was already sent or declined for this message")
        return raw, view, recipients

    async def ignore(self, account: AccountRecord, folder: FolderRecord, uid: int) -> ReceiptResult:
        """Decline the receipt: the message is marked `$MDNSent` and nothing is sent."""
        self._own(account, folder)
        await self._claim(folder, uid)
        return ReceiptResult(())

    async def send(self, account: AccountRecord, folder: FolderRecord, uid: int) -> ReceiptResult:
        """Send the receipt (see the module docstring); AlreadyExists when one was sent or declined before."""
        self._own(account, folder)
        raw, view, recipients = await self._claim(folder, uid)
        try:
            mdn = build_mdn(raw, reader=account.address, reader_name=account.display_name,
                            to=_named(view, recipients),
                            subject=view.subject, original_message_id=view.message_id,
                            reporting_ua=f"{self.reporting_host}; Yizhan", now=now_seconds())
            await self._deliver(account, mdn, recipients)
        except BaseException:
            try:
                await self.mailbox.store_flags(folder, [uid], "remove", [MDN_SENT])
            except YizhanError:
                pass
            raise
        return ReceiptResult(tuple(recipients))

    async def _deliver(self, account: AccountRecord, mdn: bytes, recipients: list[str]) -> None:
        local: list[str] = []
        remote: list[str] = []
        for address in recipients:
            (local if await self.submit.is_hosted(domain_of(address)) else remote).append(address)
        if local:
            report = await self.submit.delivery.deliver(mdn, "", local)
            remote += [f for outcome in report.outcomes for f in outcome.forwards]
        if remote:
            await self.submit.outbound.enqueue(mdn, "", list(dict.fromkeys(remote)),
                                               sign_domain=domain_of(account.address) or None,
                                               account_id=account.id)

    @staticmethod
    def _own(account: AccountRecord, folder: FolderRecord) -> None:
        if folder.account_id != account.id:
            raise NotFound("no such message")


def _named(view: MessageView, recipients: list[str]) -> list[tuple[str, str]]:
    names = {normalize_address(a.addr): a.name for a in view.mdn_to if a.addr}
    return [(names.get(address, ""), address) for address in recipients]


__all__ = ["MDN_SENT", "ReceiptResult", "ReceiptService", "asks_for_receipt", "receipt_recipients"]
