"""Sending and drafts for the web and the API: a `ComposeRequest` built into a message, submitted, and filed.

- `send`: the sender (From) must be an identity of the account (`SenderPolicy`: its own address or an alias
  granted to it); local recipients that do not exist or are full are refused up front with a message naming them;
  the message is built (in a thread), submitted through `SubmitService.submit` (local recipients filed, remote ones
  queued once, DKIM-signed), then a copy with Bcc is appended to the account's Sent folder with \\Seen. The draft
  it came from is removed, and the message replied to or forwarded gets \\Answered or $Forwarded.
- `save_draft`: the same checks on the sender, lenient on recipients (a draft may hold an unfinished address);
  appended to Drafts with \\Draft and \\Seen; `replace_uid` (the previous version) is then expunged, so at every
  moment at least one version is stored.

Invariants: `send` returns only after the message is durable on its way (submission fsyncs delivery and queue);
once submitted it is never reported as failed, so a Sent folder that cannot take the copy (full) is logged and
reported in the result (`sent_uid` None) rather than raised, or the user would send it twice. Sent and Drafts are
found by special use, else by name, and created when missing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from yizhan.mail.addresses import normalize_address
from yizhan.mail.compose import BuiltMessage, ComposeLimits, ComposeRequest, build_message
from yizhan.services.mailbox import MailboxService
from yizhan.services.senders import SenderPolicy
from yizhan.services.submit import SubmitService
from yizhan.store.records import AccountRecord, FolderRecord
from yizhan.store.store import Store
from yizhan.util.errors import InvalidInput, NotFound, QuotaExceeded, YizhanError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A stored message of the same account: folder name and UID."""

    folder: str
    uid: int


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str
    recipients: tuple[str, ...]
    # The UID of the copy in Sent, or None when it could not be filed (the message was sent all the same).
    sent_uid: int | None
    sent_folder: str


@dataclass(frozen=True, slots=True)
class DraftResult:
    uid: int
    uidvalidity: int
    folder: str
    message_id: str


class ComposeService:
    def __init__(self, mailbox: MailboxService, submit: SubmitService, store: Store,
                 limits: ComposeLimits | None = None) -> None:
        self.mailbox = mailbox
        self.submit = submit
        self.store = store
        self.senders = SenderPolicy(store)
        base = limits or ComposeLimits()
        self.limits = replace(base, max_bytes=min(base.max_bytes, mailbox.max_message_size))

    async def identities(self, account: AccountRecord) -> list[str]:
        """The addresses `account` may send as: its own, then the aliases that name it directly as a target."""
        mine = normalize_address(account.address)
        found = [account.address]
        for alias in await self.store.directory.list_aliases():
            if (normalize_address(alias.target) == mine and not alias.source.startswith("@")
                    and alias.source not in found):
                found.append(alias.source)
        return found

    async def _build(self, request: ComposeRequest, *, now: datetime | None = None, include_bcc: bool = False,
                     strict: bool = True, message_id: str | None = None) -> BuiltMessage:
        return await asyncio.to_thread(lambda: build_message(request, limits=self.limits, include_bcc=include_bcc,
                                                             strict=strict, now=now, message_id=message_id))

    async def _special(self, account: AccountRecord, use: str, name: str) -> FolderRecord:
        found = (await self.store.folders.by_special_use([account.id], use)).get(account.id)
        if found is not None:
            return found
        try:
            return await self.mailbox.folder(account.id, name)
        except NotFound:
            return await self.mailbox.create(account.id, name, ["\\" + name])

    async def send(self, account: AccountRecord, request: ComposeRequest, *, draft_uid: int | None = None,
                   answered: MessageRef | None = None, forwarded: MessageRef | None = None) -> SendResult:
        """Send `request` from `account` (see the module docstring); InvalidInput, PermissionDenied, NotFound or
        QuotaExceeded name what the user must change."""
        await self.senders.check(account, [request.from_address.strip()])
        now = datetime.now(UTC)
        built = await self._build(request, now=now)
        for recipient in built.recipients:
            # Refuse now what would only bounce later: unknown or full local mailboxes (remote ones are queued).
            try:
                await self.submit.check_recipient(recipient, may_relay=True, size=len(built.raw))
            except NotFound:
                raise NotFound(f"there is no mailbox <{recipient}> here; check the address") from None
            except QuotaExceeded:
                raise QuotaExceeded(f"the mailbox <{recipient}> is full") from None
        copy = (await self._build(request, now=now, include_bcc=True, message_id=built.message_id)
                if request.bcc else built)
        await self.submit.submit(account, built.raw, built.sender, list(built.recipients))
        sent_uid: int | None = None
        sent_name = "Sent"
        try:
            sent = await self._special(account, "sent", "Sent")
            sent_name = sent.name
            sent_uid = (await self.mailbox.append(account.id, sent.name, copy.raw, ["\\Seen"])).uid
        except YizhanError as exc:
            log.warning("sent message %s not filed in Sent for account %s: %s", built.message_id, account.id, exc)
        await self._after_send(account, draft_uid, answered, forwarded)
        return SendResult(built.message_id, built.recipients, sent_uid, sent_name)

    async def _after_send(self, account: AccountRecord, draft_uid: int | None, answered: MessageRef | None,
                          forwarded: MessageRef | None) -> None:
        marks = [(answered, "\\Answered"), (forwarded, "$Forwarded")]
        for ref, flag in marks:
            if ref is None:
                continue
            try:
                folder = await self.mailbox.folder(account.id, ref.folder)
                await self.mailbox.store_flags(folder, [ref.uid], "add", [flag])
            except YizhanError as exc:
                log.info("could not flag message %s/%s %s: %s", ref.folder, ref.uid, flag, exc)
        if draft_uid is not None:
            try:
                await self._remove_draft(account, draft_uid)
            except YizhanError as exc:
                log.info("could not remove draft %s: %s", draft_uid, exc)

    async def save_draft(self, account: AccountRecord, request: ComposeRequest,
                         replace_uid: int | None = None) -> DraftResult:
        """File `request` in Drafts (\\Draft, \\Seen); the previous version `replace_uid` is removed afterwards."""
        await self.senders.check(account, [request.from_address.strip()])
        built = await self._build(request, strict=False, include_bcc=True)
        drafts = await self._special(account, "drafts", "Drafts")
        appended = await self.mailbox.append(account.id, drafts.name, built.raw, ["\\Draft", "\\Seen"])
        if replace_uid is not None and replace_uid != appended.uid:
            await self._remove_draft(account, replace_uid)
        return DraftResult(appended.uid, appended.uidvalidity, drafts.name, built.message_id)

    async def delete_draft(self, account: AccountRecord, uid: int) -> None:
        """Remove a draft (NotFound when there is no such draft)."""
        if not await self._remove_draft(account, uid):
            raise NotFound("no such draft")

    async def _remove_draft(self, account: AccountRecord, uid: int) -> bool:
        """Expunge the draft `uid` from Drafts; False when it is not there (or is not a draft)."""
        if uid <= 0:
            raise InvalidInput("invalid draft id")
        drafts = await self._special(account, "drafts", "Drafts")
        found = await self.mailbox.fetch_data(drafts, [uid])
        if not found or "\\Draft" not in found[0].flags:
            return False
        await self.mailbox.store_flags(drafts, [uid], "add", ["\\Deleted"])
        return bool(await self.mailbox.expunge(drafts, [uid]))
