"""Fixtures for the POP3 tests: a running server on port 0 with alice@example.com, and TLS clients that trust it."""

from __future__ import annotations

import asyncio
import poplib
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import make_settings
from yizhan.app.server import Server
from yizhan.config.paths import DataPaths

ADDRESS = "alice@example.com"
PASSWORD = "password1"
T = TypeVar("T")


@dataclass
class Pop3Env:
    server: Server
    data_dir: Path

    @property
    def port(self) -> int:
        return self.server.port("pop3")

    @property
    def tls_port(self) -> int:
        return self.server.port("pop3s")

    def context(self) -> ssl.SSLContext:
        """A client context that verifies the server's (self-signed) certificate for 127.0.0.1."""
        return ssl.create_default_context(cafile=str(self.data_dir / "tls" / "cert.pem"))

    def plain(self) -> poplib.POP3:
        return poplib.POP3("127.0.0.1", self.port, timeout=30)

    def stls(self) -> poplib.POP3:
        client = self.plain()
        client.stls(self.context())
        return client

    def implicit(self) -> poplib.POP3_SSL:
        return poplib.POP3_SSL("127.0.0.1", self.tls_port, context=self.context(), timeout=30)

    def login(self, address: str = ADDRESS, password: str = PASSWORD) -> poplib.POP3:
        client = self.implicit()
        client.user(address)
        client.pass_(password)
        return client

    async def deliver(self, raw: bytes, to: str = ADDRESS) -> None:
        assert self.server.services is not None
        report = await self.server.services.delivery.deliver(raw, "sender@example.org", [to])
        assert all(outcome.ok for outcome in report.outcomes)

    async def inbox_uids(self, address: str = ADDRESS) -> list[int]:
        services = self.server.services
        assert services is not None
        account = await services.store.directory.get_account(address)
        assert account is not None
        inbox = (await services.store.folders.by_special_use([account.id], "inbox"))[account.id]
        return await services.store.messages.uids(inbox.id)


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking client (poplib, a subprocess) while the server keeps serving on this loop."""
    return await asyncio.to_thread(function, *args)


def pop3_settings(**pop3: object) -> dict[str, object]:
    return {"auth": {"failure_delay": 0, "max_failures_per_account": 3}, "pop3": pop3}


@pytest.fixture
def pop3_overrides() -> dict[str, object]:
    """Override in a test module to change the server's settings."""
    return pop3_settings()


@pytest.fixture
async def pop3(data_dir: Path, pop3_overrides: dict[str, object]) -> AsyncIterator[Pop3Env]:
    server = Server(make_settings(**pop3_overrides), DataPaths(data_dir))
    await server.start()
    try:
        assert server.services is not None
        await server.services.directory.add_domain("example.com")
        await server.services.directory.add_account(ADDRESS, PASSWORD)
        yield Pop3Env(server, data_dir)
    finally:
        await server.stop()
