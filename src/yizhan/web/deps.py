"""Who is calling: the dependencies every page and API route uses to find the signed-in account.

`authenticate` tries, in order, the session cookie (web/sessions.py) and then, for paths under /api/ only,
`Authorization: Bearer <token>` (a personal API token, checked by `WebState.token_authenticator`, by default
services/tokens.py). `require_account` is the dependency for anything that needs an account; `require_scope(s)`
for anything that also needs scope `s` (the admin API uses `require_scope("admin")`).

Invariants:
- A session counts only while its account exists, is enabled and still has the `credentials_serial` the session
  was issued with (read from the store on every request, so a password change or a disabled account ends
  sessions at once, in this process and after a change made by the CLI).
- Every state-changing request (POST, PUT, PATCH, DELETE) authenticated by the cookie must carry the session's
  CSRF token, in the `X-CSRF-Token` header or the `csrf_token` form field, compared in constant time; otherwise
  `CsrfRejected` (403). This check lives here, where the cookie is accepted, so no route can forget it. Requests
  authenticated by a bearer token carry no ambient credential and need no CSRF token.
- Scopes are enforced here, in one place (`_check_scope`), for every authenticated request: GET, HEAD and OPTIONS
  need "read", every other method "write", and paths under /api/v1/admin/ need "admin" instead. A cookie session
  holds every scope the account's role allows ("read", "write", plus "admin" for admin and domain-admin roles); a
  token holds the scopes it was created with ("admin" only while the role still allows it).
- A bearer token that is sent but not valid (unknown, revoked, expired, disabled account) is refused with 401 and
  `WWW-Authenticate: Bearer error="invalid_token"`; a valid one lacking the scope with 403 and
  `error="insufficient_scope"` (RFC 6750 section 3.1). The token's last use is recorded by the token service.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from fastapi import Request

from yizhan.services.runtime import Services
from yizhan.services.tokens import ADMIN_ROLES
from yizhan.store.records import AccountRecord
from yizhan.util.clock import now_seconds
from yizhan.util.errors import AuthenticationFailed
from yizhan.web.errors import BearerRefused, CsrfRejected, Unauthenticated
from yizhan.web.i18n import N_, Translator
from yizhan.web.security import UNSAFE_METHODS
from yizhan.web.sessions import COOKIE, Session, SessionCodec

CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_MAX_TOKEN = 512

ADMIN_PATH = "/api/v1/admin/"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Given the services and a bearer token, the account and the scopes it grants; AuthenticationFailed otherwise.
TokenAuthenticator = Callable[[Services, str], Awaitable[tuple[AccountRecord, tuple[str, ...]]]]


async def check_api_token(services: Services, token: str) -> tuple[AccountRecord, tuple[str, ...]]:
    """The default token authenticator: personal API tokens (services/tokens.py)."""
    return await services.tokens.authenticate(token)


def role_scopes(account: AccountRecord) -> tuple[str, ...]:
    """The scopes a cookie session holds: everything the account's role allows."""
    return ("read", "write", "admin") if account.role in ADMIN_ROLES else ("read", "write")


@dataclass
class WebState:
    """What the web application holds: the services and the session codec (on `app.state.web`)."""

    services: Services
    codec: SessionCodec
    ports: Callable[[], dict[str, int]]
    token_authenticator: TokenAuthenticator | None = check_api_token
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Principal:
    """The account a request acts for, how it proved it, and what it may do (`scopes`, see the docstring)."""

    account: AccountRecord
    via: Literal["cookie", "bearer"]
    session: Session | None = None
    scopes: tuple[str, ...] = ()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


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
    return Principal(account, "cookie", session, role_scopes(account))


async def _from_bearer(request: Request, state: WebState) -> Principal | None:
    header = request.headers.get("authorization")
    if header is None or not request.url.path.startswith("/api/"):
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    if not token or len(token) > _MAX_TOKEN or state.token_authenticator is None:
        raise BearerRefused(401, "invalid_token", N_("The API token is not valid (unknown, revoked or expired): "
                                                      "create a new one under Settings or with POST /api/v1/tokens."))
    try:
        account, scopes = await state.token_authenticator(state.services, token)
    except AuthenticationFailed:
        account = None
    if account is None or account.disabled:
        raise BearerRefused(401, "invalid_token", N_("The API token is not valid (unknown, revoked or expired, or "
                                                      "its account is disabled): create a new one."))
    return Principal(account, "bearer", None, tuple(scopes))


def needed_scope(request: Request) -> str:
    """The scope a request needs (see the module docstring)."""
    if request.url.path.startswith(ADMIN_PATH):
        return "admin"
    return "read" if request.method in _READ_METHODS else "write"


def _check_scope(principal: Principal, scope: str) -> None:
    if principal.has_scope(scope):
        return
    if principal.via == "bearer":
        raise BearerRefused(403, "insufficient_scope", N_("This API token lacks the '%(scope)s' scope this request "
                                                           "needs: create a token with it."), scope=scope)
    raise BearerRefused(403, "permission_denied", N_("Your account is not allowed to do this."), scope=scope)


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
    if found is not None:
        _check_scope(found, needed_scope(request))
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


def require_scope(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the signed-in caller, who must hold `scope` (403 otherwise; 401 when not signed in).

    `require_scope("admin")` admits cookie sessions of admin and domain-admin accounts and tokens with the admin
    scope of such accounts; what each may do within the admin API is for the admin service to decide."""

    async def dependency(request: Request) -> Principal:
        principal = await require_account(request)
        _check_scope(principal, scope)
        return principal

    return dependency
