"""A fresh PostgreSQL database for a test, on the machine's server at 127.0.0.1 (trust authentication); tests that
use it skip when no server is reachable. Each database is created for one test and dropped after it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

PG_ADMIN = "postgresql://postgres@127.0.0.1/test"


async def pg_reachable() -> bool:
    try:
        conn = await asyncio.wait_for(asyncpg.connect(PG_ADMIN), 3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """The SQLAlchemy URL of a new, empty database (the test is skipped when PostgreSQL is not reachable)."""
    if not await pg_reachable():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1")
    name = "yz_" + secrets.token_hex(6)
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1/{name}"
    finally:
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()
