"""What the admin pages (web/ui/admin*.py) and the admin API (web/api/v1/admin*.py) share: the `AdminService` of
the signed-in actor, the client address for the audit log, day and number parsing, and page rendering.

Invariants: every admin route gets its service through `staff_admin` (pages) or `api_admin` (API), which refuse
a user (403) before any route code runs; everything finer (domain-admin limits, NotFound for other domains) is
decided by services/admin.py, never here. The client address is the socket's peer (web/server.py trusts no
proxy header).
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from yizhan.services.admin import AdminService
from yizhan.util.errors import InvalidInput
from yizhan.web.deps import Principal, require_account, require_scope, web_state
from yizhan.web.i18n import N_, current
from yizhan.web.render import render

# Short codes a redirect after a change carries (?notice=...), and what the next page says.
NOTICES: dict[str, str] = {
    "domain-added": N_("The domain was added."),
    "domain-removed": N_("The domain was removed."),
    "account-saved": N_("The account was saved."),
    "account-removed": N_("The account was removed."),
    "alias-added": N_("The alias was added."),
    "alias-removed": N_("The alias was removed."),
    "queue-retried": N_("The message will be sent again now."),
    "queue-deleted": N_("The message was removed from the queue."),
}

# Words the templates translate from data (roles, queue states, log directions and results): marked here so the
# catalogue has them.
VOCABULARY = (
    N_("admin"), N_("domain-admin"), N_("user"),
    N_("pending"), N_("delivered"), N_("bounced"), N_("expired"), N_("deferred"), N_("rejected"), N_("failed"),
)
# The delivery log's directions as the log page names them.
DIRECTIONS: dict[str, str] = {"in": N_("received"), "out": N_("sent out"), "local": N_("filed here")}


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def service_for(request: Request, principal: Principal) -> AdminService:
    admin = AdminService(principal.account, client_of(request), web_state(request).services)
    admin.require_staff()
    return admin


async def staff_admin(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> AdminService:
    """The admin service of a signed-in admin or domain-admin; PermissionDenied (403) for anyone else."""
    return service_for(request, principal)


async def api_admin(request: Request,
                    principal: Annotated[Principal, Depends(require_scope("admin"))]) -> AdminService:
    """As `staff_admin`, and the caller must hold the "admin" scope (web/deps.py: an API token created without it
    is refused with 403 insufficient_scope)."""
    return service_for(request, principal)


Staff = Annotated[AdminService, Depends(staff_admin)]
ApiStaff = Annotated[AdminService, Depends(api_admin)]


def page(request: Request, admin: AdminService, name: str, context: dict[str, Any] | None = None,
         status: int = 200) -> HTMLResponse:
    notice = NOTICES.get(request.query_params.get("notice", ""))
    values: dict[str, Any] = {"is_admin": admin.is_admin, "notice": current().gettext(notice) if notice else "",
                              "section": name.split("/")[-1].removesuffix(".html"), "human_size": human_size,
                              "usage_percent": usage_percent, "directions": DIRECTIONS}
    values.update(context or {})
    return render(request, name, values, status=status)


def parse_day(value: str, end: bool = False) -> int | None:
    """A date (YYYY-MM-DD) in the reader's time zone as epoch seconds: its start, or the next day's start when
    `end` (so "until 2026-01-31" includes that day); None for an empty value."""
    text = value.strip()
    if not text:
        return None
    try:
        day = datetime.date.fromisoformat(text[:10])
    except ValueError as exc:
        raise InvalidInput(f"'{text[:20]}' is not a date: use YYYY-MM-DD") from exc
    if end:
        day += datetime.timedelta(days=1)
    moment = datetime.datetime.combine(day, datetime.time(), tzinfo=current().zone)
    return int(moment.timestamp())


def parse_int(value: str, name: str, minimum: int = 0) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 18 or int(text) < minimum:
        raise InvalidInput(f"{name} must be a whole number of at least {minimum}")
    return int(text)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def usage_percent(used: int, quota: int) -> int:
    """How full an account is, 0..100 (0 for an unlimited one)."""
    if quota <= 0:
        return 0
    return max(0, min(100, round(used * 100 / quota)))
