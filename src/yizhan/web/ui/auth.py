"""The sign-in page and sign-out.

A failed sign-in shows the form again with one message whatever was wrong (401), a locked-out one says how long
to wait (429 with Retry-After); success sets the session cookie and goes (303) to the page asked for, on this site
only. Sign-out is a POST carrying the CSRF token (checked by `require_account`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from yizhan.util.errors import AuthenticationFailed, LockedOut
from yizhan.web.deps import Principal, optional_account, require_account, translator, web_state
from yizhan.web.i18n import Translator
from yizhan.web.render import render
from yizhan.web.signin import MAX_ADDRESS, MAX_PASSWORD, safe_next, set_session_cookie, sign_in, sign_out
from yizhan.web.ui.settings import remember_preferences

router = APIRouter()


@router.get("/signin")
async def signin_page(request: Request, principal: Annotated[Principal | None, Depends(optional_account)],
                      next: str = "/") -> Response:
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "signin.html", {"next": safe_next(next), "address": "", "error": ""})


@router.post("/signin")
async def signin_submit(request: Request, i18n: Annotated[Translator, Depends(translator)],
                        address: Annotated[str, Form(max_length=MAX_ADDRESS)] = "",
                        password: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
                        next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    target = safe_next(next)
    context = {"next": target, "address": address.strip()}
    if not address.strip() or not password:
        return render(request, "signin.html", {**context, "error": i18n.gettext("Enter your address and password.")},
                      status=400)
    try:
        account, session = await sign_in(request, address.strip(), password)
    except LockedOut as exc:
        message = i18n.gettext("Too many failed sign-ins: try again in %(seconds)d seconds.") % {
            "seconds": exc.retry_after}
        return render(request, "signin.html", {**context, "error": message}, status=429,
                      headers={"Retry-After": str(exc.retry_after)})
    except AuthenticationFailed:
        return render(request, "signin.html", {**context, "error": i18n.gettext("Wrong address or password.")},
                      status=401)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, session)
    # The account's saved language and time zone follow it to this browser (a zone still at the server's default
    # was never chosen: the browser's own zone stays in charge).
    saved_settings = web_state(request).services.account_settings
    saved = await saved_settings.get(account)
    remember_preferences(request, response, None if saved.language == "auto" else saved.language,
                         None if saved.time_zone == saved_settings.default_time_zone else saved.time_zone)
    return response


@router.post("/signout")
async def signout(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    response = RedirectResponse("/signin", status_code=303)
    sign_out(request, response, principal)
    return response
