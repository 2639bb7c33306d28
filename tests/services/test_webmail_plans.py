"""Query plans of the webmail's reads that must stay fast at 100,000 messages (bench/web.py measures them): every
table is reached through the index that bounds the rows read, never by walking a whole folder or account.

SQLite keeps no statistics here (no ANALYZE), so its choice between indexes of equal promise is what these plans
pin down; each slow plan named below was measured at 100,000 messages before it was fixed.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tests.mailfactory import conversation_messages, make_message
from yizhan.services.runtime import Services
from yizhan.services.webmail import ListOptions, WebmailService
from yizhan.store.weblist import CONVERSATION_SQL, THREAD_WALK_SQL, PageRequest, ThreadRow, WebList, page_sql
from yizhan.util.errors import InvalidInput


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


async def test_large_folder_threads_match_the_grouped_list(mailbox: Services) -> None:
    """The index-driven thread list (newest first, in chunks) gives what grouping the whole folder gives: the same
    threads in the same order (date ties broken by thread id), the same newest message, counts and unread counts
    of that folder only, at every offset."""
    services = mailbox
    account = await services.store.directory.get_account("alice@example.com")
    assert account is not None
    base = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    for n in range(60):
        root = n % 17  # 17 threads, replies to the thread's first message
        # Only six distinct dates: many ties, also between the newest messages of different threads.
        date = base + timedelta(hours=(n * 7) % 6)
        raw = make_message(subject=f"thread {root}", message_id=f"<m{n}@x.org>", date=date,
                           in_reply_to=f"<m{root}@x.org>" if n != root else None)
        await services.mailbox.append(account.id, "Sent" if n % 5 == 0 else "INBOX", raw,
                                      ["\\Seen"] if n % 3 else [])
    inbox = await services.store.folders.get(account.id, "INBOX")
    assert inbox is not None
    lists = WebList(services.store.db)
    for limit, offset in [(5, 0), (5, 3), (7, 10), (50, 0), (3, 15), (5, 40)]:
        grouped = await lists.threads(inbox.id, "INBOX", limit, offset)
        driven = await lists.threads(inbox.id, "INBOX", limit, offset, account.id, 100_000, 100_000)
        assert [(t.latest.thread_id, t.latest.uid, t.count, t.unread) for t in driven] == \
            [(t.latest.thread_id, t.latest.uid, t.count, t.unread) for t in grouped], (limit, offset)
        assert len(grouped) == max(0, min(limit, 17 - offset))


async def test_large_folder_thread_list_reads_indexes_only(mailbox: Services) -> None:
    # Grouping all of a 100,000-message folder took 0.85 s; the walk must go through (account_id, date).
    plan = _plan(mailbox, THREAD_WALK_SQL + " ORDER BY m.date DESC, m.id DESC LIMIT ?", (1, 1, 500))
    assert "ix_messages_account_date" in plan and "ix_entries_message" in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("large", [False, True])
async def test_thread_pages_by_cursor_list_every_thread_once_in_order(mailbox: Services, large: bool) -> None:
    """Following next_cursor through a folder's conversations (in the grouped way for a small folder, the walked
    way for a large one) lists each thread exactly once, in the order of the one-page list, also across pages
    that end inside a run of equal dates and when an earlier page's thread has a message further down."""
    services = mailbox
    account = await services.store.directory.get_account("alice@example.com")
    assert account is not None
    for raw in conversation_messages(45, 13, "c"):
        await services.mailbox.append(account.id, "INBOX", raw)
    inbox = await services.store.folders.get(account.id, "INBOX")
    assert inbox is not None
    web = WebmailService.of(services)
    if large:  # As if the folder were most of a large account: the walked path (WebList.threads's `driven`).
        web.lists = _Large(services.store.db)
    whole = [t.latest.thread_id for t in (await web.threads(account.id, inbox.id, limit=200)).threads]
    assert len(whole) == 13
    for size in (1, 2, 4, 5):
        seen: list[int] = []
        cursor = None
        for _ in range(len(whole) + 1):  # a cursor that does not move on fails here instead of looping
            page = await web.threads(account.id, inbox.id, limit=size, cursor=cursor)
            seen += [t.latest.thread_id for t in page.threads]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == whole and cursor is None, size
    with pytest.raises(InvalidInput):
        await web.threads(account.id, inbox.id, cursor=(await web.page(account.id, inbox.id, ListOptions(limit=1)))
                          .next_cursor)


class _Large(WebList):
    """A WebList that reports every folder as large, so the walked thread list is what runs."""

    async def threads(self, folder_id: int, folder_name: str, limit: int, offset: int, account_id: int = 0,
                      folder_total: int = 0, account_total: int = 0,
                      after: tuple[int, int] | None = None) -> list[ThreadRow]:
        assert account_id
        return await super().threads(folder_id, folder_name, limit, offset, account_id, 100_000, 100_000, after)
