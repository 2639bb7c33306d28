"""The address book pages: the contact list with search and the groups sidebar, and one contact's form.

Routes (all for the signed-in account only; another account's contact or group is 404 like a missing one):
- `GET /contacts?q=&group=&offset=`: the list, by name; `q` searches names, their words, pinyin (full or initials:
  "zs" finds 张三) and addresses (services/contacts.py). An htmx request gets only the list (`_list.html`).
- `GET /contacts/new`, `POST /contacts`: a new contact; `GET /contacts/{id}`, `POST /contacts/{id}`: see and
  change one; `POST /contacts/{id}/delete`. A refused form is shown again with what was typed and the service's
  message saying what to fix (400).
Groups, the directory, import and export are in contacts_groups.py and contacts_io.py, whose routes `router`
includes (the routes with an id use the `int` converter, so /contacts/new, /contacts/import, … never match them).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from yizhan.store.contacts import Contact, ContactGroup
from yizhan.util.errors import InvalidInput, NotFound
from yizhan.web.deps import Principal, require_account
from yizhan.web.render import render
from yizhan.web.ui import contacts_groups, contacts_io
from yizhan.web.ui.contacts_form import (
    MAX_ID,
    ContactForm,
    checked_id,
    contacts_of,
    error_text,
    is_htmx,
    read_form,
    sidebar,
)

router = APIRouter()
PAGE = 50
MAX_QUERY = 100


async def _listing(request: Request, principal: Principal, q: str, group: int | None,
                   offset: int) -> dict[str, object]:
    service = contacts_of(request)
    account_id = principal.account.id
    q = q.strip()[:MAX_QUERY]
    found: list[Contact]
    if q:
        found = await service.search(account_id, q, limit=200)
        if group is not None:
            found = [c for c in found if any(gid == group for gid, _ in c.groups)]
        more = False
    else:
        found = await service.list_contacts(account_id, group, offset, PAGE + 1)
        more = len(found) > PAGE
        found = found[:PAGE]
    return {"contacts": found, "q": q, "group": group, "offset": offset, "more": more, "page": PAGE}


def _group_named(groups: list[ContactGroup], group_id: int | None) -> ContactGroup | None:
    return next((g for g in groups if g.id == group_id), None)


@router.get("/contacts")
async def contact_list(request: Request, principal: Annotated[Principal, Depends(require_account)],
                       q: Annotated[str, Query(max_length=1000)] = "",
                       group: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                       offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    listing = await _listing(request, principal, q, group, offset)
    if is_htmx(request) and request.headers.get("hx-target") == "contact-list":
        return render(request, "contacts/_list.html", listing)
    side = await sidebar(request, principal, group)
    groups = side["groups"]
    assert isinstance(groups, list)
    current = _group_named(groups, group)
    if group is not None and current is None:
        raise NotFound("no such group")
    return render(request, "contacts/index.html", {**listing, **side, "current_group": current})


async def _form_page(request: Request, principal: Principal, form: ContactForm, contact: Contact | None,
                     error: str = "", status: int = 200) -> Response:
    groups = await contacts_of(request).groups(principal.account.id)
    return render(request, "contacts/form.html", {"form": form, "contact": contact, "groups": groups,
                                                  "error": error}, status=status)


@router.get("/contacts/new")
async def new_contact(request: Request, principal: Annotated[Principal, Depends(require_account)],
                      group: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> Response:
    form = ContactForm(group_ids={group} if group else set())
    return await _form_page(request, principal, form, None)


@router.post("/contacts")
async def create_contact(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    form = read_form(await request.form())
    try:
        contact = await contacts_of(request).create(principal.account.id, form.card(), tuple(sorted(form.group_ids)))
    except InvalidInput as exc:
        return await _form_page(request, principal, form, None, error_text(request, exc), 400)
    return RedirectResponse(f"/contacts/{contact.id}?saved=1", status_code=303)


@router.get("/contacts/{contact_id:int}")
async def show_contact(request: Request, principal: Annotated[Principal, Depends(require_account)],
                       contact_id: int) -> Response:
    contact = await contacts_of(request).get(principal.account.id, checked_id(contact_id))
    return await _form_page(request, principal, ContactForm.of(contact), contact)


@router.post("/contacts/{contact_id:int}")
async def update_contact(request: Request, principal: Annotated[Principal, Depends(require_account)],
                         contact_id: int) -> Response:
    service = contacts_of(request)
    contact = await service.get(principal.account.id, checked_id(contact_id))
    form = read_form(await request.form())
    try:
        await service.update(principal.account.id, contact.id, form.card(), tuple(sorted(form.group_ids)))
    except InvalidInput as exc:
        return await _form_page(request, principal, form, contact, error_text(request, exc), 400)
    return RedirectResponse(f"/contacts/{contact.id}?saved=1", status_code=303)


@router.post("/contacts/{contact_id:int}/delete")
async def delete_contact(request: Request, principal: Annotated[Principal, Depends(require_account)],
                         contact_id: int) -> Response:
    await contacts_of(request).delete(principal.account.id, [checked_id(contact_id)])
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": "/contacts"})
    return RedirectResponse("/contacts?deleted=1", status_code=303)


router.include_router(contacts_groups.router)
router.include_router(contacts_io.router)
