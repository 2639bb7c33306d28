"""Store repositories of per-account web data (store/contacts.py, notes.py, settings.py, tokens.py, audit.py,
deliverylog.py), on SQLite and, when reachable, on the local PostgreSQL (a fresh database per test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support.postgres import fresh_database
from yizhan.mail.contactcard import ContactCard
from yizhan.store.audit import AuditLog
from yizhan.store.contacts import Contacts, ContactWrite
from yizhan.store.deliverylog import DeliveryLog, DeliveryRecord
from yizhan.store.notes import Notes
from yizhan.store.settings import AccountSettingsStore
from yizhan.store.store import Store
from yizhan.store.tokens import Tokens
from yizhan.util.errors import AlreadyExists, NotFound, QuotaExceeded


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        s = await Store.open(None, tmp_path / "y.db", tmp_path / "blobs")
        try:
            yield s
        finally:
            await s.close()
        return
    async with fresh_database() as url:
        s = await Store.open(url, tmp_path / "y.db", tmp_path / "blobs")
        try:
            yield s
        finally:
            await s.close()


async def _accounts(store: Store) -> tuple[int, int]:
    domain = await store.directory.add_domain("example.com")
    ids = []
    for name in ("alice", "bob"):
        account, _ = await store.directory.add_account(domain.id, f"{name}@example.com", "x", "user", 0, "", [])
        ids.append(account.id)
    return ids[0], ids[1]


def _write(name: str, *addresses: str, keys: tuple[tuple[str, str], ...] = ()) -> ContactWrite:
    card = ContactCard(display_name=name, emails=tuple((a, "") for a in addresses))
    return ContactWrite(card, (("name", name.lower()), *keys, *(("addr", a) for a in addresses)), name.lower())


async def test_contacts_search_groups_and_isolation(store: Store) -> None:
    alice, bob = await _accounts(store)
    contacts = Contacts(store.db)
    zs, carol = await contacts.create(alice, [
        _write("张三", "zs@example.com", keys=(("pinyin", "zhangsan"), ("pinyin", "zs"))),
        _write("Carol", "carol@example.org")], max_count=10)
    (bobs,) = await contacts.create(bob, [_write("Zed", "zs2@example.com", keys=(("pinyin", "zs"),))], 10)
    assert [c.id for c in await contacts.search(alice, "zs")] == [zs]
    assert [c.id for c in await contacts.search(alice, "zhang")] == [zs]
    assert [c.id for c in await contacts.search(alice, "car")] == [carol]
    assert await contacts.search(alice, "zz") == []
    assert set(await contacts.find_by_address(alice, ["carol@example.org", "zs2@example.com"])) == {
        "carol@example.org"}
    # Another account's contact cannot be read, changed, deleted or grouped.
    with pytest.raises(NotFound):
        await contacts.get(alice, bobs)
    with pytest.raises(NotFound):
        await contacts.update(alice, bobs, _write("Mallory", "m@example.com"))
    with pytest.raises(NotFound):
        await contacts.delete(alice, [bobs])
    group = await contacts.create_group(alice, "同事", 5)
    with pytest.raises(NotFound):
        await contacts.add_members(alice, group.id, [bobs])
    with pytest.raises(NotFound):
        await contacts.add_members(bob, group.id, [bobs])
    with pytest.raises(AlreadyExists):
        await contacts.create_group(alice, "同事", 5)
    assert await contacts.add_members(alice, group.id, [zs, carol]) == 2
    assert [c.id for c in await contacts.list_contacts(alice, group.id)] == [carol, zs]
    assert (await contacts.get(alice, zs)).groups == ((group.id, "同事"),)
    assert (await contacts.get(bob, bobs)).card.name() == "Zed"
    # Updating replaces the keys: the old name is no longer found.
    await contacts.update(alice, carol, _write("Dora", "dora@example.org"))
    assert await contacts.search(alice, "car") == []
    assert [c.card.name() for c in await contacts.search(alice, "dor")] == ["Dora"]
    assert await contacts.delete(alice, [carol, bobs]) == 1
    assert await contacts.count(bob) == 1
    with pytest.raises(QuotaExceeded):
        await contacts.create(alice, [_write(f"n{i}") for i in range(10)], max_count=10)
    assert await contacts.count(alice) == 1


async def test_removing_an_account_removes_its_contacts(store: Store) -> None:
    alice, _ = await _accounts(store)
    contacts = Contacts(store.db)
    await contacts.create(alice, [_write("A", "a@example.org")], 10)
    await store.directory.remove_account("alice@example.com")
    async with store.db.read() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM contact_keys"))).scalar() == 0


async def test_notes_settings_and_signatures(store: Store) -> None:
    alice, bob = await _accounts(store)
    notes = Notes(store.db)
    first = await notes.create(alice, "购物", "买牛奶 100%", "plain", False, 3)
    await notes.create(alice, "Pinned", "x", "plain", True, 3)
    assert [n.title for n in await notes.list_notes(alice)] == ["Pinned", "购物"]
    assert [n.title for n in await notes.list_notes(alice, "牛奶")] == ["购物"]
    assert [n.title for n in await notes.list_notes(alice, "100%")] == ["购物"]
    assert await notes.list_notes(alice, "_") == []
    for call in (notes.get(bob, first.id), notes.update(bob, first.id, title="x"), notes.delete(bob, first.id)):
        with pytest.raises(NotFound):
            await call
    assert (await notes.get(alice, first.id)).title == "购物"
    settings = AccountSettingsStore(store.db)
    await settings.put(alice, {"language": "en", "time_zone": "Asia/Shanghai"})
    await settings.put(alice, {"language": None})
    assert await settings.values(alice) == {"time_zone": "Asia/Shanghai"}
    assert await settings.values(bob) == {}
    one = await settings.add_signature(alice, "Work", "-- \nAlice", "plain", False, 5)
    two = await settings.add_signature(alice, "Home", "Al", "plain", True, 5)
    assert one.is_default and two.is_default
    assert [s.is_default for s in await settings.signatures(alice)] == [False, True]
    with pytest.raises(NotFound):
        await settings.update_signature(bob, one.id, is_default=True)
    await settings.update_signature(alice, two.id, is_default=False)
    assert [s.is_default for s in await settings.signatures(alice)] == [False, True]
    await settings.delete_signature(alice, two.id)
    assert [(s.id, s.is_default) for s in await settings.signatures(alice)] == [(one.id, True)]
    assert await settings.add_image_sender(alice, "@example.org", 2)
    assert not await settings.add_image_sender(alice, "@example.org", 2)
    assert await settings.has_image_sender(alice, ["x@example.org", "@example.org"])
    assert not await settings.has_image_sender(bob, ["x@example.org", "@example.org"])


async def test_tokens_by_hash_and_revocation(store: Store) -> None:
    alice, bob = await _accounts(store)
    tokens = Tokens(store.db)
    token = await tokens.create(alice, "CI", "ab" * 32, "yzt_abcd", ("read",), None, 2)
    found = await tokens.by_hash("ab" * 32)
    assert found is not None and found[0].id == token.id and found[1].address == "alice@example.com"
    with pytest.raises(NotFound):
        await tokens.revoke(bob, token.id)
    await tokens.revoke(alice, token.id)
    assert (await tokens.get(alice, token.id)).revoked_at is not None
    await tokens.create(alice, "a", "cd" * 32, "yzt_", ("read",), None, 2)
    await tokens.create(alice, "b", "ef" * 32, "yzt_", ("read",), None, 2)
    with pytest.raises(QuotaExceeded):
        await tokens.create(alice, "c", "01" * 32, "yzt_", ("read",), None, 2)
    assert await tokens.delete_revoked(alice) == 1
    assert len(await tokens.list_tokens(alice)) == 2 and await tokens.list_tokens(bob) == []


async def test_audit_log_is_append_only(store: Store) -> None:
    log = AuditLog(store.db)
    for i in range(5):
        await log.append(1000 + i, 1, "admin@example.com" if i % 2 else "root@example.com", "account.create",
                         f"u{i}@example.com", {"quota": i}, "127.0.0.1")
    page = await log.query(limit=2)
    assert [e.target for e in page] == ["u4@example.com", "u3@example.com"]
    assert [e.target for e in await log.query(before_id=page[-1].id, limit=2)] == ["u2@example.com",
                                                                                    "u1@example.com"]
    assert [e.target for e in await log.query(actor="admin@example.com")] == ["u3@example.com", "u1@example.com"]
    assert [e.target for e in await log.query(since=1001, until=1003)] == ["u2@example.com", "u1@example.com"]
    assert (await log.query(limit=1))[0].details == {"quota": 4}
    assert not hasattr(log, "update") and not hasattr(log, "delete")
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with store.db.write() as conn:
                await conn.execute(text(statement))
    assert len(await log.query()) == 5


async def test_delivery_log_search_and_prune(store: Store) -> None:
    log = DeliveryLog(store.db)
    await log.append([
        DeliveryRecord(100, "in", "x@remote.org", ("alice@example.com",), "m1@remote.org", 10, "delivered", ""),
        DeliveryRecord(200, "out", "alice@example.com", ("y@remote.org", "z@remote.org"), "m2@example.com", 20,
                       "deferred", "451 try later"),
        DeliveryRecord(300, "local", "bob@example.com", ("carol@example.com",), "m3@example.com", 30, "delivered",
                       ""),
    ])
    assert [r.message_id for r in await log.search(address="alice@example.com")] == ["m2@example.com",
                                                                                      "m1@remote.org"]
    assert [r.recipients for r in await log.search(address="z@remote.org")] == [("y@remote.org", "z@remote.org")]
    assert [r.at for r in await log.search(message_id="m3@example.com")] == [300]
    assert [r.at for r in await log.search(since=150, until=300)] == [200]
    page = await log.search(limit=1)
    assert [r.at for r in await log.search(before_id=page[0].id, limit=5)] == [200, 100]
    assert await log.prune(older_than=250, batch=1) == 2
    assert [r.at for r in await log.search()] == [300]
    assert await log.search(address="alice@example.com") == []


async def test_upgrade_from_0003_keeps_data(tmp_path: Path) -> None:
    """A database at the previous revision, with an account, is migrated to 0004 on open and keeps its data."""
    import sqlite3

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from yizhan.store.db import MIGRATIONS
    from yizhan.store.migrations import HEAD

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(f"sqlite:///{tmp_path / 'y.db'}")
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0003_directory_version")
        connection.execute(text("INSERT INTO domains (id, name, created_at) VALUES (1, 'example.com', 0)"))
    engine.dispose()
    s = await Store.open(None, tmp_path / "y.db", tmp_path / "blobs")
    try:
        assert (await s.directory.get_domain("example.com")) is not None
        account, _ = await s.directory.add_account(1, "a@example.com", "x", "user", 0, "", [])
        note = await Notes(s.db).create(account.id, "t", "b", "plain", False, 5)
        assert (await Notes(s.db).get(account.id, note.id)).body == "b"
    finally:
        await s.close()
    with sqlite3.connect(tmp_path / "y.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
