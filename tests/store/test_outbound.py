"""The outbound queue's repository: durable rows, due recipients, final states, and the blobs it holds."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import sqlalchemy
from alembic import command
from alembic.config import Config

from tests.mailfactory import make_message
from yizhan.store.db import MIGRATIONS
from yizhan.store.outbound import BOUNCED, DELIVERED, PENDING, RecipientUpdate
from yizhan.store.store import Store


async def open_store(tmp_path: Path) -> Store:
    return await Store.open(None, tmp_path / "y.db", tmp_path / "blobs")


async def test_enqueue_then_due_and_final_states(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        raw = make_message()
        blob = await store.blobs.aput(raw)
        queue_id = await store.outbound.enqueue(blob, len(raw), "alice@example.com",
                                                ["Bob@Example.NET", "Bob@Example.NET", "carol@example.org"],
                                                now=1000, envelope_id="env-1", account_id=None)
        assert await store.outbound.due(999) == []
        [due] = await store.outbound.due(1000)
        assert due.queue_id == queue_id and due.envelope_id == "env-1" and due.kind == "normal"
        assert [(r.address, r.domain, r.status) for r in due.recipients] == [
            ("Bob@Example.NET", "example.net", PENDING), ("carol@example.org", "example.org", PENDING)]
        assert await store.outbound.next_due() == 1000

        finished, freed = await store.outbound.update(queue_id, [
            RecipientUpdate("Bob@Example.NET", DELIVERED, 1000, "250 ok", attempted_at=1001),
            RecipientUpdate("carol@example.org", PENDING, 1300, "451 later", attempted_at=1001),
        ])
        assert (finished, freed) == (False, [])
        [due] = await store.outbound.due(1300)
        assert [(r.address, r.attempts, r.last_reply) for r in due.recipients] == [
            ("carol@example.org", 1, "451 later")]
        assert await store.outbound.next_due() == 1300

        assert await store.outbound.retry(queue_id, 1100) == 1
        assert [m.queue_id for m in await store.outbound.due(1100)] == [queue_id]

        finished, freed = await store.outbound.update(queue_id, [
            RecipientUpdate("carol@example.org", BOUNCED, 1100, "550 no", attempted_at=1101)])
        assert (finished, freed) == (True, [blob])
        assert await store.outbound.get(queue_id) is None
        assert await store.outbound.next_due() is None
    finally:
        await store.close()


async def test_blob_shared_with_another_queued_message_is_not_freed(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        raw = make_message()
        blob = await store.blobs.aput(raw)
        one = await store.outbound.enqueue(blob, len(raw), "a@example.com", ["x@example.net"], now=1)
        two = await store.outbound.enqueue(blob, len(raw), "a@example.com", ["y@example.net"], now=1)
        assert await store.outbound.delete(one) == []
        assert await store.outbound.delete(two) == [blob]
        assert await store.outbound.delete(two) is None
    finally:
        await store.close()


async def test_check_repair_keeps_blobs_the_queue_holds(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        queued_raw, stray_raw = make_message(subject="queued"), make_message(subject="stray")
        queued = await store.blobs.aput(queued_raw)
        stray = await store.blobs.aput(stray_raw)
        await store.outbound.enqueue(queued, len(queued_raw), "a@example.com", ["x@example.net"], now=1)
        old = time.time() - 7200
        for name in (queued, stray):
            os.utime(store.blobs.path(name), (old, old))
        report = await store.check(repair=True)
        assert [p.kind for p in report.problems] == ["unreferenced blobs"]
        assert store.blobs.exists(queued)
        assert not store.blobs.exists(stray)
    finally:
        await store.close()


async def test_removing_an_account_keeps_a_blob_still_queued(tmp_path: Path) -> None:
    from yizhan.services.bus import EventBus
    from yizhan.services.deliver import DeliveryService
    from yizhan.services.directory import DirectoryService

    store = await open_store(tmp_path)
    try:
        directory = DirectoryService(store, EventBus())
        await directory.add_domain("example.com")
        await directory.add_account("alice@example.com", "password1")
        raw = make_message()
        report = await DeliveryService(store, EventBus(), directory).deliver(raw, "b@example.net",
                                                                            ["alice@example.com"])
        await store.outbound.enqueue(report.blob, len(raw), "alice@example.com", ["x@example.net"], now=1)
        await directory.remove_account("alice@example.com")
        assert store.blobs.exists(report.blob), "the queue still needs these bytes"
    finally:
        await store.close()


async def test_upgrade_from_0001_keeps_data_and_adds_the_queue(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.directory.add_domain("example.com")
    await store.close()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'y.db'}")
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0001")
    engine.dispose()
    with sqlite3.connect(tmp_path / "y.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "queue_messages" not in tables
        assert db.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"

    store = await open_store(tmp_path)
    try:
        assert await store.directory.get_domain("example.com") is not None
        assert await store.outbound.list_all() == []
        raw = make_message()
        blob = await store.blobs.aput(raw)
        await store.outbound.enqueue(blob, len(raw), "a@example.com", ["x@example.net"], now=1)
        assert len(await store.outbound.list_all()) == 1
    finally:
        await store.close()
