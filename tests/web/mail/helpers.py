"""Shared helpers of the webmail tests: accounts, delivered mail and folder ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.mailfactory import make_message
from tests.web.conftest import ADDRESS, Web

BOB = "bob@example.com"
BOB_PASSWORD = "battery staple 2"
BASE = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


async def account_id(web: Web, address: str = ADDRESS) -> int:
    account = await web.services.store.directory.get_account(address)
    assert account is not None
    return int(account.id)


async def folder_id(web: Web, name: str, address: str = ADDRESS) -> int:
    folder = await web.services.mailbox.folder(await account_id(web, address), name)
    return int(folder.id)


async def add_bob(web: Web) -> None:
    await web.services.directory.add_account(BOB, BOB_PASSWORD, display_name="Bob")


async def deliver(web: Web, count: int, to: str = ADDRESS, **kwargs: Any) -> None:
    for i in range(count):
        raw = make_message(subject=kwargs.get("subject", f"message {i:02d}"), date=BASE + timedelta(hours=i),
                           body="x" * (200 + 50 * i), to=to,
                           **{k: v for k, v in kwargs.items() if k != "subject"})
        await web.services.delivery.deliver(raw, "bob@example.org", [to])
