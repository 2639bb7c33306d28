"""The signatures page of the settings: several signatures, plain or rich text, one of them the default.

Routes: `GET /settings/signatures` (the list and a form for a new one), `GET /settings/signatures/{id}` (edit),
`POST /settings/signatures` (add), `POST /settings/signatures/{id}` (save), `POST /settings/signatures/{id}/default`
and `POST /settings/signatures/{id}/delete` (the service promotes another to default when the default goes).
Another account's signature id is 404.

Invariant (HTML safety): a rich signature is sanitised with mail/sanitize.py before it is stored and again when it
is shown (web/ui/notes.py `safe_html`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from yizhan.services.settings import SettingsService
from yizhan.store.settings import Signature
from yizhan.util.errors import InvalidInput, NotFound, QuotaExceeded
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.render import render
from yizhan.web.ui.contacts_form import checked_id, error_text
from yizhan.web.ui.notes import safe_html

router = APIRouter()
MAX_FIELD = 256 * 1024


def _service(request: Request) -> SettingsService:
    return web_state(request).services.account_settings


def shown(signature: Signature) -> str:
    """A signature's body as the page may show it (HTML sanitised; plain text is escaped by the template)."""
    return safe_html(signature.body) if signature.format == "html" else signature.body


async def _page(request: Request, principal: Principal, editing: Signature | None = None, error: str = "",
                status: int = 200, draft: dict[str, object] | None = None) -> Response:
    signatures = await _service(request).signatures(principal.account.id)
    if draft is None:
        draft = ({"name": editing.name, "format": editing.format, "body": shown(editing),
                  "is_default": editing.is_default} if editing is not None
                 else {"name": "", "format": "html", "body": "", "is_default": not signatures})
    return render(request, "settings/signatures.html", {"signatures": signatures, "shown": shown,
                                                        "editing": editing, "draft": draft, "error": error,
                                                        "tab": "signatures"}, status=status)


async def _signature(request: Request, principal: Principal, signature_id: int) -> Signature:
    checked_id(signature_id)
    for signature in await _service(request).signatures(principal.account.id):
        if signature.id == signature_id:
            return signature
    raise NotFound(f"no signature {signature_id}")


@router.get("/settings/signatures")
async def signatures(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    return await _page(request, principal)


@router.get("/settings/signatures/{signature_id:int}")
async def edit_signature(request: Request, principal: Annotated[Principal, Depends(require_account)],
                         signature_id: int) -> Response:
    return await _page(request, principal, await _signature(request, principal, signature_id))


Name = Annotated[str, Form(max_length=1000)]
Body = Annotated[str, Form(max_length=MAX_FIELD)]
Format = Annotated[Literal["plain", "html"], Form()]
Flag = Annotated[bool, Form()]


@router.post("/settings/signatures")
async def add_signature(request: Request, principal: Annotated[Principal, Depends(require_account)],
                        name: Name = "", body: Body = "", format: Format = "html",
                        is_default: Flag = False) -> Response:
    clean = safe_html(body) if format == "html" else body
    try:
        await _service(request).add_signature(principal.account.id, name, clean, format, is_default)
    except (InvalidInput, QuotaExceeded) as exc:
        return await _page(request, principal, None, error_text(request, exc), 400,
                           {"name": name, "format": format, "body": clean, "is_default": is_default})
    return RedirectResponse("/settings/signatures?saved=1", status_code=303)


@router.post("/settings/signatures/{signature_id:int}")
async def save_signature(request: Request, principal: Annotated[Principal, Depends(require_account)],
                         signature_id: int, name: Name = "", body: Body = "", format: Format = "html",
                         is_default: Flag = False) -> Response:
    signature = await _signature(request, principal, signature_id)
    clean = safe_html(body) if format == "html" else body
    try:
        # A default is never just cleared (services/settings.py): another one is made default instead.
        await _service(request).update_signature(principal.account.id, signature.id, name=name, body=clean,
                                                 format=format, is_default=True if is_default else None)
    except InvalidInput as exc:
        return await _page(request, principal, signature, error_text(request, exc), 400,
                           {"name": name, "format": format, "body": clean, "is_default": is_default})
    return RedirectResponse("/settings/signatures?saved=1", status_code=303)


@router.post("/settings/signatures/{signature_id:int}/default")
async def make_default(request: Request, principal: Annotated[Principal, Depends(require_account)],
                       signature_id: int) -> Response:
    signature = await _signature(request, principal, signature_id)
    await _service(request).update_signature(principal.account.id, signature.id, is_default=True)
    return RedirectResponse("/settings/signatures?saved=1", status_code=303)


@router.post("/settings/signatures/{signature_id:int}/delete")
async def delete_signature(request: Request, principal: Annotated[Principal, Depends(require_account)],
                           signature_id: int) -> Response:
    signature = await _signature(request, principal, signature_id)
    await _service(request).delete_signature(principal.account.id, signature.id)
    return RedirectResponse("/settings/signatures?deleted=1", status_code=303)
