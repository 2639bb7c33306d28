"""Password hashing (Argon2id): correct verification, and a burst of logins never runs more hashes at once than
the pool allows (each costs 64 MiB while it runs). Real argon2; the wrapper only counts."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import yizhan.services.passwords as passwords
from yizhan.services.passwords import HASH_CONCURRENCY, hash_password, verify_password


async def test_hash_verifies_its_password_only() -> None:
    digest = await hash_password("correct horse 电池")
    assert digest.startswith("$argon2id$")
    assert await verify_password(digest, "correct horse 电池")
    assert not await verify_password(digest, "correct horse")
    assert not await verify_password("not a hash", "anything")


async def test_a_burst_of_verifications_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    digest = await hash_password("burst-password")
    running = 0
    most = 0
    lock = threading.Lock()
    real = passwords._hasher

    class Counting:
        def verify(self, *args: Any) -> bool:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            try:
                return real.verify(*args)
            finally:
                with lock:
                    running -= 1

    monkeypatch.setattr(passwords, "_hasher", Counting())
    burst = 4 * HASH_CONCURRENCY + 2
    results = await asyncio.gather(*(verify_password(digest, "burst-password" if i % 2 else "wrong")
                                     for i in range(burst)))
    assert results == [bool(i % 2) for i in range(burst)]
    assert 1 <= most <= HASH_CONCURRENCY


async def test_hashing_leaves_the_default_threads_free() -> None:
    # While the hash pool is busy, work on asyncio's default threads (deliveries parse there) still runs.
    digest = await hash_password("busy-password")
    burst = [asyncio.ensure_future(verify_password(digest, "wrong")) for _ in range(4 * HASH_CONCURRENCY)]
    assert await asyncio.wait_for(asyncio.to_thread(lambda: 42), timeout=0.2) == 42
    assert not any(await asyncio.gather(*burst))
