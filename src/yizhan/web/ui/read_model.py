"""The reading pane's data: one opened message turned into what the templates show (`Reading`), and the remote
image decision.

Remote images (services/settings.py holds the policy): shown when the policy is "always", or "ask" and the
sender (an address or its @domain) is on the account's list, or the reader asked to see them once (`?images=1`,
refused under "never"). Otherwise the body is rendered with them blocked and the pane shows a bar offering
"show once" and, under "ask", "always for this sender".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from yizhan.mail.addresses import is_valid_address, normalize_address
from yizhan.mail.model import Address
from yizhan.mail.render import AttachmentInfo, MessageView
from yizhan.services.reading import OpenedMessage
from yizhan.services.receipts import asks_for_receipt, receipt_recipients
from yizhan.store.records import AccountRecord, FolderRecord
from yizhan.web.deps import web_state
from yizhan.web.folders import FolderView, folder_views
from yizhan.web.i18n import current
from yizhan.web.ui.read_common import part_policy, part_url

# Folders where a read receipt is never offered (the reader's own messages, or mail judged as spam).
_NO_RECEIPT_USES = frozenset({"sent", "drafts", "junk", "trash"})


@dataclass(frozen=True)
class ImageDecision:
    policy: str
    show: bool
    sender: str
    # "Always for this sender" can be offered.
    can_always: bool


@dataclass(frozen=True)
class AttachmentRow:
    info: AttachmentInfo
    url: str
    download_url: str
    # "image" or "pdf" when the browser may preview it, else "".
    preview: str
    size_text: str


@dataclass(frozen=True)
class Reading:
    folder: FolderRecord
    folder_label: str
    uid: int
    flags: tuple[str, ...]
    view: MessageView
    date_text: str
    images: ImageDecision
    images_hidden: bool
    ask_receipt: bool
    receipt_to: tuple[str, ...]
    body_url: str
    attachments: tuple[AttachmentRow, ...]
    move_targets: tuple[FolderView, ...] = field(default=())

    @property
    def ref(self) -> str:
        return f"{self.folder.id}:{self.uid}"

    @property
    def base(self) -> str:
        return f"/mail/read/{self.folder.id}/{self.uid}"

    @property
    def seen(self) -> bool:
        return "\\Seen" in self.flags

    @property
    def flagged(self) -> bool:
        return "\\Flagged" in self.flags

    @property
    def sender(self) -> Address | None:
        return self.view.from_[0] if self.view.from_ else None


def sender_address(view: MessageView) -> str:
    found = view.from_[0].addr if view.from_ else ""
    return normalize_address(found) if found and is_valid_address(found) else ""


async def image_decision(request: Request, account: AccountRecord, view: MessageView, once: bool) -> ImageDecision:
    settings = web_state(request).services.account_settings
    policy = (await settings.get(account)).remote_images
    sender = sender_address(view)
    automatic = await settings.remote_images_allowed(account, sender)
    return ImageDecision(policy, automatic or (once and policy != "never"), sender,
                         policy == "ask" and bool(sender))


def size_text(size: int) -> str:
    if size < 1024:
        return current().ngettext("%(num)d byte", "%(num)d bytes", size) % {"num": size}
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def attachment_rows(folder_id: int, uid: int, view: MessageView) -> tuple[AttachmentRow, ...]:
    rows = []
    for info in view.attachments:
        if info.is_inline:
            continue
        policy = part_policy(info.content_type)
        preview = ""
        if policy.inline_allowed:
            preview = "pdf" if info.content_type == "application/pdf" else "image"
        rows.append(AttachmentRow(info, part_url(folder_id, uid, info.path, inline=bool(preview)),
                                  part_url(folder_id, uid, info.path, download=True), preview, size_text(info.size)))
    return tuple(rows)


async def reading_of(request: Request, account: AccountRecord, opened: OpenedMessage, *,
                     images_once: bool) -> Reading:
    view = opened.view
    folder = opened.folder
    images = await image_decision(request, account, view, images_once)
    moment = int(view.date.timestamp()) if view.date is not None else opened.internal_date
    body_url = f"/mail/body/{folder.id}/{opened.uid}" + ("?images=1" if images.show and images_once else "")
    folders = await web_state(request).services.mailbox.folders(account.id)
    views = folder_views(folders)
    label = next((v.label for v in views if v.record.id == folder.id), folder.name)
    own = normalize_address(account.address)
    ask = (asks_for_receipt(view, opened.flags) and folder.special_use not in _NO_RECEIPT_USES
           and sender_address(view) != own)
    return Reading(
        folder=folder, folder_label=label, uid=opened.uid, flags=opened.flags, view=view,
        date_text=current().datetime(moment), images=images,
        images_hidden=view.has_remote_images and not images.show,
        ask_receipt=ask, receipt_to=tuple(receipt_recipients(view)) if ask else (),
        body_url=body_url, attachments=attachment_rows(folder.id, opened.uid, view),
        move_targets=tuple(v for v in views if v.record.id != folder.id),
    )
