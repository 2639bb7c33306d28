"""`/api/v1/messages/{folder_id}/{uid}`: one message with its parsed parts, its raw bytes, one part, and its read
receipt. (Listing, actions, flags and deletion are in messages.py.)

The body's HTML is the server's sanitiser output (mail/sanitize.py), safe to show in a sandboxed frame; its cid:
images point at `…/parts/{path}` of this API, remote images are blocked unless `images=true`. Parts are served as
the web serves them (web/ui/read_common.part_policy): HTML and SVG only as application/octet-stream downloads,
nosniff, RFC 6266 file names. Every lookup is within the caller's account: a foreign message is 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from yizhan.mail.parts import parse_path
from yizhan.mail.render import RenderOptions
from yizhan.services.receipts import MDN_SENT, receipt_recipients
from yizhan.util.errors import NotFound
from yizhan.web.api.v1.message_models import (
    AddressOut,
    AttachmentOut,
    BodyOut,
    MessageDetail,
    ReceiptOut,
    ReceiptRequest,
    ReceiptResultOut,
)
from yizhan.web.api.v1.responses import errors
from yizhan.web.deps import Principal, require_account
from yizhan.web.ui.read_common import (
    DOWNLOAD_CSP,
    MAX_FOLDER_ID,
    MAX_UID,
    content_disposition,
    part_policy,
    proxy_url,
    readers,
)

router = APIRouter(tags=["messages"])

FolderId = Annotated[int, Path(ge=1, le=MAX_FOLDER_ID)]
Uid = Annotated[int, Path(ge=1, le=MAX_UID)]
Account = Annotated[Principal, Depends(require_account)]
_BYTES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The bytes"}}


def _base(folder_id: int, uid: int) -> str:
    return f"/api/v1/messages/{folder_id}/{uid}"


@router.get("/messages/{folder_id}/{uid}", response_model=MessageDetail, response_model_by_alias=True,
            responses=errors(404), summary="A message: headers, flags, safe HTML and text body, attachments")
async def get_message(request: Request, principal: Account, folder_id: FolderId, uid: Uid,
                      mark_seen: Annotated[bool, Query(description="Set \\Seen, as opening it in a reader")] = False,
                      images: Annotated[bool, Query(description="Remote images through the server's proxy")] = False,
                      ) -> MessageDetail:
    account = principal.account
    services = readers(request)
    folder = await services.reading.folder_by_id(account.id, folder_id)
    base = _base(folder.id, uid)
    options = RenderOptions(allow_remote=images, proxy_url=lambda url: proxy_url(request, account, url),
                            part_url=lambda path: f"{base}/parts/{path}")
    opened = await services.reading.open(account.id, folder.name, uid, options, mark_seen=mark_seen)
    view = opened.view
    return MessageDetail(
        id=f"{folder.id}:{opened.uid}", folder_id=folder.id, folder=folder.name, uid=opened.uid,
        flags=list(opened.flags), size=opened.size, received=opened.internal_date,
        date=int(view.date.timestamp()) if view.date is not None else None, subject=view.subject,
        from_=[AddressOut.of(a) for a in view.from_], sender=[AddressOut.of(a) for a in view.sender],
        to=[AddressOut.of(a) for a in view.to], cc=[AddressOut.of(a) for a in view.cc],
        bcc=[AddressOut.of(a) for a in view.bcc], reply_to=[AddressOut.of(a) for a in view.reply_to],
        message_id=view.message_id, in_reply_to=list(view.in_reply_to), references=list(view.references),
        priority=view.priority, list_unsubscribe=list(view.list_unsubscribe),
        body=BodyOut(kind="html" if view.body_kind == "html" else "text" if view.body_kind == "text" else "none",
                     html=view.body_html, text=view.body_text, has_remote_images=view.has_remote_images),
        attachments=[AttachmentOut(path=a.path, filename=a.filename, content_type=a.content_type, size=a.size,
                                   inline=a.is_inline, content_id=a.content_id, is_message=a.is_message,
                                   url=f"{base}/parts/{a.path}") for a in view.attachments],
        receipt=ReceiptOut(requested=bool(receipt_recipients(view)), to=receipt_recipients(view),
                           answered=MDN_SENT.lower() in {f.lower() for f in opened.flags}),
        raw_url=f"{base}/raw", defects=list(view.defects),
    )


@router.get("/messages/{folder_id}/{uid}/raw", responses={**errors(404), 200: {
    "content": {"message/rfc822": {}}, "description": "The message exactly as stored"}},
            summary="The raw message (message/rfc822), as stored")
async def get_raw(request: Request, principal: Account, folder_id: FolderId, uid: Uid) -> Response:
    services = readers(request)
    folder = await services.reading.folder_by_id(principal.account.id, folder_id)
    found = await services.reading.raw(principal.account.id, folder.name, uid)
    return Response(found.data, media_type="message/rfc822", headers={
        "Content-Disposition": content_disposition("attachment", found.filename),
        "Content-Security-Policy": DOWNLOAD_CSP, "X-Content-Type-Options": "nosniff"})


@router.get("/messages/{folder_id}/{uid}/parts/{path}", responses={**errors(404), **_BYTES},
            summary="One part's decoded bytes (HTML and SVG only as application/octet-stream)")
async def get_part(request: Request, principal: Account, folder_id: FolderId, uid: Uid,
                   path: Annotated[str, Path(max_length=200, description="IMAP part path, e.g. 2 or 1.2")],
                   ) -> Response:
    if parse_path(path) is None:
        raise NotFound("no such part")
    services = readers(request)
    folder = await services.reading.folder_by_id(principal.account.id, folder_id)
    part = await services.reading.part(principal.account.id, folder.name, uid, path)
    policy = part_policy(part.content_type, part.charset)
    return Response(part.data, media_type=policy.content_type, headers={
        "Content-Disposition": content_disposition("attachment", part.filename),
        "Content-Security-Policy": DOWNLOAD_CSP, "X-Content-Type-Options": "nosniff"})


@router.post("/messages/{folder_id}/{uid}/receipt", response_model=ReceiptResultOut, responses=errors(400, 404, 409),
             summary="Send the read receipt the message asks for (RFC 8098), or decline it; once per message")
async def answer_receipt(request: Request, principal: Account, folder_id: FolderId, uid: Uid,
                         body: ReceiptRequest) -> ReceiptResultOut:
    services = readers(request)
    folder = await services.reading.folder_by_id(principal.account.id, folder_id)
    if body.decision == "send":
        result = await services.receipts.send(principal.account, folder, uid)
    else:
        result = await services.receipts.ignore(principal.account, folder, uid)
    return ReceiptResultOut(sent_to=list(result.sent_to))
