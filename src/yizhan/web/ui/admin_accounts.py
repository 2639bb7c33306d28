"""Admin console pages for accounts: the list (search, paging, usage bars), create, edit (display name, role,
quota, disabled), password reset, removal with a confirmation page, and the bulk import from CSV.

A generated password is shown once, in the answer to the POST that made it (pages are `Cache-Control:
no-store`). The passwords an import generated are kept in memory for one download (`/admin/import/<token>.csv`):
only by the account that ran the import, at most `DOWNLOAD_TTL` seconds, and removed when downloaded.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from yizhan.services.admin_import import MAX_BYTES
from yizhan.services.admin_setup import parse_size
from yizhan.services.directory import ROLES
from yizhan.util.errors import InvalidInput, NotFound
from yizhan.web.deps import web_state
from yizhan.web.ui.admin_common import Staff, page, parse_int

router = APIRouter()

PER_PAGE = 50
DOWNLOAD_TTL = 600
MAX_DOWNLOADS = 100
_DOWNLOADS_KEY = "admin_import_passwords"


@dataclass(frozen=True, slots=True)
class _Download:
    account_id: int
    created: float
    text: str


def _downloads(request: Request) -> dict[str, _Download]:
    store = web_state(request).extra.setdefault(_DOWNLOADS_KEY, {})
    assert isinstance(store, dict)
    now = time.monotonic()
    for token in [t for t, d in store.items() if now - d.created > DOWNLOAD_TTL]:
        del store[token]
    return store


def quota_text(size: int) -> str:
    """A quota as the edit form shows it: the largest binary unit that divides it exactly (0: unlimited)."""
    for unit, factor in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def _account_url(address: str, suffix: str = "") -> str:
    return f"/admin/accounts/{quote(address, safe='@')}{suffix}"


@router.get("/admin/accounts")
async def accounts(request: Request, admin: Staff, q: str = "", domain: str = "",
                   page_text: Annotated[str, Query(alias="page", max_length=10)] = "") -> Response:
    number = parse_int(page_text, "page", 1) or 1
    found = await admin.accounts(q[:200], domain[:253] or None, (number - 1) * PER_PAGE, PER_PAGE)
    return page(request, admin, "admin/accounts.html", {
        "result": found, "q": q[:200], "domain": domain[:253], "domains": await admin.domains()})


@router.get("/admin/accounts/new")
async def new_account(request: Request, admin: Staff, domain: str = "") -> Response:
    return page(request, admin, "admin/account_new.html", {
        "roles": ROLES, "domains": await admin.domains(), "domain": domain[:253]})


@router.post("/admin/accounts")
async def create_account(request: Request, admin: Staff, address: Annotated[str, Form(max_length=320)] = "",
                         display_name: Annotated[str, Form(max_length=200)] = "",
                         password: Annotated[str, Form(max_length=1024)] = "",
                         role: Annotated[str, Form(max_length=20)] = "user",
                         quota: Annotated[str, Form(max_length=40)] = "") -> Response:
    created = await admin.create_account(address, password, display_name, role, parse_size(quota))
    return page(request, admin, "admin/account_done.html", {"account": created.account,
                                                           "password": created.password, "created": True})


@router.get("/admin/accounts/{address}")
async def edit_account(request: Request, admin: Staff, address: str) -> Response:
    account = await admin.account(address)
    return page(request, admin, "admin/account.html", {"account": account, "roles": ROLES,
                                                       "account_url": _account_url(account.address),
                                                       "quota": quota_text(account.quota_bytes)})


@router.post("/admin/accounts/{address}")
async def save_account(admin: Staff, address: str, display_name: Annotated[str, Form(max_length=200)] = "",
                       role: Annotated[str, Form(max_length=20)] = "", quota: Annotated[str, Form(max_length=40)] = "",
                       disabled: Annotated[str, Form(max_length=10)] = "") -> Response:
    account = await admin.update_account(address, display_name=display_name, role=role or None,
                                         quota_bytes=parse_size(quota), disabled=disabled in ("1", "on", "true"))
    return RedirectResponse(_account_url(account.address, "?notice=account-saved"), status_code=303)


@router.post("/admin/accounts/{address}/password")
async def reset_password(request: Request, admin: Staff, address: str,
                         password: Annotated[str, Form(max_length=1024)] = "") -> Response:
    account = await admin.account(address)
    generated = await admin.reset_password(account.address, password)
    return page(request, admin, "admin/account_done.html", {"account": account, "password": generated,
                                                           "created": False})


@router.get("/admin/accounts/{address}/remove")
async def confirm_remove(request: Request, admin: Staff, address: str) -> Response:
    account = await admin.account(address)
    return page(request, admin, "admin/account_remove.html", {"account": account,
                                                              "account_url": _account_url(account.address)})


@router.post("/admin/accounts/{address}/remove")
async def remove_account(admin: Staff, address: str, confirm: Annotated[str, Form(max_length=320)] = "") -> Response:
    if confirm.strip().lower() != address.strip().lower():
        raise InvalidInput("type the account's address to confirm its removal")
    await admin.delete_account(address)
    return RedirectResponse("/admin/accounts?notice=account-removed", status_code=303)


# Bulk import


@router.get("/admin/import")
async def import_page(request: Request, admin: Staff) -> Response:
    return page(request, admin, "admin/import.html", {"max_kib": MAX_BYTES // 1024})


@router.post("/admin/import")
async def import_accounts(request: Request, admin: Staff, file: UploadFile | None = None,
                          text: Annotated[str, Form(max_length=MAX_BYTES)] = "") -> Response:
    if file is not None and file.filename:
        data = await file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise InvalidInput(f"the file is larger than {MAX_BYTES // 1024} KiB: split it into smaller files")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030", "replace")  # spreadsheets in China often save CSV as GBK
    if not text.strip():
        raise InvalidInput("choose a CSV file or paste its rows")
    report = await admin.import_accounts(text)
    token = ""
    if any(item.generated_password for item in report.created):
        downloads = _downloads(request)
        if len(downloads) >= MAX_DOWNLOADS:
            downloads.pop(next(iter(downloads)))
        token = secrets.token_urlsafe(24)
        downloads[token] = _Download(admin.actor.id, time.monotonic(), report.passwords_csv())
    return page(request, admin, "admin/import_report.html", {"report": report, "token": token})


@router.get("/admin/import/{token}.csv")
async def import_passwords(request: Request, admin: Staff, token: str) -> Response:
    downloads = _downloads(request)
    found = downloads.get(token[:64])
    if found is None or found.account_id != admin.actor.id:
        raise NotFound("this download is gone: the passwords of an import can be downloaded once, within 10 minutes")
    del downloads[token]
    return Response(found.text.encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="new-accounts.csv"'})
