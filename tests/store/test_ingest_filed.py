"""`Ingest.filed_blobs`: which blobs an import finds already filed in its folder, and a plan that follows the batch."""

from __future__ import annotations

from sqlalchemy.dialects import sqlite

from tests.mailfactory import make_message
from yizhan.services.runtime import Services
from yizhan.store.ingest import filed_blobs_query


async def test_filed_blobs_are_those_of_that_folder(mailbox: Services) -> None:
    store = mailbox.store
    account = await store.directory.get_account("alice@example.com")
    assert account is not None
    inbox = await store.folders.get(account.id, "INBOX")
    other, _ = await store.folders.create(account.id, "Projects")
    assert inbox is not None
    raws = [make_message(subject=f"m{i}") for i in range(3)]
    await mailbox.delivery.deliver(raws[0], "bob@example.org", ["alice@example.com"])
    names = [store.blobs.put(raw) for raw in raws]
    assert await store.ingest.filed_blobs(inbox.id, names) == {names[0]}
    assert await store.ingest.filed_blobs(other.id, names) == set()
    assert await store.ingest.filed_blobs(inbox.id, []) == set()


async def test_filed_blobs_plan_starts_from_the_blob_index(mailbox: Services) -> None:
    # Joining from the folder's entries made each batch of an import scan the whole folder (quadratic imports).
    query = filed_blobs_query(1, ["a" * 64, "b" * 64])
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    async with mailbox.store.db.read() as conn:
        plan = [row[3] for row in (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)).all()]
    assert any("ix_messages_blob" in step for step in plan), plan
    assert any("ix_entries_message" in step for step in plan), plan
    assert not any("folder_modseq" in step or step.startswith("SCAN") for step in plan), plan
