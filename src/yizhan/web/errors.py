"""The one place where failures become HTTP answers, for the API and for pages.

API requests (paths under /api/) get JSON `{"error": {"code": ..., "message": ...}}` with the status below (plus
`"fields"` for validation errors, naming each bad field); pages get the error page in the reader's language,
except an unauthenticated page request, which is sent to the sign-in page (303) with the page to return to.

| failure                                   | status | code                  |
|-------------------------------------------|--------|-----------------------|
| NotFound, unknown path                    | 404    | not_found             |
| AlreadyExists                             | 409    | already_exists        |
| InvalidInput                              | 400    | invalid_input         |
| request validation (FastAPI's 422)        | 422    | invalid_request       |
| unreadable body (FastAPI's 400)           | 400    | invalid_request       |
| AuthenticationFailed                      | 401    | authentication_failed |
| Unauthenticated (no or expired session)   | 401    | unauthenticated       |
| BearerRefused: bad API token              | 401    | invalid_token         |
| BearerRefused: token lacks the scope      | 403    | insufficient_scope    |
| BearerRefused: role lacks the scope       | 403    | permission_denied     |
| PermissionDenied                          | 403    | permission_denied     |
| CsrfRejected                              | 403    | csrf_failed           |
| QuotaExceeded                             | 507    | quota_exceeded        |
| LockedOut (with Retry-After)              | 429    | locked_out            |
| TemporaryFailure (with Retry-After: 5)    | 503    | temporary_failure     |
| body too large (web/security.py)          | 413    | too_large             |
| any other HTTP error from routing         | as is  | http_<status>         |
| anything else: a fault of ours, logged    | 500    | internal_error        |

Invariant: messages are the exception's own (YizhanError messages are written to be shown) or translated text;
never a traceback, never a secret.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from yizhan.util.errors import (
    AlreadyExists,
    AuthenticationFailed,
    InvalidInput,
    LockedOut,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    TemporaryFailure,
    YizhanError,
)
from yizhan.web.i18n import N_, current
from yizhan.web.security import BodyTooLarge, security_headers

log = logging.getLogger(__name__)


class Unauthenticated(Exception):
    """No valid session (or token) came with a request that needs one."""


class BearerRefused(Exception):
    """A request's credential does not allow it: an invalid API token (401) or a missing scope (403). The answer
    carries `WWW-Authenticate: Bearer error="<code>"` (RFC 6750 section 3.1) for token failures."""

    def __init__(self, status: int, code: str, message: str, scope: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.scope = status, code, message, scope


class CsrfRejected(Exception):
    """A state-changing request authenticated by the cookie came without the session's CSRF token."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Most specific first: the first class an exception is an instance of decides.
_STATUS: tuple[tuple[type[YizhanError], int, str], ...] = (
    (LockedOut, 429, "locked_out"),
    (AuthenticationFailed, 401, "authentication_failed"),
    (NotFound, 404, "not_found"),
    (AlreadyExists, 409, "already_exists"),
    (InvalidInput, 400, "invalid_input"),
    (PermissionDenied, 403, "permission_denied"),
    (QuotaExceeded, 507, "quota_exceeded"),
    (TemporaryFailure, 503, "temporary_failure"),
)

_HTTP_MESSAGES = {
    400: N_("The request body could not be read: check its format and its Content-Type."),
    404: N_("There is nothing at this address."),
    405: N_("This method is not allowed here."),
    413: N_("The request is too large."),
}


def status_of(exc: YizhanError) -> tuple[int, str]:
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, code
    return 400, "error"


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None, fields: list[dict[str, Any]] | None = None) -> Response:
    """The answer for a failure: JSON for the API, the error page otherwise."""
    if is_api(request):
        body: dict[str, Any] = {"code": code, "message": message}
        if fields is not None:
            body["fields"] = fields
        return JSONResponse({"error": body}, status_code=status, headers=headers)
    from yizhan.web.render import render

    return render(request, "error.html", {"status": status, "message": message}, status=status, headers=headers)


def _(message: str) -> str:
    return current().gettext(message)


async def _yizhan_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, YizhanError)
    status, code = status_of(exc)
    headers = None
    if isinstance(exc, LockedOut):
        headers = {"Retry-After": str(exc.retry_after)}
        message = _("Too many failed sign-ins: try again in %(seconds)d seconds.") % {
            "seconds": exc.retry_after}
    elif isinstance(exc, AuthenticationFailed):
        message = _("Wrong address or password.")
    elif isinstance(exc, TemporaryFailure):
        headers = {"Retry-After": "5"}
        message = str(exc)
    else:
        message = str(exc)
    return error_response(request, status, code, message, headers)


async def _unauthenticated(request: Request, exc: Exception) -> Response:
    if is_api(request):
        return error_response(request, 401, "unauthenticated",
                              _("Sign in first: this needs a session cookie or an API token."),
                              headers={"WWW-Authenticate": 'Bearer realm="yizhan"'})
    from urllib.parse import quote

    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)


async def _bearer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BearerRefused)
    headers = None
    if exc.code in ("invalid_token", "insufficient_scope"):
        challenge = f'Bearer realm="yizhan", error="{exc.code}"'
        headers = {"WWW-Authenticate": challenge + (f', scope="{exc.scope}"' if exc.scope else "")}
    return error_response(request, exc.status, exc.code, _(exc.message) % {"scope": exc.scope}, headers=headers)


async def _csrf(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CsrfRejected)
    return error_response(request, 403, "csrf_failed", _(exc.message))


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:] or parts
    return ".".join(parts)


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = [{"field": _field_name(item.get("loc", ())), "problem": str(item.get("msg", ""))[:200]}
              for item in exc.errors()[:20]]
    summary = "; ".join(f"{item['field']}: {item['problem']}" for item in fields) or "the request is malformed"
    message = _("The request is not valid: %(details)s") % {"details": summary}
    return error_response(request, 422, "invalid_request", message, fields=fields)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    known = _HTTP_MESSAGES.get(exc.status_code)
    code = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status_code,
                                                                                 f"http_{exc.status_code}")
    message = _(known) if known else str(exc.detail)
    return error_response(request, exc.status_code, code, message, headers=dict(exc.headers or {}))


async def _too_large(request: Request, exc: Exception) -> Response:
    return error_response(request, 413, "too_large", _("The request is too large."))


async def _internal(request: Request, exc: Exception) -> Response:
    log.exception("web: %s %s failed", request.method, request.url.path, exc_info=exc)
    response = error_response(request, 500, "internal_error",
                              _("Something went wrong on the server; it has been logged."))
    # This answer leaves through Starlette's outermost layer, past the middleware that adds these.
    for name, value in security_headers(request.url.path, request.url.scheme == "https"):
        response.headers[name] = value
    return response


def install(app: FastAPI) -> None:
    """Register every mapping above on `app`."""
    app.add_exception_handler(YizhanError, _yizhan_error)
    app.add_exception_handler(Unauthenticated, _unauthenticated)
    app.add_exception_handler(CsrfRejected, _csrf)
    app.add_exception_handler(BearerRefused, _bearer)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(Exception, _internal)
