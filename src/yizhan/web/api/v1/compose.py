"""Sending, drafts and uploads in API v1: `POST /send`, `POST /drafts`, `PUT /drafts/{uid}`, `DELETE /drafts/{uid}`,
`POST /uploads` (multipart), `DELETE /uploads/{id}`.

The same path as the compose page (web/ui/compose_build.py): the sender must be one of the caller's identities,
recipients are checked field by field (a bad one is 400 naming the address, with `fields`), the HTML is sanitised
on the server, attachments and inline images come from the caller's uploads or as base64 (bounded), and the
message is sent by ComposeService (201 only once it is durable on its way; the copy is in Sent). `in_reply_to` and
`references` are the caller's own header values (checked for form, never used to reach another message).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from yizhan.mail.compose import Attachment, ComposeRequest
from yizhan.services.uploads import checked_content_type
from yizhan.util.errors import InvalidInput, NotFound, YizhanError
from yizhan.web.api.v1.models import ErrorBody
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.ui.compose_build import InlineSpec, Parts, build_request
from yizhan.web.ui.compose_errors import field_failure
from yizhan.web.ui.compose_uploads import receive_upload, upload_service

router = APIRouter(tags=["compose"])
MAX_BASE64 = 48 * 1024 * 1024
Addresses = Annotated[list[Annotated[str, Field(max_length=20_000)]], Field(max_length=500)]
_FAILURES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "Something to fix, named in `message` (and `fields`)"},
    404: {"model": ErrorBody, "description": "No such upload, draft or local mailbox"},
    507: {"model": ErrorBody, "description": "A local recipient's mailbox, or the upload space, is full"},
}


class FileIn(BaseModel):
    """A file: an upload of the caller (`upload_id`), or the bytes in base64 with a name and a type."""

    model_config = ConfigDict(extra="forbid")

    upload_id: str | None = Field(None, max_length=64)
    filename: str = Field("", max_length=255)
    content_type: str = Field("application/octet-stream", max_length=128)
    content_base64: str | None = Field(None, max_length=MAX_BASE64)

    @model_validator(mode="after")
    def one_source(self) -> FileIn:
        if (self.upload_id is None) == (self.content_base64 is None):
            raise ValueError("give either upload_id or content_base64")
        return self

    def data(self) -> bytes:
        try:
            return base64.b64decode(self.content_base64 or "", validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"the content of “{self.filename[:100]}” is not valid base64") from None


class InlineImageIn(FileIn):
    cid: str = Field(min_length=1, max_length=250, description="The HTML shows it as <img src=\"cid:CID\">")


class MessageIn(BaseModel):
    """A message to send or to save as a draft."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_address: str = Field(alias="from", max_length=320, examples=["alice@example.com"],
                              description="One of the caller's identities (its address or an alias of it)")
    from_name: str | None = Field(None, max_length=200, description="Defaults to the account's display name")
    to: Addresses = Field(default_factory=list, description="Addresses; each item may hold several, split by , or ;")
    cc: Addresses = Field(default_factory=list)
    bcc: Addresses = Field(default_factory=list)
    subject: str = Field("", max_length=998)
    html: str = Field("", max_length=2 * 1024 * 1024, description="Sanitised on the server; a text part is made")
    text: str = Field("", max_length=2 * 1024 * 1024)
    attachments: list[FileIn] = Field(default_factory=list, max_length=100)
    inline_images: list[InlineImageIn] = Field(default_factory=list, max_length=100)
    in_reply_to: str = Field("", max_length=250, examples=["<id@example.com>"])
    references: list[Annotated[str, Field(max_length=250)]] = Field(default_factory=list, max_length=100)
    receipt: bool = Field(False, description="Ask for a read receipt (Disposition-Notification-To, RFC 8098)")
    priority: int = Field(3, ge=1, le=5, description="1 highest … 5 lowest; 3 is normal")


class SendIn(MessageIn):
    draft_uid: int | None = Field(None, ge=1, description="A draft in Drafts that this message replaces")


class SendOut(BaseModel):
    message_id: str
    recipients: list[str]
    sent_uid: int | None = Field(description="UID of the copy in Sent (null when Sent could not take it)")
    sent_folder: str


class DraftOut(BaseModel):
    uid: int = Field(description="UID of the draft in its folder")
    folder: str
    message_id: str


class UploadOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    expires_at: int = Field(description="Epoch seconds after which the upload is gone")


async def _request(request: Request, principal: Principal, body: MessageIn, *,
                   strict: bool) -> tuple[ComposeRequest, Parts]:
    services = web_state(request).services
    account = principal.account
    files = [Attachment(f.filename or "attachment", checked_content_type(f.content_type), f.data())
             for f in body.attachments if f.content_base64 is not None]
    parts = Parts(attachment_ids=[f.upload_id for f in body.attachments if f.upload_id],
                  attachments=files,
                  inline=[InlineSpec(i.cid, i.upload_id or "", i.data() if i.content_base64 is not None else b"",
                                     i.content_type, i.filename) for i in body.inline_images])
    built = await build_request(
        account, await services.compose.identities(account), await upload_service(request),
        from_address=body.from_address, from_name=body.from_name if body.from_name is not None
        else account.display_name, to=body.to, cc=body.cc, bcc=body.bcc, subject=body.subject, html=body.html,
        text=body.text, parts=parts, in_reply_to=body.in_reply_to, references=body.references,
        read_receipt=body.receipt, priority=body.priority, strict=strict)
    return built, parts


@router.post("/send", status_code=201, response_model=SendOut, responses=_FAILURES,
             summary="Send a message (HTML and/or text, attachments, inline images)")
async def send(request: Request, body: SendIn, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    services = web_state(request).services
    try:
        built, parts = await _request(request, principal, body, strict=True)
        result = await services.compose.send(principal.account, built, draft_uid=body.draft_uid)
    except YizhanError as exc:
        return field_failure(request, exc)
    await (await upload_service(request)).discard(principal.account.id, parts.used_uploads)
    out = SendOut(message_id=result.message_id, recipients=list(result.recipients), sent_uid=result.sent_uid,
                  sent_folder=result.sent_folder)
    return JSONResponse(out.model_dump(), status_code=201)


async def _save(request: Request, principal: Principal, body: MessageIn, replace_uid: int | None) -> Response:
    services = web_state(request).services
    try:
        built, _ = await _request(request, principal, body, strict=False)
        saved = await services.compose.save_draft(principal.account, built, replace_uid=replace_uid)
    except YizhanError as exc:
        return field_failure(request, exc)
    out = DraftOut(uid=saved.uid, folder=saved.folder, message_id=saved.message_id)
    return JSONResponse(out.model_dump(), status_code=201 if replace_uid is None else 200)


@router.post("/drafts", status_code=201, response_model=DraftOut, responses=_FAILURES,
             summary="Save a new draft in Drafts")
async def create_draft(request: Request, body: MessageIn,
                       principal: Annotated[Principal, Depends(require_account)]) -> Response:
    return await _save(request, principal, body, None)


# IMAP UIDs are 32-bit (RFC 3501 section 2.3.1.1): a larger number names no draft, and must not reach the database.
DraftUid = Annotated[int, Path(ge=1, le=2**32 - 1, description="UID of the draft in Drafts")]


@router.put("/drafts/{uid}", response_model=DraftOut, responses=_FAILURES,
            summary="Replace a draft by a new version (the answer names the new UID)")
async def replace_draft(request: Request, uid: DraftUid, body: MessageIn,
                        principal: Annotated[Principal, Depends(require_account)]) -> Response:
    if uid <= 0:
        raise InvalidInput("invalid draft id")
    drafts = next((f for f in await web_state(request).services.mailbox.folders(principal.account.id)
                   if f.special_use == "drafts"), None)
    found = await web_state(request).services.mailbox.fetch_data(drafts, [uid]) if drafts is not None else []
    if not found or "\\Draft" not in found[0].flags:
        return field_failure(request, NotFound("no such draft"))
    return await _save(request, principal, body, uid)


@router.delete("/drafts/{uid}", status_code=204, responses=_FAILURES, summary="Delete a draft")
async def delete_draft(request: Request, uid: DraftUid, principal: Annotated[Principal, Depends(require_account)]
                       ) -> Response:
    await web_state(request).services.compose.delete_draft(principal.account, uid)
    return Response(status_code=204)


@router.post("/uploads", status_code=201, response_model=UploadOut, responses=_FAILURES,
             summary="Upload a file (multipart/form-data, field `file`) to attach or show inline; kept 24 hours")
async def create_upload(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    try:
        upload, _ = await receive_upload(request, principal)
    except YizhanError as exc:
        return field_failure(request, exc)
    out = UploadOut(id=upload.id, filename=upload.filename, content_type=upload.content_type, size=upload.size,
                    expires_at=upload.expires_at)
    return JSONResponse(out.model_dump(), status_code=201)


@router.delete("/uploads/{upload_id}", status_code=204, responses=_FAILURES, summary="Remove an upload")
async def delete_upload(request: Request, upload_id: str,
                        principal: Annotated[Principal, Depends(require_account)]) -> Response:
    await (await upload_service(request)).delete(principal.account.id, upload_id)
    return Response(status_code=204)
