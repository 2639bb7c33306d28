"""Fixtures for the web tests: a real server on port 0 (every listener, the web on its own socket), an account
in it, and httpx clients talking to the web over real TCP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_settings
from yizhan.app.server import Server
from yizhan.config.paths import DataPaths

ADDRESS = "alice@example.com"
PASSWORD = "correct horse 1"
# Fast failures and a low lockout threshold, so lockout is reached in a few requests.
AUTH = {"failure_delay": 0, "max_failures_per_account": 3, "max_failures_per_ip": 100}


@dataclass
class Web:
    server: Server
    base: str

    @property
    def services(self) -> Any:
        assert self.server.services is not None
        return self.server.services

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, timeout=30, **kwargs)

    @asynccontextmanager
    async def signed_in(self, address: str = ADDRESS, password: str = PASSWORD,
                        **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
        """A client holding a session cookie, made through the sign-in page."""
        async with self.client(**kwargs) as client:
            reply = await client.post("/signin", data={"address": address, "password": password, "next": "/"})
            assert reply.status_code == 303, reply.text
            yield client


@asynccontextmanager
async def running(data_dir: Path, **settings: Any) -> AsyncIterator[Web]:
    server = Server(make_settings(auth=AUTH, **settings), DataPaths(data_dir))
    await server.start()
    try:
        assert server.services is not None
        if await server.services.store.directory.get_domain("example.com") is None:
            await server.services.directory.add_domain("example.com")
            await server.services.directory.add_account(ADDRESS, PASSWORD, display_name="Alice Wong")
        yield Web(server, f"http://127.0.0.1:{server.port('http')}")
    finally:
        await server.stop()


@pytest.fixture
async def web(data_dir: Path) -> AsyncIterator[Web]:
    async with running(data_dir) as started:
        yield started


@pytest.fixture
def web_with(data_dir: Path) -> Callable[..., Any]:
    """`async with web_with(web={...}) as web:` — a server with other settings."""

    def start(**settings: Any) -> Any:
        return running(data_dir, **settings)

    return start


def csrf_of(page: str) -> str:
    """The CSRF token a rendered page carries in its <meta name="csrf-token">."""
    marker = '<meta name="csrf-token" content="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]
