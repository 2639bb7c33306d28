"""The webmail pages: `/mail` (the Inbox), `/mail/f/{folder_id}` (a folder, sorted, filtered, as a list or by
conversation) and `/mail/search?q=` (search results in the same list), in three panes — folders | list | reading
pane (web/ui/read.py fills `#reading-pane`) — that collapse to one on a phone.

Fragments for htmx: `/mail/rows` (rows of a page, with the row that loads the next one when revealed),
`/mail/folders` (the folder list with counts), `/mail/conversation/{folder_id}/{uid}`. Writes: `/mail/actions`
(many messages at once; answers 204 with an `HX-Trigger: mail-changed` header so the list and the folders reload),
and the folder forms (create, rename, delete, empty) which go back to a page (303).

Invariants: every folder and message is looked up within the signed-in account (WebmailService), so another
account's ids are 404 like missing ones; every write needs the session's CSRF token (web/deps.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from yizhan.services.webmail import ListOptions, MessageRef, WebmailService
from yizhan.store.records import FolderRecord
from yizhan.util.errors import InvalidInput
from yizhan.web.deps import Principal, require_account, translator, web_state
from yizhan.web.folders import folder_views, special_use
from yizhan.web.i18n import Translator
from yizhan.web.render import render
from yizhan.web.ui.mail_view import Row, row_of

router = APIRouter()
PAGE = 50
_OUTGOING = ("sent", "drafts")

Sort = Literal["date", "sender", "size"]
Order = Literal["desc", "asc"]
FilterName = Literal["all", "unread", "flagged"]
View = Literal["list", "threads"]


@dataclass(frozen=True)
class ListState:
    """What a list shows: a folder's page (sorted, filtered, as messages or conversations) or a search."""

    folder_id: int | None
    sort: Sort = "date"
    order: Order = "desc"
    filter: FilterName = "all"
    view: View = "list"
    q: str = ""

    def query(self, **extra: str | int) -> str:
        values: dict[str, str | int] = {"sort": self.sort, "order": self.order, "filter": self.filter,
                                        "view": self.view}
        if self.folder_id is not None:
            values["folder"] = self.folder_id
        if self.q:
            values = {"q": self.q, **({"folder": self.folder_id} if self.folder_id is not None else {})}
        values.update(extra)
        return urlencode(values)

    def link(self, **changes: str) -> str:
        changed = replace(self, **changes)  # type: ignore[arg-type]
        base = f"/mail/f/{changed.folder_id}"
        return base + "?" + urlencode({"sort": changed.sort, "order": changed.order, "filter": changed.filter,
                                       "view": changed.view})


def _webmail(request: Request) -> WebmailService:
    return WebmailService.of(web_state(request).services)


async def _rows(request: Request, account_id: int, state: ListState, cursor: str | None = None,
                offset: int = 0) -> tuple[list[Row], str | None]:
    """A page of rows and the URL of the next page (None on the last)."""
    webmail = _webmail(request)
    i18n: Translator = request.state.i18n
    if state.q:
        found = await webmail.search(account_id, state.q, state.folder_id, PAGE, offset)
        rows = [row_of(item, i18n) for item in found.items]
        more = f"/mail/rows?{state.query(offset=offset + PAGE)}" if found.has_more else None
        return rows, more
    assert state.folder_id is not None
    if state.view == "threads":
        threads = await webmail.threads(account_id, state.folder_id, PAGE, offset, cursor)
        outgoing = special_use(threads.folder) in _OUTGOING
        rows = [row_of(t.latest, i18n, outgoing, t.count) for t in threads.threads]
        return rows, f"/mail/rows?{state.query(cursor=threads.next_cursor)}" if threads.next_cursor else None
    page = await webmail.page(account_id, state.folder_id, ListOptions(
        sort=state.sort, descending=state.order == "desc", filter=state.filter, limit=PAGE, cursor=cursor,
        offset=offset))
    outgoing = special_use(page.folder) in _OUTGOING
    rows = [row_of(item, i18n, outgoing) for item in page.items]
    return rows, f"/mail/rows?{state.query(cursor=page.next_cursor)}" if page.next_cursor else None


async def _page(request: Request, principal: Principal, state: ListState) -> Response:
    webmail = _webmail(request)
    account_id = principal.account.id
    folders = await webmail.folders(account_id)
    current: FolderRecord | None = None
    if state.folder_id is not None:
        current = await webmail.folder(account_id, state.folder_id)
    rows, more = await _rows(request, account_id, state)
    totals = await webmail.totals(current) if current is not None and not state.q else None
    return render(request, "mail/index.html", {
        "folders": folder_views(folders), "current": current, "current_use": special_use(current) if current else None,
        "state": state, "rows": rows, "more": more, "totals": totals,
        "movable": [view for view in folder_views(folders) if current is None or view.record.id != current.id],
    })


@router.get("/mail")
async def inbox(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    webmail = _webmail(request)
    inbox_folder = await webmail.special(principal.account.id, "inbox", "INBOX")
    return await _page(request, principal, ListState(inbox_folder.id))


@router.get("/mail/f/{folder_id}")
async def folder_page(request: Request, principal: Annotated[Principal, Depends(require_account)], folder_id: int,
                      sort: Sort = "date", order: Order = "desc", filter: FilterName = "all",
                      view: View = "list") -> Response:
    return await _page(request, principal, ListState(folder_id, sort, order, filter, view))


@router.get("/mail/search")
async def search_page(request: Request, principal: Annotated[Principal, Depends(require_account)],
                      q: Annotated[str, Query(max_length=500)] = "",
                      folder: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> Response:
    if not q.strip():
        return RedirectResponse("/mail" if folder is None else f"/mail/f/{folder}", status_code=303)
    return await _page(request, principal, ListState(folder, q=q.strip()))


@router.get("/mail/rows")
async def rows_fragment(request: Request, principal: Annotated[Principal, Depends(require_account)],
                        folder: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                        q: Annotated[str, Query(max_length=500)] = "",
                        sort: Sort = "date", order: Order = "desc", filter: FilterName = "all", view: View = "list",
                        cursor: Annotated[str | None, Query(max_length=1200)] = None,
                        offset: Annotated[int, Query(ge=0, le=10_000)] = 0) -> Response:
    if folder is None and not q.strip():
        raise InvalidInput("name a folder or a search")
    state = ListState(folder, sort, order, filter, view, q.strip())
    rows, more = await _rows(request, principal.account.id, state, cursor, offset)
    return render(request, "mail/_rows.html", {"rows": rows, "more": more, "state": state})


@router.get("/mail/folders")
async def folders_fragment(request: Request, principal: Annotated[Principal, Depends(require_account)],
                           current: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> Response:
    folders = await _webmail(request).folders(principal.account.id)
    return render(request, "mail/_folders.html", {"folders": folder_views(folders), "current_id": current})


@router.get("/mail/conversation/{folder_id}/{uid}")
async def conversation_fragment(request: Request, principal: Annotated[Principal, Depends(require_account)],
                                folder_id: int, uid: int) -> Response:
    items = await _webmail(request).conversation(principal.account.id, MessageRef(folder_id, uid))
    i18n: Translator = request.state.i18n
    return render(request, "mail/_conversation.html", {"rows": [row_of(item, i18n) for item in items],
                                                       "selected": f"{folder_id}:{uid}"})


@router.post("/mail/actions")
async def actions(request: Request, principal: Annotated[Principal, Depends(require_account)],
                  i18n: Annotated[Translator, Depends(translator)],
                  action: Annotated[str, Form(max_length=20)],
                  ids: Annotated[list[str] | None, Form(max_length=5000)] = None,
                  target: Annotated[str, Form(max_length=30)] = "") -> Response:
    if not ids:
        raise InvalidInput(i18n.gettext("Select one or more messages first."))
    refs = [MessageRef.parse(text) for text in ids]
    target_id = int(target) if target.isdigit() else None
    if action == "move" and target_id is None:
        raise InvalidInput(i18n.gettext("Choose the folder to move the messages to."))
    result = await _webmail(request).act(principal.account.id, refs, action, target_id)  # type: ignore[arg-type]
    message = i18n.ngettext("%(count)d message changed.", "%(count)d messages changed.", result.changed) % {
        "count": result.changed}
    trigger = {"mail-changed": {"action": result.action, "changed": result.changed, "message": message,
                                "moved": {str(old): str(new) for old, new in result.moved.items()}}}
    return Response(status_code=204, headers={"HX-Trigger": json.dumps(trigger, ensure_ascii=True)})


@router.post("/mail/folders")
async def create_folder(request: Request, principal: Annotated[Principal, Depends(require_account)],
                        name: Annotated[str, Form(max_length=1000)]) -> Response:
    folder = await _webmail(request).create_folder(principal.account.id, name)
    return RedirectResponse(f"/mail/f/{folder.id}", status_code=303)


@router.post("/mail/folders/{folder_id}/rename")
async def rename_folder(request: Request, principal: Annotated[Principal, Depends(require_account)], folder_id: int,
                        name: Annotated[str, Form(max_length=1000)]) -> Response:
    await _webmail(request).rename_folder(principal.account.id, folder_id, name)
    return RedirectResponse(f"/mail/f/{folder_id}", status_code=303)


@router.post("/mail/folders/{folder_id}/delete")
async def delete_folder(request: Request, principal: Annotated[Principal, Depends(require_account)],
                        folder_id: int) -> Response:
    await _webmail(request).delete_folder(principal.account.id, folder_id)
    return RedirectResponse("/mail", status_code=303)


@router.post("/mail/folders/{folder_id}/empty")
async def empty_folder(request: Request, principal: Annotated[Principal, Depends(require_account)],
                       folder_id: int) -> Response:
    await _webmail(request).empty(principal.account.id, folder_id)
    return RedirectResponse(f"/mail/f/{folder_id}", status_code=303)
