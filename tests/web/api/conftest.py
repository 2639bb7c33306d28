"""Fixtures for the API v1 tests: clients authenticated with a personal API token (over real sockets, against the
real server of tests/web/conftest.py), and a second account to try cross-account access with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.web.conftest import ADDRESS, Web

BOB = "bob@example.com"
BOB_PASSWORD = "bobs password 1"


async def make_token(web: Web, address: str = ADDRESS, scopes: tuple[str, ...] = ("read", "write"),
                     expires_in_days: int | None = None) -> str:
    account = await web.services.directory.account(address)
    created = await web.services.tokens.create(account, "test", scopes, expires_in_days)
    secret: str = created.secret
    return secret


@asynccontextmanager
async def bearer(web: Web, token: str, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with web.client(headers={"Authorization": f"Bearer {token}"}, **kwargs) as client:
        yield client


@asynccontextmanager
async def as_account(web: Web, address: str = ADDRESS,
                     scopes: tuple[str, ...] = ("read", "write")) -> AsyncIterator[httpx.AsyncClient]:
    """A client acting for `address` with a new token of `scopes`."""
    async with bearer(web, await make_token(web, address, scopes)) as client:
        yield client


async def add_bob(web: Web) -> None:
    await web.services.directory.add_account(BOB, BOB_PASSWORD, display_name="Bob Li")


async def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    """The X-CSRF-Token header of a cookie-signed-in client's session."""
    reply = await client.get("/api/v1/session")
    assert reply.status_code == 200, reply.text
    return {"X-CSRF-Token": reply.json()["csrf_token"]}


def error_of(reply: httpx.Response) -> dict[str, Any]:
    body = reply.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    return error
