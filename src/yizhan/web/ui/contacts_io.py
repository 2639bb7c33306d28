"""Importing and exporting the address book as vCard or CSV files, from the contacts pages.

Routes:
- `GET /contacts/import`: the upload form; `POST /contacts/import` (multipart: `file`, `format` auto|vcard|csv)
  imports with services/contacts.py and shows its report: how many were imported, and every skipped row (or card)
  with its number and reason, and warnings (an address left out). A file the service cannot use at all (empty,
  too large, no vCard or CSV header) is shown on the form again with the reason (400).
- `GET /contacts/export?format=vcard|csv&group=<id>&version=3.0|4.0&lang=en|zh`: a download of every contact, or
  those of one group (the account's own: another's group id is 404). Contacts carry their group names (vCard
  CATEGORIES, CSV "Categories"), so an export imports back into the same groups. CSV starts with a UTF-8 BOM, so
  that spreadsheet programs read Chinese names right.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from yizhan.mail.contactcard import ContactCard
from yizhan.mail.contactcsv import write_csv
from yizhan.mail.vcard import write_vcards
from yizhan.services.contacts import MAX_PAGE, ContactsService
from yizhan.util.errors import InvalidInput, NotFound
from yizhan.web.deps import Principal, require_account
from yizhan.web.render import render
from yizhan.web.ui.contacts_form import MAX_ID, contacts_of, error_text

router = APIRouter()


def _format_of(chosen: str, filename: str, data: bytes) -> str:
    if chosen in ("vcard", "csv"):
        return chosen
    name = filename.lower()
    if name.endswith((".vcf", ".vcard")):
        return "vcard"
    if name.endswith(".csv"):
        return "csv"
    return "vcard" if b"BEGIN:VCARD" in data[:4096].upper() else "csv"


@router.get("/contacts/import")
async def import_form(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    return render(request, "contacts/import.html", {"error": "", "max_kb": contacts_of(request).limits.max_file_bytes
                                                    // 1024})


@router.post("/contacts/import")
async def import_file(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    service = contacts_of(request)
    form = await request.form()
    upload = form.get("file")
    chosen = form.get("format")
    max_kb = service.limits.max_file_bytes // 1024
    i18n = request.state.i18n
    if not isinstance(upload, UploadFile):
        return render(request, "contacts/import.html",
                      {"error": i18n.gettext("Choose a vCard (.vcf) or CSV file to import."), "max_kb": max_kb},
                      status=400)
    data = await upload.read(service.limits.max_file_bytes + 1)
    kind = _format_of(chosen if isinstance(chosen, str) else "auto", upload.filename or "", data)
    try:
        if kind == "vcard":
            report = await service.import_vcard(principal.account.id, data)
        else:
            report = await service.import_csv(principal.account.id, data)
    except InvalidInput as exc:
        return render(request, "contacts/import.html", {"error": error_text(request, exc), "max_kb": max_kb},
                      status=400)
    return render(request, "contacts/report.html", {"report": report, "filename": (upload.filename or "")[:200],
                                                    "kind": kind})


async def _cards(service: ContactsService, account_id: int, group_id: int | None) -> list[ContactCard]:
    cards: list[ContactCard] = []
    offset = 0
    while True:
        page = await service.list_contacts(account_id, group_id, offset, MAX_PAGE)
        cards.extend(dataclasses.replace(c.card, groups=tuple(name for _, name in c.groups)) for c in page)
        if len(page) < MAX_PAGE:
            return cards
        offset += MAX_PAGE


@router.get("/contacts/export")
async def export(request: Request, principal: Annotated[Principal, Depends(require_account)],
                 format: Literal["vcard", "csv"] = "vcard",
                 group: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                 version: Literal["3.0", "4.0"] = "3.0", lang: Literal["en", "zh"] = "en") -> Response:
    service = contacts_of(request)
    stem = "contacts"
    if group is not None:
        found = next((g for g in await service.groups(principal.account.id) if g.id == group), None)
        if found is None:
            raise NotFound("no such group")
        stem = f"contacts-{found.name}"
    cards = await _cards(service, principal.account.id, group)
    if format == "vcard":
        body = (await asyncio.to_thread(write_vcards, cards, version)).encode("utf-8")
        media, suffix = "text/vcard; charset=utf-8", "vcf"
    else:
        body = "\ufeff".encode() + (await asyncio.to_thread(write_csv, cards, lang)).encode("utf-8")
        media, suffix = "text/csv; charset=utf-8", "csv"
    # RFC 6266 with an RFC 8187 UTF-8 name for group names in Chinese, and a plain ASCII fallback.
    disposition = f"attachment; filename=\"contacts.{suffix}\"; filename*=UTF-8''{quote(f'{stem}.{suffix}')}"
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
