"""`/api/v1/session`: sign in with JSON (sets the session cookie and returns the CSRF token) and sign out.

Signing in goes through the same auth service and lockout as the page (429 with Retry-After when locked);
`DELETE` is a write made with the cookie, so it needs the X-CSRF-Token header like every other.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from yizhan.util.errors import NotFound
from yizhan.web.api.v1.models import Account, ErrorBody, SessionInfo, SignIn
from yizhan.web.deps import Principal, require_account, web_state
from yizhan.web.signin import set_session_cookie, sign_in, sign_out

router = APIRouter(tags=["session"])


@router.post("/session", response_model=SessionInfo, summary="Sign in: sets the session cookie",
             responses={401: {"model": ErrorBody, "description": "Wrong address or password"},
                        429: {"model": ErrorBody, "description": "Too many failures: wait Retry-After seconds"}})
async def create_session(request: Request, response: Response, body: SignIn) -> SessionInfo:
    account, session = await sign_in(request, body.address, body.password)
    set_session_cookie(request, response, session)
    return SessionInfo(account=Account.of(account), csrf_token=session.csrf,
                       expires_at=session.issued + web_state(request).codec.lifetime)


@router.get("/session", response_model=SessionInfo, summary="The current session (and its CSRF token)")
async def read_session(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> SessionInfo:
    session = principal.session
    if session is None:
        raise NotFound("this request is authenticated by an API token: there is no session")
    return SessionInfo(account=Account.of(principal.account), csrf_token=session.csrf,
                       expires_at=session.issued + web_state(request).codec.lifetime)


@router.delete("/session", status_code=204, summary="Sign out: ends the session and removes the cookie")
async def delete_session(request: Request, principal: Annotated[Principal, Depends(require_account)]) -> Response:
    response = Response(status_code=204)
    sign_out(request, response, principal)
    return response
