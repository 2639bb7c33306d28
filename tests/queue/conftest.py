"""Fixtures for queue tests: services configured to resolve through the test DNS server and deliver to a port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.support.dnsserver import DnsTestServer
from yizhan.config.paths import DataPaths
from yizhan.services.runtime import Services

OpenServices = Callable[..., Awaitable[Services]]


@pytest.fixture
async def open_services(tmp_path: Path, dns_server: DnsTestServer) -> AsyncIterator[OpenServices]:
    """`await open_services(port, **queue_settings)`: Services over one data directory (reopenable), with the
    domain example.com and alice@example.com, resolving via the test DNS server and delivering to `port`."""
    opened: list[Services] = []

    async def open_(port: int, **queue: Any) -> Services:
        settings = make_settings(
            server={"hostname": "out.example.com", "domain": "example.com"},
            dns={"nameservers": [dns_server.address]},
            queue={"remote_port": port, "retry_schedule": [1], "connect_timeout": 5.0,
                   "command_timeout": 10.0, **queue})
        services = await Services.open(settings, DataPaths(tmp_path / "data"))
        if await services.store.directory.get_domain("example.com") is None:
            await services.directory.add_domain("example.com")
            await services.directory.add_account("alice@example.com", "password1")
        opened.append(services)
        return services

    yield open_
    for services in opened:
        await services.close()
