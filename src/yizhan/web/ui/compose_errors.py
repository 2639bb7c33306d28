"""Failures of the compose routes as JSON error bodies (the page's script reads them; the API gets the same body).

`{"error": {"code", "message", "fields": [{"field", "problem"}]}}`, with the status of web/errors.py. `fields`
names the form field a failure is about (to, cc, bcc, from, attachments, body…), so the page shows the message
next to it. These routes are called by script, so even outside /api/ they answer JSON, never the error page.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from yizhan.util.errors import NotFound, PermissionDenied, QuotaExceeded, YizhanError
from yizhan.web.errors import error_response, is_api, status_of


def json_error(status: int, code: str, message: str, fields: list[dict[str, Any]] | None = None) -> Response:
    """The API's error body, also for these page routes (called by script, which reads JSON)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return JSONResponse({"error": body}, status_code=status)


def field_failure(request: Request, exc: YizhanError) -> Response:
    """The error body, with `fields` when the failure is about one field."""
    status, code = status_of(exc)
    message = str(exc)
    name = getattr(exc, "field", None)
    if name is None and isinstance(exc, NotFound) and "upload" in message:
        name = "attachments"
    if name is None and isinstance(exc, NotFound | QuotaExceeded) and "<" in message:
        name = "to"
    if name is None and isinstance(exc, PermissionDenied):
        name = "from"
    fields = [{"field": name, "problem": message}] if name else None
    if is_api(request):
        return error_response(request, status, code, message, fields=fields)
    return json_error(status, code, message, fields)


