"""Sending and saving drafts from the compose page: `POST /compose/send` and `POST /compose/draft` (JSON bodies
from static/js/compose.js, with the X-CSRF-Token header), plus `DELETE /compose/draft/{uid}`.

Invariants:
- Threading headers (In-Reply-To, References) and the message to flag \\Answered or $Forwarded come from the
  store, read again by (account, folder id, UID) from the form's `source` (see compose_prefill.py), never from
  the browser; a source that is gone only loses the threading.
- A failure the user must fix is 4xx with `{"error": {"code", "message", "fields": [{"field", "problem"}]}}`, so
  the page shows it next to the field (to, cc, bcc, from, subject, attachments, body).
- `send` answers 201 only after ComposeService.send returned (the message is durable on its way and filed in
  Sent); its uploads are then removed. A draft save answers with the new draft's UID, which replaces the previous
  version (ComposeService.save_draft).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from yizhan.mail.compose import ComposeRequest
from yizhan.services.compose import MessageRef
from yizhan.services.runtime import Services
from yizhan.store.records import AccountRecord
from yizhan.util.clock import now_seconds
from yizhan.util.errors import InvalidInput, NotFound, PermissionDenied, QuotaExceeded, YizhanError
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.errors import error_response, status_of
from yizhan.web.i18n import current
from yizhan.web.signin import safe_next
from yizhan.web.ui.compose_build import FieldError, Parts, build_request
from yizhan.web.ui.compose_prefill import folder_by_id, parse_ref
from yizhan.web.ui.compose_uploads import upload_service

log = logging.getLogger(__name__)
router = APIRouter()
MAX_REFERENCES = 30
Addresses = Annotated[list[Annotated[str, Field(max_length=20_000)]], Field(max_length=500)]


class ComposeForm(BaseModel):
    """What the compose page sends (to, cc and bcc as the user typed them)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_address: str = Field(alias="from", max_length=320)
    to: Addresses = Field(default_factory=list)
    cc: Addresses = Field(default_factory=list)
    bcc: Addresses = Field(default_factory=list)
    subject: str = Field("", max_length=998)
    html: str = Field("", max_length=2 * 1024 * 1024)
    text: str = Field("", max_length=2 * 1024 * 1024)
    attachments: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=100)
    priority: int = Field(3, ge=1, le=5)
    receipt: bool = False
    source: str = Field("", max_length=64)
    draft_uid: int | None = Field(None, ge=1)
    back: str = Field("", max_length=2000)


class Thread(BaseModel):
    in_reply_to: str = ""
    references: list[str] = Field(default_factory=list)
    answered: tuple[str, int] | None = None
    forwarded: tuple[str, int] | None = None


def _refs(message_id: str, references: Sequence[str]) -> list[str]:
    refs = list(dict.fromkeys([*references, *([message_id] if message_id else [])]))
    return [refs[0], *refs[-(MAX_REFERENCES - 1):]] if len(refs) > MAX_REFERENCES else refs


async def thread_of(services: Services, account: AccountRecord, source: str, draft_uid: int | None) -> Thread:
    """Threading headers and the message to flag, read again from the store (see the module docstring)."""
    kind, _, ref = source.partition(":")
    try:
        if kind in ("reply", "forward"):
            folder_id, uid = parse_ref(ref)
            folder = await folder_by_id(services, account.id, folder_id)
            view = (await services.reading.open(account.id, folder.name, uid)).view
            if kind == "reply":
                return Thread(in_reply_to=view.message_id, references=_refs(view.message_id, view.references),
                              answered=(folder.name, uid))
            return Thread(references=_refs(view.message_id, view.references), forwarded=(folder.name, uid))
        if kind == "draft" and draft_uid is not None:
            drafts = next((f for f in await services.mailbox.folders(account.id) if f.special_use == "drafts"), None)
            if drafts is not None:
                view = (await services.reading.open(account.id, drafts.name, draft_uid)).view
                return Thread(in_reply_to=view.in_reply_to[0] if view.in_reply_to else "",
                              references=list(view.references[:MAX_REFERENCES]))
    except (NotFound, InvalidInput) as exc:
        log.info("compose: source %r of account %s not usable: %s", source[:64], account.id, exc)
    return Thread()


async def request_of(request: Request, account: AccountRecord, form: ComposeForm, *,
                     strict: bool) -> tuple[ComposeRequest, Parts, Thread]:
    services = web_state(request).services
    identities = await services.compose.identities(account)
    thread = await thread_of(services, account, form.source, form.draft_uid)
    parts = Parts(attachment_ids=form.attachments)
    built = await build_request(
        account, identities, await upload_service(request), from_address=form.from_address,
        from_name=account.display_name, to=form.to, cc=form.cc, bcc=form.bcc, subject=form.subject,
        html=form.html, text=form.text, parts=parts, in_reply_to=thread.in_reply_to,
        references=thread.references, read_receipt=form.receipt, priority=form.priority, strict=strict)
    return built, parts, thread


def field_failure(request: Request, exc: YizhanError) -> Response:
    """The error body, with `fields` when the failure is about one field."""
    status, code = status_of(exc)
    message = str(exc)
    name = getattr(exc, "field", None)
    if name is None and isinstance(exc, NotFound) and "upload" in message:
        name = "attachments"
    if name is None and isinstance(exc, NotFound | QuotaExceeded) and "<" in message:
        name = "to"
    if name is None and isinstance(exc, PermissionDenied):
        name = "from"
    fields = [{"field": name, "problem": message}] if name else None
    return error_response(request, status, code, message, fields=fields)


@router.post("/compose/send")
async def send(request: Request, form: ComposeForm, principal: Annotated[Principal, Depends(require_account)]
               ) -> Response:
    services = web_state(request).services
    account = principal.account
    try:
        built, parts, thread = await request_of(request, account, form, strict=True)
        result = await services.compose.send(
            account, built, draft_uid=form.draft_uid,
            answered=MessageRef(*thread.answered) if thread.answered else None,
            forwarded=MessageRef(*thread.forwarded) if thread.forwarded else None)
    except YizhanError as exc:
        return field_failure(request, exc)
    await (await upload_service(request)).discard(account.id, parts.used_uploads)
    back = safe_next(form.back or "/mail")
    target = back + ("&" if "?" in back else "?") + "notice=sent"
    return JSONResponse({"message_id": result.message_id, "sent_uid": result.sent_uid,
                         "sent_folder": result.sent_folder, "recipients": list(result.recipients),
                         "redirect": target}, status_code=201)


@router.post("/compose/draft")
async def save_draft(request: Request, form: ComposeForm, principal: Annotated[Principal, Depends(require_account)]
                     ) -> Response:
    services = web_state(request).services
    try:
        built, _, _ = await request_of(request, principal.account, form, strict=False)
        saved = await services.compose.save_draft(principal.account, built, replace_uid=form.draft_uid)
    except YizhanError as exc:
        return field_failure(request, exc)
    i18n = current()
    return JSONResponse({"draft_uid": saved.uid, "folder": saved.folder, "saved_at": now_seconds(),
                         "saved_at_text": i18n.datetime(now_seconds(), "HH:mm")}, status_code=201)


@router.delete("/compose/draft/{uid}")
async def delete_draft(request: Request, uid: int, principal: Annotated[Principal, Depends(require_account)]
                       ) -> Response:
    await web_state(request).services.compose.delete_draft(principal.account, uid)
    return Response(status_code=204)


__all__ = ["ComposeForm", "FieldError", "field_failure", "router", "thread_of"]
