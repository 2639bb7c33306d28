"""Documented error answers for API v1 routes: `errors(400, 404)` gives the `responses=` of a route or router, each
with the ErrorBody model (web/errors.py makes every failure that body, so the schema tells the truth).

401, 403 and 422 are documented for every v1 route by the v1 router itself (web/api/v1/__init__.py).
"""

from __future__ import annotations

from typing import Any

from yizhan.web.api.v1.models import ErrorBody

DESCRIPTIONS = {
    400: "Bad input (invalid_input): the message says what to fix",
    401: "No session cookie or API token, or an invalid one (WWW-Authenticate says why)",
    403: "Refused: CSRF token missing or wrong, a scope the token lacks (insufficient_scope), or not allowed",
    404: "No such object for this account (another account's objects are not found either)",
    409: "It exists already (already_exists)",
    413: "The request body is too large",
    422: "The request does not match the schema; `fields` says where",
    429: "Too many failed attempts: wait Retry-After seconds (locked_out)",
    507: "A limit of the account is reached (quota_exceeded): delete something first",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` documenting `statuses` with the error body."""
    return {status: {"model": ErrorBody, "description": DESCRIPTIONS[status]} for status in statuses}
