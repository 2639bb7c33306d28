"""Contact groups and the organisation's directory, in the address book pages.

Routes: `POST /contacts/groups` (create), `POST /contacts/groups/{id}/rename`, `POST /contacts/groups/{id}/delete`
(the contacts stay; only the group goes), and `GET /contacts/directory?q=` (every enabled account of the signed-in
account's own domain, services/contacts.py `directory`). An htmx request to create a group gets the sidebar back
(with the service's message when the name was refused, 400); a plain form goes back (303) to the list.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from yizhan.util.errors import AlreadyExists, InvalidInput, QuotaExceeded
from yizhan.web.deps import Principal, require_account
from yizhan.web.render import render
from yizhan.web.ui.contacts_form import checked_id, contacts_of, error_text, is_htmx, sidebar

router = APIRouter()
MAX_NAME = 1000


@router.post("/contacts/groups")
async def create_group(request: Request, principal: Annotated[Principal, Depends(require_account)],
                       name: Annotated[str, Form(max_length=MAX_NAME)] = "") -> Response:
    try:
        group = await contacts_of(request).create_group(principal.account.id, name)
    except (InvalidInput, AlreadyExists, QuotaExceeded) as exc:
        if not is_htmx(request):
            raise
        side = await sidebar(request, principal, None, error_text(request, exc))
        return render(request, "contacts/_groups.html", side, status=400)
    if is_htmx(request):
        return render(request, "contacts/_groups.html", await sidebar(request, principal, None))
    return RedirectResponse(f"/contacts?group={group.id}", status_code=303)


@router.post("/contacts/groups/{group_id:int}/rename")
async def rename_group(request: Request, principal: Annotated[Principal, Depends(require_account)], group_id: int,
                       name: Annotated[str, Form(max_length=MAX_NAME)] = "") -> Response:
    await contacts_of(request).rename_group(principal.account.id, checked_id(group_id), name)
    return RedirectResponse(f"/contacts?group={group_id}", status_code=303)


@router.post("/contacts/groups/{group_id:int}/delete")
async def delete_group(request: Request, principal: Annotated[Principal, Depends(require_account)],
                       group_id: int) -> Response:
    await contacts_of(request).delete_group(principal.account.id, checked_id(group_id))
    return RedirectResponse("/contacts", status_code=303)


@router.get("/contacts/directory")
async def directory(request: Request, principal: Annotated[Principal, Depends(require_account)],
                    q: Annotated[str, Query(max_length=1000)] = "") -> Response:
    q = q.strip()[:100]
    people = await contacts_of(request).directory(principal.account, q)
    if is_htmx(request) and request.headers.get("hx-target") == "directory-list":
        return render(request, "contacts/_directory_list.html", {"people": people, "q": q})
    side = await sidebar(request, principal)
    return render(request, "contacts/directory.html", {**side, "people": people, "q": q, "tab": "directory"})
