"""Migrations from an empty database, repeated and concurrent starts."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from yizhan.store.migrations import HEAD
from yizhan.store.store import Store


async def test_empty_database_is_migrated_to_head(tmp_path: Path) -> None:
    store = await Store.open(None, tmp_path / "y.db", tmp_path / "blobs")
    await store.close()
    with sqlite3.connect(tmp_path / "y.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert {"domains", "accounts", "aliases", "folders", "messages", "entries", "expunged",
            "message_text", "queue_messages", "queue_recipients"} <= tables
    assert version == HEAD
    assert journal == "wal"


async def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    store = await Store.open(None, tmp_path / "y.db", tmp_path / "blobs")
    await store.directory.add_domain("example.com")
    await store.close()
    store = await Store.open(None, tmp_path / "y.db", tmp_path / "blobs")
    try:
        assert (await store.directory.get_domain("example.com")) is not None
    finally:
        await store.close()


async def test_concurrent_first_starts_both_succeed(tmp_path: Path) -> None:
    stores = await asyncio.gather(*(Store.open(None, tmp_path / "y.db", tmp_path / "blobs") for _ in range(3)))
    for store in stores:
        await store.close()
    with sqlite3.connect(tmp_path / "y.db") as db:
        assert db.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1


def test_head_constant_matches_alembic() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from yizhan.store.db import MIGRATIONS
    from yizhan.store.migrations import HEAD

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD
