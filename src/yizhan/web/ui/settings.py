"""The settings pages: general settings (display name, language, time zone, list density, remote images and the
senders whose images are always shown). Signatures are in settings_signatures.py, the password and personal API
tokens in settings_security.py; `router` includes theirs.

Routes: `GET /settings`, `POST /settings` (every general field at once; a refused value shows the form again
with the service's message, 400), `POST /settings/images/add` and `POST /settings/images/remove` (sender=an
address or @domain; htmx gets the list back).

Invariants:
- Saving applies at once in this browser: the language sets the `yizhan_lang` cookie (web/i18n.py; "auto"
  removes it, so the browser's Accept-Language decides again) and the time zone the `yizhan_zone` cookie, which
  beats the zone the browser reports, so every page shows dates in the chosen zone.
- The time zone select offers the IANA zones of this system; until the account has chosen one, it starts at the
  zone the browser reported (the `yizhan_tz` cookie).
"""

from __future__ import annotations

import functools
import zoneinfo
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from yizhan.services.settings import DENSITIES, REMOTE_IMAGE_POLICIES, SettingsService
from yizhan.util.errors import InvalidInput, QuotaExceeded
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.i18n import LANG_COOKIE, TZ_COOKIE, ZONE_COOKIE, checked_zone
from yizhan.web.render import render
from yizhan.web.signin import cookie_secure
from yizhan.web.ui import settings_security, settings_signatures
from yizhan.web.ui.contacts_form import error_text, is_htmx

router = APIRouter()
YEAR = 365 * 86400
# The account's language setting (services/settings.py) and the interface language code of web/i18n.py.
COOKIE_LANGUAGE = {"zh-CN": "zh_CN", "en": "en"}


def settings_of(request: Request) -> SettingsService:
    return web_state(request).services.account_settings


@functools.cache
def zones() -> tuple[str, ...]:
    """The IANA zones to offer: region/city names and UTC, sorted."""
    names = {name for name in zoneinfo.available_timezones()
             if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))}
    return ("UTC", *sorted(names))


async def _general(request: Request, principal: Principal, error: str = "", status: int = 200,
                   typed: dict[str, str] | None = None) -> Response:
    service = settings_of(request)
    current = await service.get(principal.account)
    chosen_zone = current.time_zone
    browser = checked_zone(request.cookies.get(TZ_COOKIE))
    from_browser = False
    if chosen_zone == service.default_time_zone and ZONE_COOKIE not in request.cookies and browser is not None:
        chosen_zone, from_browser = browser.key, True
    values = {"display_name": current.display_name, "language": current.language, "time_zone": chosen_zone,
              "density": current.density, "remote_images": current.remote_images, **(typed or {})}
    return render(request, "settings/general.html", {
        "values": values, "zones": zones(), "from_browser": from_browser, "densities": DENSITIES,
        "policies": REMOTE_IMAGE_POLICIES, "senders": await service.image_senders(principal.account.id),
        "error": error, "tab": "general"}, status=status)


@router.get("/settings")
async def general(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    return await _general(request, principal)


Field = Annotated[str, Form(max_length=1000)]


@router.post("/settings")
async def save_general(request: Request, principal: Annotated[Principal, Depends(require_account)],
                       display_name: Field = "", language: Field = "auto", time_zone: Field = "UTC",
                       density: Field = "comfortable", remote_images: Field = "ask") -> Response:
    try:
        saved = await settings_of(request).update(principal.account, display_name=display_name, language=language,
                                                  time_zone=time_zone, density=density,
                                                  remote_images=remote_images)
    except InvalidInput as exc:
        typed = {"display_name": display_name, "language": language, "time_zone": time_zone, "density": density,
                 "remote_images": remote_images}
        return await _general(request, principal, error_text(request, exc), 400, typed)
    response = RedirectResponse("/settings?saved=1", status_code=303)
    remember_preferences(request, response, saved.language, saved.time_zone)
    return response


def remember_preferences(request: Request, response: Response, language: str | None, time_zone: str | None) -> None:
    """Set the language and time zone cookies to the account's saved choices (after saving them, and at sign-in so
    they follow the account to another browser); language "auto" removes the cookie, Accept-Language decides;
    None leaves a cookie as it is."""
    secure = cookie_secure(request)
    if language is None:
        pass
    elif language in COOKIE_LANGUAGE:
        response.set_cookie(LANG_COOKIE, COOKIE_LANGUAGE[language], max_age=YEAR, path="/", samesite="lax",
                            secure=secure)
    else:
        response.delete_cookie(LANG_COOKIE, path="/", samesite="lax", secure=secure)
    if time_zone is None:
        return
    # Written by hand: Starlette would quote a value with "/" in it; IANA names (letters, digits, _ + - /) are
    # valid cookie octets as they are (RFC 6265 section 4.1.1), and the browser's script writes them so too.
    response.headers.append("set-cookie", f"{ZONE_COOKIE}={time_zone}; Max-Age={YEAR}; Path=/; SameSite=Lax"
                            + ("; Secure" if secure else ""))


async def _senders(request: Request, principal: Principal, error: str = "", status: int = 200) -> Response:
    senders = await settings_of(request).image_senders(principal.account.id)
    return render(request, "settings/_senders.html", {"senders": senders, "sender_error": error}, status=status)


@router.post("/settings/images/add")
async def add_sender(request: Request, principal: Annotated[Principal, Depends(require_account)],
                     sender: Field = "") -> Response:
    try:
        await settings_of(request).allow_images_from(principal.account.id, sender)
    except (InvalidInput, QuotaExceeded) as exc:
        if not is_htmx(request):
            return await _general(request, principal, error_text(request, exc), 400)
        return await _senders(request, principal, error_text(request, exc), 400)
    if is_htmx(request):
        return await _senders(request, principal)
    return RedirectResponse("/settings#images", status_code=303)


@router.post("/settings/images/remove")
async def remove_sender(request: Request, principal: Annotated[Principal, Depends(require_account)],
                        sender: Field = "") -> Response:
    await settings_of(request).disallow_images_from(principal.account.id, sender)
    if is_htmx(request):
        return await _senders(request, principal)
    return RedirectResponse("/settings#images", status_code=303)


router.include_router(settings_signatures.router)
router.include_router(settings_security.router)
