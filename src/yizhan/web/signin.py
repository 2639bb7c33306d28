"""Signing in and out, shared by the sign-in page and the API's session resource.

Invariants: passwords are checked only by `services.auth.login` (protocol "web", the client's address), so the
web has the same lockout as IMAP, POP3 and submission; the session cookie is set only after a right password, and
removed (and its session revoked) at sign-out. `safe_next` keeps redirects on this site.
"""

from __future__ import annotations

from fastapi import Request, Response

from yizhan.store.records import AccountRecord
from yizhan.util.clock import now_seconds
from yizhan.web.deps import Principal, web_state
from yizhan.web.sessions import COOKIE, Session, secure_for

MAX_ADDRESS = 320
MAX_PASSWORD = 1024
_MAX_NEXT = 2000


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def sign_in(request: Request, address: str, password: str) -> tuple[AccountRecord, Session]:
    """The account and a new session; AuthenticationFailed or LockedOut from the auth service otherwise."""
    state = web_state(request)
    account = await state.services.auth.login(address, password, client=client_address(request), protocol="web")
    return account, state.codec.new(account.id, account.credentials_serial, now_seconds())


def cookie_secure(request: Request) -> bool:
    return secure_for(web_state(request).services.settings.web.cookie_secure, request.url.scheme,
                      request.client.host if request.client else None, request.headers.get("host"))


def set_session_cookie(request: Request, response: Response, session: Session) -> None:
    codec = web_state(request).codec
    response.set_cookie(COOKIE, codec.encode(session), max_age=codec.lifetime, path="/", httponly=True,
                        samesite="lax", secure=cookie_secure(request))


def sign_out(request: Request, response: Response, principal: Principal | None) -> None:
    if principal is not None and principal.session is not None:
        web_state(request).codec.revoke(principal.session, now_seconds())
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=cookie_secure(request))


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in: `target` when it is one, else "/"."""
    if (not target or len(target) > _MAX_NEXT or not target.startswith("/") or target.startswith(("//", "/\\"))
            or any(ord(ch) < 0x20 or ch == "\x7f" for ch in target)):
        return "/"
    return target
