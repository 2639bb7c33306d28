"""Who is calling: the dependencies every page and API route uses to find the signed-in account.

`authenticate` tries, in order, the session cookie (web/sessions.py) and then `Authorization: Bearer <token>`,
which `WebState.token_authenticator` checks (None until personal API tokens exist: a bearer token is then
refused). `require_account` is the dependency for anything that needs an account.

Invariants:
- A session counts only while its account exists, is enabled and still has the `credentials_serial` the session
  was issued with (read from the store on every request, so a password change or a disabled account ends
  sessions at once, in this process and after a change made by the CLI).
- Every state-changing request (POST, PUT, PATCH, DELETE) authenticated by the cookie must carry the session's
  CSRF token, in the `X-CSRF-Token` header or the `csrf_token` form field, compared in constant time; otherwise
  `CsrfRejected` (403). This check lives here, where the cookie is accepted, so no route can forget it. Requests
  authenticated by a bearer token carry no ambient credential and need no CSRF token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from fastapi import Request

from yizhan.services.runtime import Services
from yizhan.store.records import AccountRecord
from yizhan.util.clock import now_seconds
from yizhan.web.errors import CsrfRejected, Unauthenticated
from yizhan.web.i18n import N_, Translator
from yizhan.web.security import UNSAFE_METHODS
from yizhan.web.sessions import COOKIE, Session, SessionCodec

CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_MAX_TOKEN = 512

# Given the services and a bearer token, the account it belongs to, or None when it is not a valid token.
TokenAuthenticator = Callable[[Services, str], Awaitable[AccountRecord | None]]


@dataclass
class WebState:
    """What the web application holds: the services and the session codec (on `app.state.web`)."""

    services: Services
    codec: SessionCodec
    ports: Callable[[], dict[str, int]]
    token_authenticator: TokenAuthenticator | None = None
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Principal:
    """The account a request acts for, and how it proved it."""

    account: AccountRecord
    via: Literal["cookie", "bearer"]
    session: Session | None = None


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def translator(request: Request) -> Translator:
    found: Translator = request.state.i18n
    return found


async def _from_cookie(request: Request, state: WebState) -> Principal | None:
    session = state.codec.decode(request.cookies.get(COOKIE), now_seconds())
    if session is None:
        return None
    account = await state.services.store.directory.get_account_by_id(session.account_id)
    if account is None or account.disabled or account.credentials_serial != session.serial:
        return None
    return Principal(account, "cookie", session)


async def _from_bearer(request: Request, state: WebState) -> Principal | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > _MAX_TOKEN:
        return None
    if state.token_authenticator is None:
        return None
    account = await state.token_authenticator(state.services, token.strip())
    if account is None or account.disabled:
        return None
    return Principal(account, "bearer")


async def authenticate(request: Request) -> Principal | None:
    """The caller, or None; checks the CSRF token of a cookie-authenticated write (see the module docstring)."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        principal: Principal = cached
        return principal
    state = web_state(request)
    found = await _from_cookie(request, state) or await _from_bearer(request, state)
    if found is not None and found.via == "cookie" and request.method in UNSAFE_METHODS:
        await _check_csrf(request, found)
    request.state.principal = found
    return found


async def _check_csrf(request: Request, principal: Principal) -> None:
    assert principal.session is not None
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent:
        raise CsrfRejected(N_("This request needs the session's CSRF token (the X-CSRF-Token header or the "
                              "csrf_token form field): reload the page and try again."))
    if not hmac.compare_digest(sent.encode("utf-8", "replace")[:_MAX_TOKEN],
                               principal.session.csrf.encode("ascii")):
        raise CsrfRejected(N_("The CSRF token does not match this session: reload the page and try again."))


async def optional_account(request: Request) -> Principal | None:
    return await authenticate(request)


async def require_account(request: Request) -> Principal:
    principal = await authenticate(request)
    if principal is None:
        raise Unauthenticated()
    return principal
