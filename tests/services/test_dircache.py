"""The in-memory directory: recipient rules on a snapshot, the version every directory write bumps, and when the
cache reads the database again (own writes at once, other processes' within max_age, or at once when asked fresh).

"Another process" is a second `Services` over the same data directory: its own engines and connections, exactly
what the CLI is to a running server as far as SQLite is concerned (test_serve.py runs the real CLI too).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import make_settings
from yizhan.config.paths import DataPaths
from yizhan.services.dircache import DirectoryCache
from yizhan.services.runtime import Services
from yizhan.util.errors import NotFound


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def other(data_dir: Path, mailbox: Services) -> AsyncIterator[Services]:
    """A second process's view of the same database (the CLI's)."""
    svc = await Services.open(make_settings(), DataPaths(data_dir))
    try:
        yield svc
    finally:
        await svc.close()


def count_statements(services: Services) -> list[str]:
    """Every SQL statement the store runs from now on (reader and writer engines)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    for engine in (services.store.db.reader, services.store.db.writer):
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    # And the store's transaction functions (store/sqlrun.py), which run plain SQL on their own threads.
    services.store.db.trace(seen.append)
    return seen


async def test_resolution_follows_aliases_catch_all_and_forwards(mailbox: Services) -> None:
    d = mailbox.directory
    await d.add_account("carol@example.com", "password1")
    await d.add_account("dave@example.com", "password1")
    await d.update_account("dave@example.com", disabled=True)
    await d.add_alias("team@example.com", ["alice@example.com", "carol@example.com", "dave@example.com"])
    await d.add_alias("outer@example.com", ["team@example.com", "friend@elsewhere.org", "ghost@example.com"])
    await d.add_alias("loop1@example.com", ["loop2@example.com"])
    await d.add_alias("loop2@example.com", ["loop1@example.com", "alice@example.com"])
    await d.add_alias("@example.com", ["carol@example.com"])
    r = await d.resolve(["outer@example.com", "LOOP1@Example.com", "typo@example.com", "dave@example.com",
                         "x@elsewhere.org", "not an address"])
    assert sorted(a.address for a in r.accounts["outer@example.com"]) == ["alice@example.com", "carol@example.com"]
    # Outside targets leave as forwards; a missing target of our own domain is dropped.
    assert r.forwards == {"outer@example.com": ["friend@elsewhere.org"]}
    assert [a.address for a in r.accounts["LOOP1@Example.com"]] == ["alice@example.com"]
    # The catch-all takes an address nothing else has, but not a disabled account's: it receives nothing.
    assert [a.address for a in r.accounts["typo@example.com"]] == ["carol@example.com"]
    assert r.unknown == ["dave@example.com", "x@elsewhere.org", "not an address"]
    for found in r.accounts.values():
        for account in found:
            folder = await mailbox.store.folders.get(account.id, "INBOX")
            assert folder is not None and r.inboxes[account.id] == folder.id


async def test_alias_chains_end_at_the_depth_limit(mailbox: Services) -> None:
    chain = [f"hop{i}@example.com" for i in range(8)]
    for source, target in pairwise(chain):
        await mailbox.directory.add_alias(source, [target])
    await mailbox.directory.add_alias(chain[-1], ["alice@example.com"])
    near = await mailbox.directory.resolve([chain[3]])
    assert [a.address for a in near.accounts[chain[3]]] == ["alice@example.com"]
    far = await mailbox.directory.resolve([chain[0]])
    assert far.unknown == [chain[0]]


async def test_every_directory_write_bumps_the_version(mailbox: Services) -> None:
    store = mailbox.store.directory
    versions = [await store.version()]

    async def step() -> None:
        versions.append(await store.version())
        assert versions[-1] > versions[-2]

    await mailbox.directory.add_domain("two.example")
    await step()
    await mailbox.directory.add_account("x@two.example", "password1")
    await step()
    await mailbox.directory.update_account("x@two.example", quota_bytes=10)
    await step()
    await mailbox.directory.set_password("x@two.example", "password2")
    await step()
    await mailbox.directory.add_alias("y@two.example", ["x@two.example"])
    await step()
    await mailbox.directory.remove_alias("y@two.example")
    await step()
    await mailbox.directory.remove_account("x@two.example")
    await step()
    await mailbox.directory.remove_domain("two.example")
    await step()


async def test_own_writes_are_seen_at_once(mailbox: Services) -> None:
    clock = Clock()
    mailbox.directory.cache = DirectoryCache(mailbox.store.directory, max_age=3600, clock=clock)
    assert (await mailbox.directory.resolve(["team@example.com"])).unknown == ["team@example.com"]
    await mailbox.directory.add_account("carol@example.com", "password1")
    await mailbox.directory.add_alias("team@example.com", ["carol@example.com"])
    resolved = await mailbox.directory.resolve(["team@example.com"])
    assert [a.address for a in resolved.accounts["team@example.com"]] == ["carol@example.com"]
    await mailbox.directory.update_account("carol@example.com", disabled=True)
    assert (await mailbox.directory.resolve(["team@example.com"])).unknown == ["team@example.com"]


async def test_another_process_changes_are_seen_within_max_age_or_when_asked_fresh(
        mailbox: Services, other: Services) -> None:
    clock = Clock()
    cache = DirectoryCache(mailbox.store.directory, max_age=0.25, clock=clock)
    mailbox.directory.cache = cache
    before = await cache.get()
    await other.directory.add_alias("sales@example.com", ["alice@example.com"])
    # Within max_age the snapshot is used as it is ...
    clock.now += 0.1
    assert await cache.get() is before
    # ... but a recipient it does not know makes it look again at once.
    resolved = await mailbox.directory.resolve(["sales@example.com"])
    assert [a.address for a in resolved.accounts["sales@example.com"]] == ["alice@example.com"]
    # A removal is positive knowledge going stale: seen once max_age has passed.
    seen = await cache.get()
    await other.directory.remove_alias("sales@example.com")
    clock.now += 0.1
    assert await cache.get() is seen
    clock.now += 0.2
    assert "sales@example.com" not in (await cache.get()).aliases
    # A domain added elsewhere is hosted at once.
    await other.directory.add_domain("new.example")
    assert await mailbox.directory.is_hosted("NEW.example.")


async def test_the_cache_is_not_reloaded_while_nothing_changes(mailbox: Services, other: Services) -> None:
    clock = Clock()
    cache = DirectoryCache(mailbox.store.directory, max_age=0.25, clock=clock)
    first = await cache.get()
    for _ in range(5):
        clock.now += 1
        assert await cache.get() is first
    assert cache.reloads == 1
    await other.directory.update_account("alice@example.com", display_name="Alice")
    clock.now += 1
    assert (await cache.get()).accounts["alice@example.com"].display_name == "Alice"
    assert cache.reloads == 2


async def test_accepting_a_recipient_runs_no_sql_while_the_cache_is_fresh(mailbox: Services) -> None:
    clock = Clock()
    mailbox.directory.cache = DirectoryCache(mailbox.store.directory, max_age=1, clock=clock)
    await mailbox.submit.check_recipient("alice@example.com", may_relay=False)
    statements = count_statements(mailbox)
    for _ in range(3):
        assert await mailbox.submit.check_recipient("alice@example.com", may_relay=False)
        assert (await mailbox.directory.resolve(["alice@example.com"])).inboxes
    assert statements == []
    # Unknown recipients are refused only after the version was read again.
    with pytest.raises(NotFound):
        await mailbox.submit.check_recipient("nobody@example.com", may_relay=False)
    assert any("directory_version" in s for s in statements)


async def test_quota_at_rcpt_uses_current_usage_not_the_snapshot(mailbox: Services) -> None:
    clock = Clock()
    mailbox.directory.cache = DirectoryCache(mailbox.store.directory, max_age=3600, clock=clock)
    await mailbox.directory.update_account("alice@example.com", quota_bytes=3000)
    assert await mailbox.submit.check_recipient("alice@example.com", may_relay=False, size=100)
    # Deliveries change usage without touching the directory version.
    await mailbox.delivery.deliver(b"Subject: filler\r\n\r\n" + b"x" * 2950, "", ["alice@example.com"])
    with pytest.raises(Exception, match="full"):
        await mailbox.submit.check_recipient("alice@example.com", may_relay=False, size=100)
