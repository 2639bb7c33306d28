"""DKIM key files (store/dkimkeys.py) through the Store facade: created private, never overwritten, newest signs."""

from __future__ import annotations

import asyncio
import datetime
import stat

import pytest

from yizhan.services.runtime import Services
from yizhan.store.dkimkeys import default_selector
from yizhan.util.errors import AlreadyExists, InvalidInput


async def test_create_get_list(services: Services) -> None:
    keys = services.store.dkim_keys
    assert await keys.get("example.com") is None and await keys.list() == []
    first = await keys.create("Example.COM", "a1", bits=1024)
    assert (first.domain, first.selector, first.record_name) == ("example.com", "a1", "a1._domainkey.example.com")
    assert first.public_txt.startswith("v=DKIM1; k=rsa; p=") and b"PRIVATE KEY" in first.private_pem
    assert "PRIVATE" not in repr(first)
    path = services.paths.root / "dkim" / "example.com" / "a1.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_bytes() == first.private_pem
    assert [k.name for k in path.parent.iterdir()] == ["a1.pem"]  # no temporary file left behind
    assert await keys.get("example.com") == first
    # The newest key signs, whatever the selector's name.
    second = await keys.create("example.com", "0-later", bits=1024)
    assert await keys.get("example.com") == second
    assert await keys.get("example.com", "a1") == first
    assert [k.selector for k in await keys.list("example.com")] == ["a1", "0-later"]
    await keys.create("例子.中国", "s", bits=1024)
    assert [k.domain for k in await keys.list()] == ["example.com", "example.com", "xn--fsqu00a.xn--fiqs8s"]


async def test_refusals(services: Services) -> None:
    keys = services.store.dkim_keys
    await keys.create("example.com", "s", bits=1024)
    with pytest.raises(AlreadyExists):
        await keys.create("example.com", "s", bits=1024)
    for domain, selector in (("../etc", "s"), ("example.com", "../s"), ("example.com", "a.b"), ("", "s")):
        with pytest.raises(InvalidInput):
            await keys.create(domain, selector, bits=1024)
    with pytest.raises(InvalidInput):
        await keys.create("example.com", "t", bits=8192)


async def test_concurrent_creations_of_one_selector_keep_one_key(services: Services) -> None:
    keys = services.store.dkim_keys
    results = await asyncio.gather(*(keys.create("example.com", "same", bits=1024) for _ in range(4)),
                                   return_exceptions=True)
    made = [r for r in results if not isinstance(r, BaseException)]
    assert len(made) == 1 and all(isinstance(r, AlreadyExists) for r in results if r not in made)
    assert await keys.get("example.com") == made[0]


def test_default_selector() -> None:
    assert default_selector(datetime.datetime(2026, 3, 9, tzinfo=datetime.UTC)) == "yz202603"
