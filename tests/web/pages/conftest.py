"""Helpers for the page tests (contacts, notes, settings): a second account, and form posts that carry the CSRF
token the way the pages do (the hidden csrf_token field). The server fixtures are tests/web/conftest.py's."""

from __future__ import annotations

from typing import Any

import httpx

from tests.web.conftest import Web, csrf_of

BOB = "bob@example.com"
BOB_PASSWORD = "battery staple 2"


async def add_bob(web: Web) -> None:
    await web.services.directory.add_account(BOB, BOB_PASSWORD, display_name="Bob Li")


async def token_of(client: httpx.AsyncClient, page: str = "/settings") -> str:
    reply = await client.get(page)
    assert reply.status_code == 200, reply.text
    return csrf_of(reply.text)


async def post_form(client: httpx.AsyncClient, url: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
    """POST a form with the session's CSRF token, as a page's form would (a list value repeats the field)."""
    fields: dict[str, Any] = {key: [str(v) for v in value] if isinstance(value, list) else str(value)
                              for key, value in data.items()}
    fields["csrf_token"] = await token_of(client)
    return await client.post(url, data=fields, **kwargs)
