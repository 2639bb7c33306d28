"""Fixtures for the admin console tests: a real server on port 0 (resolving only through the test DNS server, so
no traffic leaves 127.0.0.0/8) with an admin, a domain-admin of another domain and users, and helpers for signed-in
httpx clients that send the session's CSRF token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.dnsserver import DnsTestServer
from tests.web.conftest import ADDRESS, PASSWORD, Web, running

ADMIN = "root@example.com"
DOMAIN_ADMIN = "boss@other.org"
JOE = "joe@other.org"
USER = ADDRESS  # alice@example.com, role user
SECRET = "long enough 1"


@dataclass
class AdminWeb:
    web: Web
    dns: DnsTestServer

    @property
    def services(self) -> Any:
        return self.web.services

    @asynccontextmanager
    async def as_(self, address: str, password: str = SECRET, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
        """A client signed in as `address`, whose writes carry the session's CSRF token."""
        async with self.web.signed_in(address, password, **kwargs) as client:
            session = await client.get("/api/v1/session")
            assert session.status_code == 200, session.text
            client.headers["X-CSRF-Token"] = session.json()["csrf_token"]
            yield client


@pytest.fixture
async def admin_web(data_dir: Path, dns_server: DnsTestServer) -> AsyncIterator[AdminWeb]:
    async with running(data_dir, dns={"nameservers": [dns_server.address]},
                       queue={"retry_schedule": [600], "connect_timeout": 2.0}) as web:
        directory = web.services.directory
        await directory.add_account(ADMIN, SECRET, role="admin", display_name="Root")
        await directory.add_domain("other.org")
        await directory.add_account(DOMAIN_ADMIN, SECRET, role="domain-admin", display_name="Boss")
        await directory.add_account(JOE, SECRET, display_name="Joe")
        yield AdminWeb(web, dns_server)


__all__ = ["ADMIN", "DOMAIN_ADMIN", "JOE", "PASSWORD", "SECRET", "USER", "AdminWeb"]
