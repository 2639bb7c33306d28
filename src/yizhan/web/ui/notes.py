"""The notes pages (记事本): the account's notes, plain or rich text, with search, pins and autosave.

Routes (the signed-in account's notes only; another account's note id is 404 like a missing one):
- `GET /notes?q=`: the list, pinned first, then the most recently changed (services/notes.py); an htmx request
  for `#notes-list` gets only the list. `GET /notes/new?format=plain|html` and `GET /notes/{id}`: the list with
  the editor beside it (on a phone, the editor alone).
- `POST /notes` creates, `POST /notes/{id}` saves (fields title, body, format, pinned). The editor's script saves
  by itself while one types (autosave, header `X-Autosave: 1`): the answer is then JSON
  `{"id", "url", "saved"}`; a plain form submission goes (303) to the note.
- `POST /notes/{id}/pin` (pinned=1|0) and `POST /notes/{id}/delete`.

Invariant (HTML safety): a rich note's HTML is sanitised with mail/sanitize.py before it is stored AND every time
it is shown, so neither a note written through another path (the API) nor an older sanitiser's output ever
reaches a browser unsanitised. The editor is a contenteditable element; what it holds came out of the sanitiser.
"""

from __future__ import annotations

import html
from typing import Annotated, Literal

import nh3
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from yizhan.mail.sanitize import sanitize_html
from yizhan.services.notes import NotesService
from yizhan.store.notes import Note
from yizhan.util.errors import InvalidInput
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.render import render
from yizhan.web.ui.contacts_form import checked_id, error_text, is_htmx

router = APIRouter()
PAGE = 200
MAX_BODY_FIELD = 1024 * 1024
_PREVIEW = 140


def notes_of(request: Request) -> NotesService:
    return web_state(request).services.notes


def safe_html(body: str) -> str:
    """A rich note's body as it may be shown: sanitised, with remote images not loaded."""
    return sanitize_html(body).html


def note_text(note: Note) -> str:
    """The plain text of a note (a rich note's tags removed)."""
    if note.format != "html":
        return note.body
    return html.unescape(nh3.clean(note.body.replace("<br>", "\n").replace("</p>", "</p>\n"), tags=set()))


def preview(note: Note) -> str:
    text = " ".join(note_text(note)[:4 * _PREVIEW].split())
    return text[:_PREVIEW] + ("…" if len(text) > _PREVIEW else "")


async def _page(request: Request, principal: Principal, q: str, editing: Note | None, new_format: str | None,
                error: str = "", status: int = 200, draft: dict[str, object] | None = None) -> Response:
    q = q.strip()[:100]
    notes = await notes_of(request).list_notes(principal.account.id, q, 0, PAGE)
    context: dict[str, object] = {"notes": notes, "q": q, "preview": preview, "editing": editing,
                                  "new_format": new_format, "error": error}
    if editing is not None:
        context["draft"] = {"title": editing.title, "format": editing.format, "pinned": editing.pinned,
                            "body": safe_html(editing.body) if editing.format == "html" else editing.body}
    elif new_format is not None:
        context["draft"] = {"title": "", "format": new_format, "pinned": False, "body": ""}
    if draft is not None:
        context["draft"] = draft
    return render(request, "notes/index.html", context, status=status)


@router.get("/notes")
async def note_list(request: Request, principal: Annotated[Principal, Depends(require_account)],
                    q: Annotated[str, Query(max_length=1000)] = "") -> Response:
    if is_htmx(request) and request.headers.get("hx-target") == "notes-list":
        notes = await notes_of(request).list_notes(principal.account.id, q.strip()[:100], 0, PAGE)
        return render(request, "notes/_list.html", {"notes": notes, "q": q.strip()[:100], "preview": preview,
                                                    "editing": None})
    return await _page(request, principal, q, None, None)


@router.get("/notes/new")
async def new_note(request: Request, principal: Annotated[Principal, Depends(require_account)],
                   format: Literal["plain", "html"] = "plain") -> Response:
    return await _page(request, principal, "", None, format)


@router.get("/notes/{note_id:int}")
async def show_note(request: Request, principal: Annotated[Principal, Depends(require_account)],
                    note_id: int) -> Response:
    note = await notes_of(request).get(principal.account.id, checked_id(note_id))
    return await _page(request, principal, "", note, None)


def _clean_body(body: str, format: str) -> str:
    return safe_html(body) if format == "html" else body


def _saved(request: Request, note: Note, created: bool) -> Response:
    if request.headers.get("x-autosave") == "1":
        i18n = request.state.i18n
        return JSONResponse({"id": note.id, "url": f"/notes/{note.id}", "created": created,
                             "saved": i18n.gettext("Saved at %(time)s") % {
                                 "time": i18n.datetime(note.updated_at, "short")}})
    return RedirectResponse(f"/notes/{note.id}?saved=1", status_code=303)


def _refused(request: Request, exc: InvalidInput) -> Response | None:
    if request.headers.get("x-autosave") == "1":
        return JSONResponse({"error": {"code": "invalid_input", "message": error_text(request, exc)}}, status_code=400)
    return None


FormText = Annotated[str, Form(max_length=MAX_BODY_FIELD)]


@router.post("/notes")
async def create_note(request: Request, principal: Annotated[Principal, Depends(require_account)],
                      title: Annotated[str, Form(max_length=1000)] = "", body: FormText = "",
                      format: Annotated[Literal["plain", "html"], Form()] = "plain",
                      pinned: Annotated[bool, Form()] = False) -> Response:
    try:
        note = await notes_of(request).create(principal.account.id, title, _clean_body(body, format), format,
                                              pinned)
    except InvalidInput as exc:
        refused = _refused(request, exc)
        if refused is not None:
            return refused
        return await _page(request, principal, "", None, format, error_text(request, exc), 400,
                           {"title": title, "format": format, "pinned": pinned, "body": _clean_body(body, format)})
    return _saved(request, note, True)


@router.post("/notes/{note_id:int}")
async def update_note(request: Request, principal: Annotated[Principal, Depends(require_account)], note_id: int,
                      title: Annotated[str, Form(max_length=1000)] = "", body: FormText = "",
                      format: Annotated[Literal["plain", "html"], Form()] = "plain",
                      pinned: Annotated[bool, Form()] = False) -> Response:
    service = notes_of(request)
    note = await service.get(principal.account.id, checked_id(note_id))
    try:
        note = await service.update(principal.account.id, note.id, title=title, body=_clean_body(body, format),
                                    format=format, pinned=pinned)
    except InvalidInput as exc:
        refused = _refused(request, exc)
        if refused is not None:
            return refused
        return await _page(request, principal, "", note, None, error_text(request, exc), 400,
                           {"title": title, "format": format, "pinned": pinned, "body": _clean_body(body, format)})
    return _saved(request, note, False)


@router.post("/notes/{note_id:int}/pin")
async def pin_note(request: Request, principal: Annotated[Principal, Depends(require_account)], note_id: int,
                   pinned: Annotated[bool, Form()] = True) -> Response:
    note = await notes_of(request).update(principal.account.id, checked_id(note_id), pinned=pinned)
    if is_htmx(request):
        notes = await notes_of(request).list_notes(principal.account.id, "", 0, PAGE)
        return render(request, "notes/_list.html", {"notes": notes, "q": "", "preview": preview, "editing": None})
    return RedirectResponse(f"/notes/{note.id}", status_code=303)


@router.post("/notes/{note_id:int}/delete")
async def delete_note(request: Request, principal: Annotated[Principal, Depends(require_account)],
                      note_id: int) -> Response:
    await notes_of(request).delete(principal.account.id, checked_id(note_id))
    return RedirectResponse("/notes?deleted=1", status_code=303)
