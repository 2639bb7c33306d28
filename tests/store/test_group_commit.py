"""The SQLite group writer (store/sqlrun.py) and the batch filing of store/ingest.py, on a real database: a write
that fails undoes its own changes and only those, whether it runs alone or in a group; `Tx.insert` files any number
of rows; a batch of deliveries to several accounts threads each message within its own account."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.mailfactory import make_message
from yizhan.services.runtime import Services
from yizhan.store.sqlrun import Tx


async def _notes(services: Services) -> list[str]:
    return await services.store.db.run_read(lambda tx: [row[0] for row in tx.rows("SELECT body FROM t ORDER BY body")])


@pytest.fixture
async def table(services: Services) -> Services:
    await services.store.db.run_write(lambda tx: tx.run("CREATE TABLE t (body TEXT NOT NULL)"))
    return services


async def test_a_lone_write_that_fails_leaves_nothing_behind(table: Services) -> None:
    def half_done(tx: Tx) -> None:
        tx.run("INSERT INTO t (body) VALUES ('half')")
        raise ValueError("changed my mind")

    with pytest.raises(ValueError, match="changed my mind"):
        await table.store.db.run_write(half_done)
    assert await _notes(table) == []
    # The writer goes on.
    await table.store.db.run_write(lambda tx: tx.run("INSERT INTO t (body) VALUES ('after')"))
    assert await _notes(table) == ["after"]


async def test_in_a_group_a_failing_write_undoes_only_its_own_changes(table: Services) -> None:
    db = table.store.db
    release = threading.Event()

    def hold(tx: Tx) -> None:
        # Keeps the writer busy until the other writes wait behind it, so they form the next group together.
        tx.run("INSERT INTO t (body) VALUES ('first')")
        release.wait(10)

    def good(name: str) -> object:
        return lambda tx: tx.run(f"INSERT INTO t (body) VALUES ('{name}')")

    def bad(tx: Tx) -> None:
        tx.run("INSERT INTO t (body) VALUES ('bad')")
        raise ValueError("bad write")

    first = asyncio.ensure_future(db.run_write(hold))
    await asyncio.sleep(0.05)
    group = [asyncio.ensure_future(db.run_write(fn)) for fn in (good("a"), bad, good("b"))]  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    release.set()
    await first
    outcomes = await asyncio.gather(*group, return_exceptions=True)
    assert outcomes[0] == 1 and outcomes[2] == 1
    assert isinstance(outcomes[1], ValueError)
    assert await _notes(table) == ["a", "b", "first"]


@pytest.mark.parametrize("count", [0, 1, 7, 5000])  # 5000 rows of 7 values: more parameters than one statement takes
async def test_insert_files_every_row(table: Services, count: int) -> None:
    db = table.store.db
    await db.run_write(lambda tx: tx.run("CREATE TABLE wide (a, b, c, d, e, f, g)"))
    rows = [(n, f"b{n}", n * 2, None, "中文", b"\x00\x01", 1.5) for n in range(count)]
    await db.run_write(lambda tx: tx.insert("INSERT INTO wide (a, b, c, d, e, f, g)", rows))
    stored = await db.run_read(lambda tx: tx.rows("SELECT a, b, c, d, e, f, g FROM wide ORDER BY a"))
    assert stored == rows


async def test_one_batch_to_several_accounts_threads_within_each_account(mailbox: Services) -> None:
    # The same Message-IDs in two mailboxes, filed in one group commit: each reply joins the thread of its own
    # account's original, never the other account's.
    await mailbox.directory.add_account("carol@example.com", "password1")
    originals = {name: make_message(subject="Plan", to=f"{name}@example.com", message_id="<plan@example.org>")
                 for name in ("alice", "carol")}
    for name, raw in originals.items():
        await mailbox.delivery.deliver(raw, "bob@example.org", [f"{name}@example.com"])
    replies = [make_message(subject="Re: Plan", to=f"{name}@example.com", message_id=f"<re-{name}@example.org>",
                            in_reply_to="<plan@example.org>") for name in ("alice", "carol")]
    unrelated = make_message(subject="Other", to="carol@example.com", message_id="<other@example.org>")
    await asyncio.gather(
        mailbox.delivery.deliver(replies[0], "bob@example.org", ["alice@example.com"]),
        mailbox.delivery.deliver(replies[1], "bob@example.org", ["carol@example.com"]),
        mailbox.delivery.deliver(unrelated, "bob@example.org", ["carol@example.com"]))
    threads = {}
    for name in ("alice", "carol"):
        account = await mailbox.directory.account(f"{name}@example.com")
        folder = await mailbox.store.folders.get(account.id, "INBOX")
        assert folder is not None
        threads[name] = {m.subject: m.thread_id for m in await mailbox.store.messages.page(folder.id)}
    assert threads["alice"]["Plan"] == threads["alice"]["Re: Plan"]
    assert threads["carol"]["Plan"] == threads["carol"]["Re: Plan"] != threads["carol"]["Other"]
    assert threads["alice"]["Plan"] != threads["carol"]["Plan"]
