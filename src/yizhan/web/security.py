"""Protections applied to every web request and response, as plain ASGI middleware.

- `SecurityHeaders`: every response carries a strict Content-Security-Policy (scripts, styles and images only
  from this origin: no inline script or style, no eval; frames only from this origin, for the reading pane's
  sandboxed message body and PDF previews; nothing may frame our pages), X-Content-Type-Options: nosniff,
  Referrer-Policy: same-origin (links out never reveal our URLs; same-origin requests keep their Origin header
  for the check below), X-Frame-Options: DENY for browsers without frame-ancestors,
  Cross-Origin-Opener-Policy, Permissions-Policy, and `Cache-Control: no-store` on everything but static files,
  so mail is not left in shared caches. Over https, Strict-Transport-Security too.
- `CrossSiteGuard`: a state-changing request (POST, PUT, PATCH, DELETE) whose `Origin` names another host, or
  that the browser marks `Sec-Fetch-Site: cross-site`, is refused with 403 before any route runs. This is the
  defence for requests without a session yet (sign-in: "login CSRF"); requests with a session also need the
  session's CSRF token (web/deps.py). Requests without those headers (curl, API clients) pass here.
- `BodyLimit`: a request body larger than `web.max_upload_size` is refused with 413: at once when
  Content-Length says so, or as soon as the bytes read pass the limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "manifest-src 'self'")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STATIC_PREFIX = "/static/"


def security_headers(path: str, https: bool) -> list[tuple[str, str]]:
    headers = [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if not path.startswith(_STATIC_PREFIX):
        headers.append(("Cache-Control", "no-store"))
    if https:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _encoded(security_headers(scope.get("path", ""), scope.get("scheme") == "https"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {key.lower() for key, _ in message.get("headers", ())}
                message["headers"] = [*message.get("headers", ()), *(item for item in extra if item[0] not in names)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _encoded(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


class CrossSiteGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in UNSAFE_METHODS:
            problem = cross_site_problem(_header(scope, b"origin"), _header(scope, b"host"),
                                         _header(scope, b"sec-fetch-site"))
            if problem:
                await _refuse(send, 403, "csrf_failed", problem)
                return
        await self.app(scope, receive, send)


def cross_site_problem(origin: str | None, host: str | None, fetch_site: str | None) -> str | None:
    """Why a state-changing request looks cross-site, or None when it does not."""
    if fetch_site is not None and fetch_site.strip().lower() == "cross-site":
        return "cross-site request refused (Sec-Fetch-Site: cross-site)"
    if origin is None:
        return None
    if origin.strip().lower() == "null":
        return "cross-site request refused (Origin: null)"
    netloc = urlsplit(origin.strip()).netloc.lower()
    if not host or netloc != host.strip().lower():
        return "cross-site request refused: the Origin header does not name this server"
    return None


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"the request body is larger than the limit of {self.max_bytes} bytes"
        length = _header(scope, b"content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > self.max_bytes):
            await _refuse(send, 413, "too_large", message)
            return
        seen = 0
        started = exceeded = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            item = await receive()
            if item["type"] == "http.request":
                seen += len(item.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return item

        async def tracking_send(item: Message) -> None:
            nonlocal started
            if exceeded:
                # Whatever the app made of the cut body (FastAPI calls it a parse error, 400), the answer is 413.
                if item["type"] == "http.response.start" and not started:
                    started = True
                    await _refuse(send, 413, "too_large", message)
                return
            if item["type"] == "http.response.start":
                started = True
            await send(item)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                return
            await _refuse(send, 413, "too_large", message)
