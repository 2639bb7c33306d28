"""Fixtures for the SMTP tests: a running server on port 0 (hosting example.com with alice, bob and a few aliases),
resolving through the project's test DNS server, and helpers to drive smtplib from the test's event loop.

smtplib is blocking and the server runs on the test's loop, so every client call goes through `asyncio.to_thread`
(`env.run(...)`).
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import make_settings
from tests.support.dnsserver import DnsTestServer
from yizhan.app.server import Server
from yizhan.config.paths import DataPaths
from yizhan.services.runtime import Services

PASSWORD = "password1"
T = TypeVar("T")


def client_context() -> ssl.SSLContext:
    return ssl._create_unverified_context()


@dataclass
class SmtpEnv:
    server: Server
    data_dir: Path
    dns: DnsTestServer

    @property
    def services(self) -> Services:
        assert self.server.services is not None
        return self.server.services

    def port(self, name: str = "smtp") -> int:
        return self.server.port(name)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def connect(self, name: str = "smtp", helo: str = "client.example.net") -> smtplib.SMTP:
        client = await self.run(smtplib.SMTP, "127.0.0.1", self.port(name), timeout=30)
        await self.run(client.ehlo, helo)
        return client

    async def submission(self, user: str = "alice@example.com", password: str = PASSWORD) -> smtplib.SMTP:
        client = await self.connect("submission")
        await self.run(client.starttls, context=client_context())
        await self.run(client.ehlo, "client.example.net")
        await self.run(client.login, user, password)
        return client

    async def close(self, client: smtplib.SMTP) -> None:
        try:
            await self.run(client.quit)
        except (smtplib.SMTPException, OSError):
            client.close()

    async def inbox(self, address: str) -> list[bytes]:
        """The raw bytes of every message in `address`'s INBOX, oldest first."""
        account = await self.services.directory.account(address)
        folder = await self.services.store.folders.get(account.id, "INBOX")
        assert folder is not None
        page = await self.services.store.messages.page(folder.id, 0, 500, newest_first=False)
        return [await asyncio.to_thread(self.services.store.blobs.read, item.blob) for item in page]

    def raw_socket(self, name: str = "smtp") -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port(name)), timeout=30)
        return sock


def letter(sender: str, recipient: str, subject: str = "hello", body: str = "Hello there.\r\n",
           extra: str = "") -> bytes:
    return (f"From: {sender}\r\nTo: {recipient}\r\nSubject: {subject}\r\n"
            f"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <{subject.replace(' ', '.')}@test>\r\n{extra}"
            f"\r\n{body}").encode()


def head_of(raw: bytes) -> str:
    """The header section, unfolded (RFC 5322 §2.2.3)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    return head.replace("\r\n ", " ").replace("\r\n\t", " ")


async def make_env(tmp_path: Path, dns: DnsTestServer, **overrides: Any) -> Server:
    settings: dict[str, Any] = {
        "server": {"hostname": "mx.example.com", "domain": "example.com"},
        "dns": {"nameservers": [dns.address], "timeout": 2},
        "auth": {"failure_delay": 0},
        "queue": {"retry_schedule": [3600]},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key] = {**settings[key], **value}
        else:
            settings[key] = value
    server = Server(make_settings(**settings), DataPaths(tmp_path / "data"))
    await server.start()
    services = server.services
    assert services is not None
    for address in ("alice@example.com", "bob@example.com"):
        await services.directory.add_account(address, PASSWORD)
    await services.directory.add_alias("team@example.com", ["alice@example.com", "bob@example.com"])
    await services.directory.add_alias("postmaster@example.com", ["alice@example.com"])
    return server


@pytest.fixture
def smtp_overrides() -> dict[str, Any]:
    """Settings a test module may override (e.g. limits)."""
    return {}


@pytest.fixture
async def env(tmp_path: Path, dns_server: DnsTestServer, smtp_overrides: dict[str, Any]) -> AsyncIterator[SmtpEnv]:
    server = await make_env(tmp_path, dns_server, **smtp_overrides)
    try:
        yield SmtpEnv(server, tmp_path / "data", dns_server)
    finally:
        await server.stop()
