"""What the compose page starts with: empty, a reply (or reply-all), a forward (inline or as attachment), a draft
to continue, or a mailto:-style address.

Every source message is read by (signed-in account, folder id, UID) through `ReadingService`, so a reference to
another account's message is NotFound. The files a reply or forward carries (inline images, attachments,
a forwarded message) become the account's uploads, so the form treats them like files the user attached: the
editor shows inline images from `/compose/uploads/<id>` and the server turns them back into `cid:` parts on send.
`source` tells the send route where threading headers come from ("reply:<folder id>:<uid>",
"forward:<folder id>:<uid>", "draft" for the draft's own headers): they are read again from the store at send time,
never taken from the browser.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from yizhan.mail.compose import Attachment, InlineImage
from yizhan.mail.parts import extract_part
from yizhan.mail.quote import Language, Prefill
from yizhan.mail.render import RenderOptions
from yizhan.services.runtime import Services
from yizhan.services.uploads import Upload, UploadService
from yizhan.store.records import AccountRecord, FolderRecord
from yizhan.util.errors import InvalidInput, NotFound
from yizhan.web.i18n import Translator

_PART_MARK = "/yizhan-draft-part/"
MAX_PREFILL_ADDRESSES = 2000


@dataclass
class Initial:
    from_address: str = ""
    to: str = ""
    cc: str = ""
    bcc: str = ""
    subject: str = ""
    html: str = ""
    text: str = ""
    mode: str = "html"
    attachments: list[Upload] = field(default_factory=list)
    source: str = ""
    draft_uid: int | None = None
    priority: int = 3
    receipt: bool = False
    # Whether the body already holds a signature (a continued draft): then none is added.
    has_signature: bool = False


def parse_ref(value: str) -> tuple[int, int]:
    """"<folder id>:<uid>" as two positive integers, or InvalidInput."""
    folder, _, uid = value.partition(":")
    if not (folder.isdigit() and uid.isdigit() and len(value) < 40) or int(folder) <= 0 or int(uid) <= 0:
        raise InvalidInput(f"“{value[:40]}” is not a message reference; use <folder id>:<uid>")
    return int(folder), int(uid)


async def folder_by_id(services: Services, account_id: int, folder_id: int) -> FolderRecord:
    """The account's folder with this id; NotFound for any other (including another account's)."""
    for folder in await services.mailbox.folders(account_id):
        if folder.id == folder_id:
            return folder
    raise NotFound("no such message")


def language_of(i18n: Translator) -> Language:
    return "zh" if i18n.language == "zh_CN" else "en"


async def _stash(uploads: UploadService, account_id: int, attachments: Sequence[Attachment],
                 images: Sequence[InlineImage], body: str, limit: int) -> tuple[str, list[Upload]]:
    """Keep the files as uploads; `cid:` references of the images in `body` become their upload URLs."""
    kept: list[Upload] = []
    for image in images:
        upload = await uploads.add(account_id, image.filename or "image", image.content_type, image.data,
                                   max_file_bytes=limit)
        body = body.replace(f'src="cid:{html.escape(image.cid, quote=True)}"', f'src="/compose/uploads/{upload.id}"')
    for attachment in attachments:
        kept.append(await uploads.add(account_id, attachment.filename, attachment.content_type, attachment.data,
                                      max_file_bytes=limit))
    return body, kept


def _joined(values: Sequence[str]) -> str:
    return ", ".join(values[:MAX_PREFILL_ADDRESSES])


async def from_prefill(prefill: Prefill, uploads: UploadService, account_id: int, limit: int, source: str) -> Initial:
    body, kept = await _stash(uploads, account_id, prefill.attachments, prefill.inline_images, prefill.html, limit)
    return Initial(to=_joined(prefill.to), cc=_joined(prefill.cc), subject=prefill.subject, html=body,
                   text=prefill.text, attachments=kept, source=source)


async def reply_initial(services: Services, uploads: UploadService, account: AccountRecord, ref: str,
                        identities: Sequence[str], i18n: Translator, *, reply_all: bool) -> Initial:
    folder_id, uid = parse_ref(ref)
    folder = await folder_by_id(services, account.id, folder_id)
    prefill = await services.reading.reply_prefill(account.id, folder.name, uid, identities, reply_all=reply_all,
                                                   language=language_of(i18n), tz=i18n.zone)
    return await from_prefill(prefill, uploads, account.id, services.compose.limits.max_bytes,
                              f"reply:{folder_id}:{uid}")


async def forward_initial(services: Services, uploads: UploadService, account: AccountRecord, ref: str,
                          i18n: Translator, *, as_attachment: bool) -> Initial:
    folder_id, uid = parse_ref(ref)
    folder = await folder_by_id(services, account.id, folder_id)
    prefill = await services.reading.forward_prefill(account.id, folder.name, uid, as_attachment=as_attachment,
                                                     language=language_of(i18n), tz=i18n.zone)
    initial = await from_prefill(prefill, uploads, account.id, services.compose.limits.max_bytes,
                                 f"forward:{folder_id}:{uid}")
    if as_attachment:
        initial.html = "<div><br></div>"
    return initial


async def draft_initial(services: Services, uploads: UploadService, account: AccountRecord, ref: str) -> Initial:
    """A stored draft opened again: its fields, body, inline images and attachments."""
    folder_id, uid = parse_ref(ref)
    folder = await folder_by_id(services, account.id, folder_id)
    opened = await services.reading.open(account.id, folder.name, uid,
                                         RenderOptions(part_url=lambda path: _PART_MARK + path))
    raw = await services.reading.raw(account.id, folder.name, uid)
    view = opened.view
    limit = services.compose.limits.max_bytes
    body = view.body_html
    images: list[InlineImage] = []
    for cid, path in view.inline_parts:
        marker = f'src="{_PART_MARK}{path}"'
        if marker in body:
            part = extract_part(raw.data, path)
            if part is not None and part.content_type.startswith("image/"):
                images.append(InlineImage(cid, part.content_type, part.data, part.filename))
                body = body.replace(marker, f'src="cid:{html.escape(cid, quote=True)}"')
            else:
                body = body.replace(marker, "")
    attachments = []
    for info in view.attachments:
        if info.is_inline and info.content_id in {image.cid for image in images}:
            continue
        part = extract_part(raw.data, info.path)
        if part is not None:
            attachments.append(Attachment(info.filename, part.content_type, part.data))
    body, kept = await _stash(uploads, account.id, attachments, images, body, limit)
    is_draft = folder.special_use == "drafts" and "\\Draft" in opened.flags
    return Initial(
        from_address=view.from_[0].addr if view.from_ else "",
        to=_joined([a.display() for a in view.to]), cc=_joined([a.display() for a in view.cc]),
        bcc=_joined([a.display() for a in view.bcc]), subject=view.subject,
        html=body if view.body_kind == "html" else "", text=view.body_text,
        mode="html" if view.body_kind == "html" else "text", attachments=kept,
        source="draft" if view.in_reply_to or view.references else "",
        draft_uid=uid if is_draft else None, priority=view.priority, receipt=bool(view.mdn_to),
        has_signature=True)


def mailto_initial(to: str, cc: str, subject: str, body: str) -> Initial:
    """`?to=`, `?cc=`, `?subject=`, `?body=` (the fields of a mailto: URL, RFC 6068)."""
    address = to.removeprefix("mailto:")
    return Initial(to=address[:5000], cc=cc[:5000], subject=subject[:998], text=body[:100_000],
                   html="".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in body[:100_000].split("\n"))
                   if body else "")
