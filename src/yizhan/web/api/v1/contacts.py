"""`/api/v1/contacts`: the caller's address book — contacts (list, search, create, read, replace, delete), groups
and their members, recipient autocomplete, the organisation's directory, import (vCard or CSV, answering the
import report) and export (vCard or CSV download).

Invariants: every call goes through services/contacts.py with the caller's account id, so another account's
contact or group answers 404 exactly like a missing one; lists are paged by the convention of paging.py; files
are bounded by the service's limit before they are parsed. Static paths (/contacts/groups, /autocomplete…) are
declared before /contacts/{contact_id}.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile

from yizhan.services.contacts import ContactsService
from yizhan.util.errors import NotFound
from yizhan.web.api.v1.contacts_models import (
    Changed,
    Contact,
    ContactIds,
    ContactIn,
    ContactList,
    ContactSuggestion,
    Group,
    GroupList,
    GroupName,
    ImportResult,
    SuggestionList,
)
from yizhan.web.api.v1.paging import DEFAULT_LIMIT, MAX_ID, Cursor, Id, Limit, clean_text, offset_page
from yizhan.web.api.v1.responses import errors
from yizhan.web.deps import Principal, require_account, web_state

router = APIRouter(tags=["contacts"], responses=errors(400))
Caller = Annotated[Principal, Depends(require_account)]
SearchText = Annotated[str, Query(max_length=100, description="What the name, a word of it, its pinyin (full or "
                                                              "initials) or an address starts with")]


def _contacts(request: Request) -> ContactsService:
    service: ContactsService = web_state(request).services.contacts
    return service


@router.get("/contacts", response_model=ContactList, summary="List or search the address book",
            description="By name (pinyin order), optionally of one group. With `q`, the contacts matching it "
                        "(name, word, pinyin, initials, address prefix), best first, at most `limit`, one page.",
            responses=errors(404))
async def list_contacts(request: Request, principal: Caller, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
                        q: SearchText = "",
                        group_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this group")] = None,
                        ) -> ContactList:
    service, account_id = _contacts(request), principal.account.id
    text = clean_text(q, "q")
    if text:
        found = await service.search(account_id, text, limit)
        return ContactList(contacts=[Contact.of(c) for c in found], next_cursor=None)
    page = offset_page(cursor, limit)
    if group_id is not None and group_id not in {g.id for g in await service.groups(account_id)}:
        raise NotFound(f"no contact group {group_id}")
    found = await service.list_contacts(account_id, group_id, page.offset, page.limit)
    return ContactList(contacts=[Contact.of(c) for c in found], next_cursor=page.next_cursor(len(found)))


@router.get("/contacts/autocomplete", response_model=SuggestionList, summary="Recipient suggestions",
            description="For a To/Cc/Bcc field: the caller's contacts (every address), then the organisation's "
                        "directory, then past correspondents; each address once.")
async def autocomplete(request: Request, principal: Caller, q: SearchText,
                       limit: Annotated[int, Query(ge=1, le=50)] = 10) -> SuggestionList:
    found = await _contacts(request).autocomplete(principal.account, clean_text(q, "q"), limit)
    return SuggestionList(suggestions=[ContactSuggestion.of(s) for s in found])


@router.get("/contacts/directory", response_model=SuggestionList, summary="The organisation's directory",
            description="The enabled accounts of the caller's own domain, optionally those whose address or a word "
                        "of whose name starts with `q`.")
async def directory(request: Request, principal: Caller, q: SearchText = "",
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> SuggestionList:
    found = await _contacts(request).directory(principal.account, clean_text(q, "q"), limit)
    return SuggestionList(suggestions=[ContactSuggestion.of(s) for s in found])


@router.get("/contacts/export", summary="Download the address book as vCard or CSV",
            response_class=Response,
            responses={200: {"description": "The file (Content-Disposition: attachment)",
                             "content": {"text/vcard": {"schema": {"type": "string"}},
                                         "text/csv": {"schema": {"type": "string"}}}}})
async def export(request: Request, principal: Caller,
                 format: Annotated[Literal["vcard", "csv"], Query(description="File format")] = "vcard",
                 version: Annotated[Literal["3.0", "4.0"], Query(description="vCard version")] = "3.0",
                 language: Annotated[Literal["en", "zh"], Query(description="CSV header language")] = "en",
                 ) -> Response:
    service = _contacts(request)
    if format == "vcard":
        text = await service.export_vcard(principal.account.id, version)
        media, name = "text/vcard; charset=utf-8", "contacts.vcf"
    else:
        text = await service.export_csv(principal.account.id, language)
        media, name = "text/csv; charset=utf-8", "contacts.csv"
    return Response(text.encode("utf-8"), media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/contacts/import", response_model=ImportResult, summary="Import a vCard or CSV file",
             description="Adds the file's contacts; a card or row that cannot be used is skipped and listed with "
                         "the reason, as is one whose first address is already in the address book. The format "
                         "is taken from `format`, else the file name (.vcf, .csv), else the content.",
             responses=errors(413, 507))
async def import_file(request: Request, principal: Caller,
                      file: Annotated[UploadFile, File(description="A .vcf (vCard 2.1/3.0/4.0) or .csv file")],
                      format: Annotated[Literal["auto", "vcard", "csv"], Form()] = "auto") -> ImportResult:
    service = _contacts(request)
    data = await file.read(service.limits.max_file_bytes + 1)
    kind = format if format != "auto" else _guess_format(file.filename or "", data)
    if kind == "vcard":
        report = await service.import_vcard(principal.account.id, data)
    else:
        report = await service.import_csv(principal.account.id, data)
    return ImportResult.of(report)


def _guess_format(filename: str, data: bytes) -> str:
    name = filename.lower()
    if name.endswith((".vcf", ".vcard")):
        return "vcard"
    if name.endswith(".csv"):
        return "csv"
    head = data[:4096].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \r\n\t").replace(b"\x00", b"").upper()
    return "vcard" if head.startswith(b"BEGIN:VCARD") else "csv"


# Groups


@router.get("/contacts/groups", response_model=GroupList, summary="The caller's contact groups, by name")
async def list_groups(request: Request, principal: Caller) -> GroupList:
    return GroupList(groups=[Group.of(g) for g in await _contacts(request).groups(principal.account.id)])


@router.post("/contacts/groups", response_model=Group, status_code=201, summary="Create a contact group",
             responses=errors(409, 507))
async def create_group(request: Request, principal: Caller, body: GroupName) -> Group:
    return Group.of(await _contacts(request).create_group(principal.account.id, body.name))


async def _group(service: ContactsService, account_id: int, group_id: int) -> Group:
    for group in await service.groups(account_id):
        if group.id == group_id:
            return Group.of(group)
    raise NotFound(f"no contact group {group_id}")


@router.get("/contacts/groups/{group_id}", response_model=Group, summary="One contact group",
            responses=errors(404))
async def read_group(request: Request, principal: Caller, group_id: Id) -> Group:
    return await _group(_contacts(request), principal.account.id, group_id)


@router.patch("/contacts/groups/{group_id}", response_model=Group, summary="Rename a contact group",
              responses=errors(404, 409))
async def rename_group(request: Request, principal: Caller, group_id: Id, body: GroupName) -> Group:
    service = _contacts(request)
    await service.rename_group(principal.account.id, group_id, body.name)
    return await _group(service, principal.account.id, group_id)


@router.delete("/contacts/groups/{group_id}", status_code=204, response_class=Response,
               summary="Delete a contact group (its contacts stay)", responses=errors(404))
async def delete_group(request: Request, principal: Caller, group_id: Id) -> Response:
    await _contacts(request).delete_group(principal.account.id, group_id)
    return Response(status_code=204)


@router.post("/contacts/groups/{group_id}/members", response_model=Changed, summary="Add contacts to a group",
             responses=errors(404))
async def add_members(request: Request, principal: Caller, group_id: Id, body: ContactIds) -> Changed:
    return Changed(changed=await _contacts(request).add_to_group(principal.account.id, group_id, body.ids()))


@router.delete("/contacts/groups/{group_id}/members/{contact_id}", response_model=Changed,
               summary="Take a contact out of a group", responses=errors(404))
async def remove_member(request: Request, principal: Caller, group_id: Id, contact_id: Id) -> Changed:
    return Changed(changed=await _contacts(request).remove_from_group(principal.account.id, group_id,
                                                                      [contact_id]))


# Contacts


@router.post("/contacts", response_model=Contact, status_code=201, summary="Add a contact",
             description="404 when a group id is not one of the caller's groups.", responses=errors(404, 507))
async def create_contact(request: Request, principal: Caller, body: ContactIn) -> Contact:
    created = await _contacts(request).create(principal.account.id, body.card(), body.groups() or ())
    return Contact.of(created)


@router.get("/contacts/{contact_id}", response_model=Contact, summary="One contact", responses=errors(404))
async def read_contact(request: Request, principal: Caller, contact_id: Id) -> Contact:
    return Contact.of(await _contacts(request).get(principal.account.id, contact_id))


@router.put("/contacts/{contact_id}", response_model=Contact, summary="Replace a contact's fields",
            description="Every field is replaced (a missing one becomes empty); the groups only when `group_ids` "
                        "is given.", responses=errors(404))
async def replace_contact(request: Request, principal: Caller, contact_id: Id, body: ContactIn) -> Contact:
    return Contact.of(await _contacts(request).update(principal.account.id, contact_id, body.card(),
                                                      body.groups()))


@router.delete("/contacts/{contact_id}", status_code=204, response_class=Response, summary="Delete a contact",
               responses=errors(404))
async def delete_contact(request: Request, principal: Caller, contact_id: Id) -> Response:
    await _contacts(request).delete(principal.account.id, [contact_id])
    return Response(status_code=204)

