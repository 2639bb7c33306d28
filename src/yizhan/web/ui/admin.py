"""Admin console pages: the start page, server status, domains (list, add, remove, client settings and DNS
records) and aliases with catch-alls. Accounts are in admin_accounts.py, the queue and logs in admin_logs.py.

Every route takes the actor's `AdminService` (web/ui/admin_common.py), which decides what the actor may see and
do; changes are plain forms (POST with the CSRF token) answered by a redirect (303) to the page showing the result.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from yizhan.web.deps import web_state
from yizhan.web.i18n import N_
from yizhan.web.ui.admin_common import Staff, page

router = APIRouter()

# What each listener is, for the status page (app/listeners.py holds the same table; the web may not import app).
LISTENER_TITLES: dict[str, str] = {
    "smtp": N_("SMTP (inbound MX)"),
    "submission": N_("Submission"),
    "smtps": N_("Submission over TLS"),
    "lmtp": N_("LMTP"),
    "imap": N_("IMAP"),
    "imaps": N_("IMAP over TLS"),
    "pop3": N_("POP3"),
    "pop3s": N_("POP3 over TLS"),
    "http": N_("Web (webmail, admin, API)"),
}


@router.get("/admin")
async def start(admin: Staff) -> Response:
    return RedirectResponse("/admin/status" if admin.is_admin else "/admin/accounts", status_code=303)


@router.get("/admin/status")
async def status(request: Request, admin: Staff) -> Response:
    state = await admin.status()
    ports = web_state(request).ports()
    listeners = [(name, title, ports.get(name)) for name, title in LISTENER_TITLES.items()]
    return page(request, admin, "admin/status.html", {"status": state, "listeners": listeners,
                                                      "hostname": admin.services.settings.server.hostname})


# Domains


@router.get("/admin/domains")
async def domains(request: Request, admin: Staff) -> Response:
    return page(request, admin, "admin/domains.html", {"domains": await admin.domains()})


@router.post("/admin/domains")
async def add_domain(admin: Staff, name: Annotated[str, Form(max_length=253)] = "") -> Response:
    await admin.add_domain(name)
    return RedirectResponse("/admin/domains?notice=domain-added", status_code=303)


@router.get("/admin/domains/{name}")
async def domain_setup(request: Request, admin: Staff, name: str) -> Response:
    summary = await admin.domain(name)
    setup = await admin.domain_setup(name, web_state(request).ports())
    return page(request, admin, "admin/domain.html", {"summary": summary, "setup": setup})


@router.post("/admin/domains/{name}/remove")
async def remove_domain(admin: Staff, name: str, force: Annotated[str, Form(max_length=10)] = "") -> Response:
    await admin.remove_domain(name, force=force in ("1", "on", "true"))
    return RedirectResponse("/admin/domains?notice=domain-removed", status_code=303)


# Aliases and catch-alls


@router.get("/admin/aliases")
async def aliases(request: Request, admin: Staff, domain: str = "") -> Response:
    found = await admin.aliases(domain[:253] or None)
    grouped: dict[str, list[str]] = {}
    for alias in found:
        grouped.setdefault(alias.source, []).append(alias.target)
    return page(request, admin, "admin/aliases.html", {
        "aliases": sorted(grouped.items()), "domain": domain[:253], "domains": await admin.domains()})


@router.post("/admin/aliases")
async def add_alias(admin: Staff, source: Annotated[str, Form(max_length=320)] = "",
                    targets: Annotated[str, Form(max_length=20000)] = "") -> Response:
    await admin.add_alias(source, [t for t in targets.replace(";", ",").replace("\n", ",").split(",")])
    return RedirectResponse("/admin/aliases?notice=alias-added", status_code=303)


@router.post("/admin/aliases/remove")
async def remove_alias(admin: Staff, source: Annotated[str, Form(max_length=320)] = "",
                       target: Annotated[str, Form(max_length=320)] = "") -> Response:
    await admin.remove_alias(source, target or None)
    return RedirectResponse("/admin/aliases?notice=alias-removed", status_code=303)
