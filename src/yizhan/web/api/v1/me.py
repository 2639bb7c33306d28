"""`/api/v1/me`: the account the caller is signed in as, what its credential may do, and password change.

Password change: the current password is checked by the auth service (protocol "web", the caller's address), so
wrong guesses count towards the same lockout as sign-in (429 when locked); the new one must pass the directory's
password rules. Changing it moves the account's `credentials_serial`, which ends every session of the account at
once (web/deps.py); a caller signed in with the cookie gets a new session cookie in the answer, so only the
*other* sessions end. API tokens are not passwords and keep working (revoke them under /tokens).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from yizhan.util.clock import now_seconds
from yizhan.util.errors import AuthenticationFailed, InvalidInput
from yizhan.web.api.v1.models import Account, Credentials, PasswordChange
from yizhan.web.api.v1.responses import errors
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.sessions import Session
from yizhan.web.signin import client_address, set_session_cookie

router = APIRouter(tags=["account"])
Caller = Annotated[Principal, Depends(require_account)]


@router.get("/me", response_model=Account, summary="The signed-in account")
async def me(principal: Caller) -> Account:
    return Account.of(principal.account)


@router.get("/me/credentials", response_model=Credentials, summary="How this request is authenticated, and its "
                                                                   "scopes")
async def credentials(principal: Caller) -> Credentials:
    return Credentials(via=principal.via, scopes=list(principal.scopes))


@router.post("/me/password", status_code=204, response_class=Response, summary="Change the password",
             description="Ends every other session of the account; a cookie caller receives a new session cookie "
                         "(and keeps its CSRF token). A wrong current password is a 400 and counts towards the "
                         "sign-in lockout.",
             responses=errors(400, 429))
async def change_password(request: Request, principal: Caller, body: PasswordChange) -> Response:
    services = web_state(request).services
    address = principal.account.address
    try:
        await services.auth.login(address, body.current_password, client=client_address(request),
                                  protocol="web")
    except AuthenticationFailed as exc:
        raise InvalidInput("current_password: the current password is not right") from exc
    if body.new_password == body.current_password:
        raise InvalidInput("new_password: the new password is the same as the current one")
    await services.directory.set_password(address, body.new_password)
    response = Response(status_code=204)
    if principal.via == "cookie" and principal.session is not None:
        # The old cookie is dead already (its serial is the old one); the new one keeps the CSRF token, so the
        # page that made this request goes on working.
        account = await services.directory.account(address)
        set_session_cookie(request, response, Session(account.id, account.credentials_serial,
                                                      principal.session.csrf, now_seconds()))
    return response
