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
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from yizhan.mail.compose import ComposeRequest
from yizhan.services.compose import MessageRef
from yizhan.services.runtime import Services
from yizhan.store.records import AccountRecord
from yizhan.util.clock import now_seconds
from yizhan.util.errors import InvalidInput, NotFound, YizhanError
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.i18n import current
from yizhan.web.signin import safe_next
from yizhan.web.ui.compose_build import FieldError, Parts, build_request
from yizhan.web.ui.compose_errors import field_failure, json_error
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


async def read_form(request: Request) -> ComposeForm | Response:
    """The JSON body as a ComposeForm, or the 400/422 answer saying what is wrong with it."""
    i18n = current()
    try:
        data = await request.json()
    except ValueError:
        return json_error(400, "invalid_request", i18n.gettext("The request body must be JSON."))
    try:
        return ComposeForm.model_validate(data)
    except ValidationError as exc:
        fields = [{"field": ".".join(str(p) for p in item.get("loc", ())), "problem": str(item.get("msg", ""))[:200]}
                  for item in exc.errors()[:20]]
        summary = "; ".join(f"{f['field']}: {f['problem']}" for f in fields)
        return json_error(422, "invalid_request", i18n.gettext("The request is not valid: %(details)s")
                          % {"details": summary}, fields)


@router.post("/compose/send")
async def send(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    form = await read_form(request)
    if isinstance(form, Response):
        return form
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
async def save_draft(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    form = await read_form(request)
    if isinstance(form, Response):
        return form
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
    try:
        await web_state(request).services.compose.delete_draft(principal.account, uid)
    except YizhanError as exc:
        return field_failure(request, exc)
    return Response(status_code=204)


__all__ = ["ComposeForm", "FieldError", "field_failure", "router", "thread_of"]
