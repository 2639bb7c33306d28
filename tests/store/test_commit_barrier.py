"""The commit barrier: a blob stored with `defer=True` is written under a temporary name, and fsynced, renamed and
its directory fsynced before the transaction that files a row naming it commits, on the group-commit writer and on
SQLAlchemy's write path; with several files, two syncfs calls take the place of those fsyncs. Real files and a
real SQLite database; the fsync and syncfs functions are only observed (wrapped, still called) or, to simulate an
I/O error, replaced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

import yizhan.store.blobs as blobs_module
from tests.conftest import make_settings
from tests.mailfactory import make_message
from tests.support.postgres import fresh_database
from yizhan.config.paths import DataPaths
from yizhan.services.runtime import Services
from yizhan.store.sqlrun import Tx
from yizhan.util.durable import can_sync_filesystem


@pytest.fixture
async def synced(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[str]]:
    """Every directory fsynced through the blob store, in order."""
    calls: list[str] = []
    real = blobs_module.fsync_directory

    def recording(path: Path) -> None:
        calls.append(str(path))
        real(path)

    monkeypatch.setattr(blobs_module, "fsync_directory", recording)
    yield calls


async def test_deferred_name_is_synced_before_the_row_commits(services: Services, synced: list[str]) -> None:
    store = services.store
    raw = make_message(subject="barrier")
    name = store.blobs.put(raw, defer=True)
    directory = str(store.blobs.path(name).parent)
    # The bytes wait under a temporary name: nothing can read the blob by name yet.
    assert not store.blobs.exists(name)
    assert [p.name[:5] for p in store.blobs.path(name).parent.iterdir()] == [".tmp-"]
    assert directory not in synced and store.blobs.has_pending()

    def write(tx: Tx) -> int:
        return len(tx.rows("SELECT id FROM folders"))

    await store.db.run_write(write)
    assert directory in synced
    assert not store.blobs.has_pending()
    assert store.blobs.read(name) == raw and store.blobs.verify(name)
    assert not any(p.name.startswith(".tmp-") for p in store.blobs.root.rglob("*"))


async def test_sqlalchemy_write_path_runs_the_barrier_too(services: Services, synced: list[str]) -> None:
    store = services.store
    name = store.blobs.put(make_message(subject="other path"), defer=True)
    async with store.db.write() as conn:
        await conn.exec_driver_sql("SELECT 1")
    assert str(store.blobs.path(name).parent) in synced
    assert not store.blobs.has_pending()


async def test_a_blob_found_present_is_queued_again(services: Services, synced: list[str]) -> None:
    # Another writer may have renamed it in without its directory fsync yet: this writer's commit covers it.
    store = services.store
    raw = make_message(subject="twice")
    name = store.blobs.put(raw)
    synced.clear()
    assert store.blobs.put(raw, defer=True) == name
    assert store.blobs.has_pending()
    await store.db.run_write(lambda tx: tx.one("SELECT 1"))
    assert synced == [str(store.blobs.path(name).parent)]


async def test_a_failing_barrier_fails_the_group_and_nothing_commits(mailbox: Services,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # An fsync that fails (an I/O error) must not let a row naming the blob become durable.
    store = mailbox.store
    store.blobs.put(make_message(subject="io error"), defer=True)

    def broken(path: Path) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(blobs_module, "fsync_directory", broken)
    await fails_then_next_commit_publishes(mailbox, monkeypatch)


async def fails_then_next_commit_publishes(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the barrier failing (as patched), a write group fails and commits nothing; once the patch is undone,
    the next commit makes durable what the failed barrier put back."""
    store = services.store
    with pytest.raises(OSError):
        await store.db.run_write(lambda tx: tx.run("UPDATE folders SET name = name || '-x'"))
    names = await store.db.run_read(lambda tx: [row[0] for row in tx.rows("SELECT name FROM folders")])
    assert names and not any(n.endswith("-x") for n in names)
    assert store.blobs.has_pending()
    monkeypatch.undo()
    await store.db.run_write(lambda tx: tx.one("SELECT 1"))
    assert not store.blobs.has_pending()


async def test_identical_deferred_blobs_before_one_barrier_publish_one_name(services: Services) -> None:
    store = services.store
    raw = make_message(subject="same twice")
    first, second = store.blobs.put(raw, defer=True), store.blobs.put(raw, defer=True)
    assert first == second
    await store.db.run_write(lambda tx: tx.one("SELECT 1"))
    assert store.blobs.read(first) == raw
    assert list(store.blobs.names()) == [first]
    assert not any(p.name.startswith(".tmp-") for p in store.blobs.root.rglob("*"))


async def test_delivery_files_the_message_with_its_name_synced(mailbox: Services, synced: list[str]) -> None:
    raw = make_message(subject="delivered")
    report = await mailbox.delivery.deliver(raw, "bob@example.org", ["alice@example.com"])
    [outcome] = report.outcomes
    assert outcome.ok
    name = blobs_module.blob_name(raw)
    assert str(mailbox.store.blobs.path(name).parent) in synced
    assert not mailbox.store.blobs.has_pending()


async def test_on_postgresql_appends_and_deliveries_publish_their_blobs(tmp_path: Path) -> None:
    # PostgreSQL runs each write in its own transaction (no group writer): the barrier runs before each commit.
    async with fresh_database() as url:
        services = await Services.open(make_settings(store={"database_url": url}), DataPaths(tmp_path / "data"))
        try:
            await services.directory.add_domain("example.com")
            await services.directory.add_account("alice@example.com", "password1")
            account = await services.directory.account("alice@example.com")
            raws = [make_message(subject=f"pg {n}") for n in range(5)]
            await asyncio.gather(
                services.delivery.deliver(raws[0], "bob@example.org", ["alice@example.com"]),
                services.delivery.deliver(raws[1], "bob@example.org", ["alice@example.com"]),
                *(services.mailbox.append(account.id, "INBOX", raw, []) for raw in raws[2:]))
            assert not services.store.blobs.has_pending()
            folder = await services.store.folders.get(account.id, "INBOX")
            assert folder is not None
            filed = await services.store.messages.page(folder.id, limit=10)
            assert sorted(services.store.blobs.read(item.blob) for item in filed) == sorted(raws)
            assert not any(p.name.startswith(".tmp-") for p in services.store.blobs.root.rglob("*"))
        finally:
            await services.close()


async def test_writes_with_no_deferred_blob_sync_nothing(services: Services, synced: list[str]) -> None:
    # Flag stores and expunges (most IMAP writes) name no new blob: their commits fsync no directory.
    store = services.store
    for _ in range(3):
        await store.db.run_write(lambda tx: tx.one("SELECT 1"))
    assert synced == [] and not store.blobs.has_pending()
    name = store.blobs.put(make_message(subject="one deferred"), defer=True)
    await store.db.run_write(lambda tx: tx.one("SELECT 1"))
    after_first = list(synced)
    await store.db.run_write(lambda tx: tx.one("SELECT 1"))
    assert str(store.blobs.path(name).parent) in after_first and synced == after_first


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every fsync ("file", "directory") and syncfs ("syncfs") the blob store makes, in order (each still made)."""
    calls: list[str] = []
    for name, kind in (("fsync_path", "file"), ("fsync_directory", "directory"), ("sync_filesystem", "syncfs")):
        real = getattr(blobs_module, name)

        def recording(path: Path, *args: int, _real: Callable[..., None] = real, _kind: str = kind) -> None:
            calls.append(_kind)
            _real(path, *args)

        monkeypatch.setattr(blobs_module, name, recording)
    return calls


needs_syncfs = pytest.mark.skipif(not can_sync_filesystem(), reason="syncfs(2) is not usable on this kernel")


@needs_syncfs
async def test_several_blobs_are_published_by_two_file_system_syncs(mailbox: Services, syncs: list[str]) -> None:
    store = mailbox.store
    raws = [make_message(subject=f"group {n}") for n in range(5)]
    names = [store.blobs.put(raw, defer=True) for raw in raws]
    assert syncs == [] and not any(store.blobs.exists(name) for name in names)
    await store.db.run_write(lambda tx: tx.one("SELECT 1"))
    # One flush before the renames (the bytes), one after (the names): no fsync per file or directory.
    assert syncs == ["syncfs", "syncfs"]
    assert [store.blobs.read(name) for name in names] == raws
    assert not any(p.name.startswith(".tmp-") for p in store.blobs.root.rglob("*"))
    assert not store.blobs.has_pending()


@needs_syncfs
async def test_a_slow_syncfs_falls_back_to_fsyncs_for_a_while(mailbox: Services, syncs: list[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # Another program's large writes on the same file system make every syncfs wait for them: after one slow
    # barrier, the next ones fsync only their own files, until the pause is over.
    # One slow flush is not enough: only a run of them.
    store = mailbox.store
    monkeypatch.setattr(blobs_module, "_SLOW_SYNCFS", 0.0)
    for round_ in range(blobs_module._SLOW_SYNCFS_RUN + 1):
        for n in range(3):
            store.blobs.put(make_message(subject=f"slow {round_} {n}"), defer=True)
        await store.db.run_write(lambda tx: tx.one("SELECT 1"))
    synced_by_syncfs = 2 * blobs_module._SLOW_SYNCFS_RUN
    assert syncs[:synced_by_syncfs] == ["syncfs"] * synced_by_syncfs
    after = syncs[synced_by_syncfs:]
    assert "syncfs" not in after and after.count("file") == 3 and "directory" in after
    # The pause over, syncfs is used again.
    store.blobs._syncfs_resumes = 0.0
    syncs.clear()
    for n in range(2):
        store.blobs.put(make_message(subject=f"resumed {n}"), defer=True)
    await store.db.run_write(lambda tx: tx.one("SELECT 1"))
    assert syncs == ["syncfs", "syncfs"]


@needs_syncfs
async def test_a_failing_syncfs_fails_the_group_and_the_next_commit_publishes(mailbox: Services,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store = mailbox.store
    raws = [make_message(subject=f"syncfs error {n}") for n in range(3)]
    names = [store.blobs.put(raw, defer=True) for raw in raws]
    real = blobs_module.sync_filesystem
    calls: list[Path] = []

    def second_fails(path: Path) -> None:
        # The bytes are flushed and the files renamed; the flush of their names fails (an I/O error).
        calls.append(path)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        real(path)

    monkeypatch.setattr(blobs_module, "sync_filesystem", second_fails)
    # The renamed blobs' directories wait for the next barrier, which must make them durable before its commit.
    await fails_then_next_commit_publishes(mailbox, monkeypatch)
    assert [store.blobs.read(name) for name in names] == raws
