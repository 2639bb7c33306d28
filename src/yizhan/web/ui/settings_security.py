"""The security pages of the settings: password change and personal API tokens.

Routes:
- `GET /settings/password`, `POST /settings/password` (current_password, new_password, confirm_password). The
  current password is checked by `services.auth.login` (protocol "web"), so guessing it here meets the same
  lockout as signing in. The new one is set with `DirectoryService.set_password`, which bumps the account's
  `credentials_serial`: every other session (web, and cached protocol credentials) ends at once; this browser
  gets a fresh session cookie and stays signed in.
- `GET /settings/tokens`, `POST /settings/tokens` (name, scope (repeated), expires_in_days: empty for never),
  `POST /settings/tokens/{id}/revoke`. A new token's secret is shown once, on the page that answers the POST
  (never in a URL, never again); the list shows names, scopes, dates and the first characters only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from yizhan.services.tokens import ADMIN_ROLES, SCOPES, NewToken
from yizhan.util.clock import now_seconds
from yizhan.util.errors import AuthenticationFailed, InvalidInput, LockedOut, PermissionDenied, QuotaExceeded
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.render import render
from yizhan.web.signin import MAX_PASSWORD, client_address, set_session_cookie
from yizhan.web.ui.contacts_form import checked_id, error_text, is_htmx

router = APIRouter()
Password = Annotated[str, Form(max_length=MAX_PASSWORD)]
EXPIRY_CHOICES = (7, 30, 90, 365)


@router.get("/settings/password")
async def password_page(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    return render(request, "settings/password.html", {"error": "", "tab": "password"})


@router.post("/settings/password")
async def change_password(request: Request, principal: Annotated[Principal, Depends(require_account)],
                          current_password: Password = "", new_password: Password = "",
                          confirm_password: Password = "") -> Response:
    i18n = request.state.i18n
    services = web_state(request).services

    def refuse(message: str, status: int = 400, headers: dict[str, str] | None = None) -> Response:
        return render(request, "settings/password.html", {"error": message, "tab": "password"}, status=status,
                      headers=headers)

    if not current_password or not new_password:
        return refuse(i18n.gettext("Enter your current password and a new one."))
    if new_password != confirm_password:
        return refuse(i18n.gettext("The new password and its confirmation differ: type the same password twice."))
    if new_password == current_password:
        return refuse(i18n.gettext("The new password is the same as the current one: choose another."))
    address = principal.account.address
    try:
        await services.auth.login(address, current_password, client=client_address(request), protocol="web")
    except LockedOut as exc:
        return refuse(i18n.gettext("Too many failed sign-ins: try again in %(seconds)d seconds.") % {
            "seconds": exc.retry_after}, 429, {"Retry-After": str(exc.retry_after)})
    except AuthenticationFailed:
        return refuse(i18n.gettext("The current password is not right."), 403)
    try:
        await services.directory.set_password(address, new_password)
    except InvalidInput as exc:
        return refuse(error_text(request, exc))
    account = await services.directory.account(address)
    state = web_state(request)
    if principal.session is not None:
        state.codec.revoke(principal.session, now_seconds())
    response = RedirectResponse("/settings/password?changed=1", status_code=303)
    set_session_cookie(request, response, state.codec.new(account.id, account.credentials_serial, now_seconds()))
    return response


async def _tokens(request: Request, principal: Principal, created: NewToken | None = None, error: str = "",
                  status: int = 200, partial: bool = False) -> Response:
    tokens = await web_state(request).services.tokens.list_tokens(principal.account.id)
    scopes = [s for s in SCOPES if s != "admin" or principal.account.role in ADMIN_ROLES]
    context = {"tokens": tokens, "created": created, "error": error, "scopes": scopes, "expiry": EXPIRY_CHOICES,
               "now": now_seconds(), "tab": "tokens"}
    return render(request, "settings/_tokens.html" if partial else "settings/tokens.html", context, status=status)


@router.get("/settings/tokens")
async def tokens_page(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    return await _tokens(request, principal)


@router.post("/settings/tokens")
async def create_token(request: Request, principal: Annotated[Principal, Depends(require_account)],
                       name: Annotated[str, Form(max_length=1000)] = "",
                       scope: Annotated[list[str] | None, Form(max_length=10)] = None,
                       expires_in_days: Annotated[str, Form(max_length=10)] = "") -> Response:
    days: int | None = None
    if expires_in_days.strip():
        if not expires_in_days.strip().isdigit():
            return await _tokens(request, principal, None, request.state.i18n.gettext(
                "Choose when the token expires, or never."), 400)
        days = int(expires_in_days.strip())
    try:
        created = await web_state(request).services.tokens.create(principal.account, name, scope or [], days)
    except (InvalidInput, PermissionDenied, QuotaExceeded) as exc:
        return await _tokens(request, principal, None, error_text(request, exc), 400)
    return await _tokens(request, principal, created)


@router.post("/settings/tokens/{token_id:int}/revoke")
async def revoke_token(request: Request, principal: Annotated[Principal, Depends(require_account)],
                       token_id: int) -> Response:
    await web_state(request).services.tokens.revoke(principal.account.id, checked_id(token_id))
    if is_htmx(request):
        return await _tokens(request, principal, partial=True)
    return RedirectResponse("/settings/tokens?revoked=1", status_code=303)
