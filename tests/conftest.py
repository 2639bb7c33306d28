"""Shared fixtures: a temporary data directory, the services over it, and a running server on port 0."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.dnsserver import DnsTestServer
from yizhan.app.server import Server
from yizhan.config.paths import DataPaths
from yizhan.config.settings import Settings, load_settings
from yizhan.services.runtime import Services

ALL_PORTS_FREE = {name: 0 for name in ("smtp", "submission", "smtps", "lmtp", "imap", "imaps", "pop3", "pop3s",
                                        "http")}


def make_settings(**overrides: object) -> Settings:
    """Settings with every port 0 (the kernel picks a free one), unaffected by the caller's environment."""
    merged: dict[str, object] = {"listen": dict(ALL_PORTS_FREE)}
    merged.update(overrides)
    return load_settings(None, environ={}, overrides=merged)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def services(data_dir: Path) -> AsyncIterator[Services]:
    svc = await Services.open(make_settings(), DataPaths(data_dir))
    try:
        yield svc
    finally:
        await svc.close()


@pytest.fixture
async def mailbox(services: Services) -> Services:
    """Services with the domain example.com and the account alice@example.com (password 'password1')."""
    await services.directory.add_domain("example.com")
    await services.directory.add_account("alice@example.com", "password1")
    return services


@pytest.fixture
async def server(data_dir: Path) -> AsyncIterator[Server]:
    srv = Server(make_settings(), DataPaths(data_dir))
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def yizhan_command() -> list[str]:
    """How to run the installed `yizhan` command (the console script next to this Python)."""
    script = Path(sys.executable).with_name("yizhan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "yizhan.app.main"]


def clean_environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIZHAN_")}
    env["YIZHAN_DATA"] = str(data_dir)
    env["COLUMNS"] = "200"
    return env


@pytest.fixture
async def dns_server() -> AsyncIterator[DnsTestServer]:
    """The project's DNS server for tests, started on 127.0.0.1 (UDP and TCP, port picked by the kernel), empty.

    Point a resolver at it with `Resolver([dns_server.address])` or settings `dns={"nameservers": [...]}`."""
    async with DnsTestServer() as server:
        yield server
