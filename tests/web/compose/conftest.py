"""Helpers for the compose tests: a second local account, a signed-in client with its CSRF token, and reading
delivered mail back through the services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.web.conftest import ADDRESS, PASSWORD, Web, csrf_of

BOB = "bob@example.com"
BOB_PASSWORD = "bobs password 1"

# The smallest PNG: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@dataclass
class Client:
    http: httpx.AsyncClient
    csrf: str

    async def post_json(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(path, json=body, headers={"X-CSRF-Token": self.csrf})

    async def upload(self, name: str, data: bytes, content_type: str = "application/octet-stream",
                     inline: bool = False) -> httpx.Response:
        return await self.http.post("/compose/uploads", files={"file": (name, data, content_type)},
                                    data={"inline": "1"} if inline else {}, headers={"X-CSRF-Token": self.csrf})


async def add_bob(web: Web) -> None:
    if not await web.services.store.directory.accounts_by_address([BOB]):
        await web.services.directory.add_account(BOB, BOB_PASSWORD, display_name="Bob Li")


@asynccontextmanager
async def signed_in(web: Web, address: str = ADDRESS, password: str = PASSWORD) -> AsyncIterator[Client]:
    async with web.signed_in(address, password) as http:
        page = await http.get("/compose")
        assert page.status_code == 200, page.text
        yield Client(http, csrf_of(page.text))


async def inbox_of(web: Web, address: str) -> list[tuple[int, bytes]]:
    """(uid, raw) of every message in the account's INBOX."""
    account = await web.services.directory.account(address)
    folder = await web.services.mailbox.folder(account.id, "INBOX")
    snapshot = await web.services.mailbox.open(account.id, "INBOX")
    entries = await web.services.mailbox.fetch_data(folder, [e.uid for e in snapshot.entries])
    return [(e.uid, await web.services.mailbox.read(e.blob)) for e in entries]
