"""Query plans of the webmail's reads that must stay fast at 100,000 messages (bench/web.py measures them): every
table is reached through the index that bounds the rows read, never by walking a whole folder or account.

SQLite keeps no statistics here (no ANALYZE), so its choice between indexes of equal promise is what these plans
pin down; each slow plan named below was measured at 100,000 messages before it was fixed.
"""

from __future__ import annotations

import sqlite3

import pytest

from yizhan.services.runtime import Services
from yizhan.store.weblist import CONVERSATION_SQL, PageRequest, page_sql


def _plan(services: Services, sql: str, params: list[object] | tuple[object, ...]) -> str:
    connection = sqlite3.connect(services.paths.database)
    try:
        return "\n".join(row[-1] for row in connection.execute("EXPLAIN QUERY PLAN " + sql, params))
    finally:
        connection.close()


@pytest.mark.parametrize("sort", ["date", "sender", "size"])
@pytest.mark.parametrize("filter_", ["all", "unread", "flagged"])
@pytest.mark.parametrize("after", [None, (1000, 5)])
async def test_index_driven_pages_find_each_entry_by_its_message(mailbox: Services, sort: str, filter_: str,
                                                                after: tuple[int, int] | None) -> None:
    # Walking the folder's (folder_id, modseq) index once per listed message took 2 s a page at 100,000.
    request = PageRequest(folder_id=1, account_id=1, sort=sort, filter=filter_,  # type: ignore[arg-type]
                          after=("k", 5) if after and sort == "sender" else after,
                          candidates=100_000, account_total=110_000, limit=51)
    plan = _plan(mailbox, *page_sql(request))
    assert "SEARCH e USING INDEX ix_entries_message (message_id=?)" in plan, plan
    assert "ix_entries_folder_modseq" not in plan, plan


async def test_conversation_reads_the_thread_not_the_account(mailbox: Services) -> None:
    # Walking (account_id, date) to avoid sorting a thread's few rows took 0.4 s at 100,000 messages.
    plan = _plan(mailbox, CONVERSATION_SQL, (1, 7, 1, 1, 500))
    assert "USING INDEX ix_messages_account_thread (account_id=? AND thread_id=?)" in plan, plan
    assert "ix_messages_account_date" not in plan, plan
