"""The webmail's large-folder reads on PostgreSQL (a fresh database, skipped when none is reachable on 127.0.0.1):
the index-driven page with a keyset, the walked conversation list with its cursor, and a conversation — the SQL
written for SQLite's planner (`+e.folder_id`, `ORDER BY +m.date`, HAVING on the grouped list) runs there too and
gives the same answers as the plain plans."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.mailfactory import CONVERSATION_START, conversation_messages
from tests.support.postgres import fresh_database
from yizhan.config.paths import DataPaths
from yizhan.services.runtime import Services
from yizhan.services.webmail import ListOptions, MessageRef, WebmailService
from yizhan.store.weblist import PageRequest, WebList


@pytest.fixture
async def pg_services(tmp_path: Path) -> AsyncIterator[Services]:
    async with fresh_database() as url:
        settings = make_settings(store={"database_url": url})
        services = await Services.open(settings, DataPaths(tmp_path / "data"))
        try:
            yield services
        finally:
            await services.close()


async def test_large_folder_reads_on_postgresql(pg_services: Services) -> None:
    services = pg_services
    assert not services.store.db.is_sqlite
    await services.directory.add_domain("example.com")
    await services.directory.add_account("alice@example.com", "password1")
    account = await services.store.directory.get_account("alice@example.com")
    assert account is not None
    base = CONVERSATION_START
    for n, raw in enumerate(conversation_messages(30, 9, "p")):
        await services.mailbox.append(account.id, "INBOX", raw, ["\\Seen"] if n % 2 else [])
    inbox = await services.store.folders.get(account.id, "INBOX")
    assert inbox is not None
    lists = WebList(services.store.db)

    # Pages: the index-driven plan (large) and the folder-driven one give the same rows, first page and keyset.
    for after in (None, (int((base + timedelta(hours=3)).timestamp()), 10**9)):
        small = await lists.page(PageRequest(folder_id=inbox.id, account_id=account.id, limit=8, after=after,
                                             candidates=30, account_total=30), "INBOX")
        large = await lists.page(PageRequest(folder_id=inbox.id, account_id=account.id, limit=8, after=after,
                                             candidates=100_000, account_total=100_000), "INBOX")
        assert [r.summary.uid for r in large] == [r.summary.uid for r in small] and len(small) == 8

    # Conversation lists: walked and grouped agree, at an offset and after a keyset.
    grouped = await lists.threads(inbox.id, "INBOX", 4, 2)
    walked = await lists.threads(inbox.id, "INBOX", 4, 2, account.id, 100_000, 100_000)
    assert [(t.latest.uid, t.count, t.unread) for t in walked] == [(t.latest.uid, t.count, t.unread) for t in grouped]
    last = grouped[-1].latest
    key = (last.date, last.thread_id)
    grouped_after = await lists.threads(inbox.id, "INBOX", 10, 0, after=key)
    walked_after = await lists.threads(inbox.id, "INBOX", 10, 0, account.id, 100_000, 100_000, after=key)
    assert [t.latest.uid for t in walked_after] == [t.latest.uid for t in grouped_after]
    assert len(grouped_after) == 9 - 6

    # The service: thread pages by cursor list the nine threads once; a conversation is in date order.
    web = WebmailService.of(services)
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = await web.threads(account.id, inbox.id, limit=4, cursor=cursor)
        seen += [t.latest.thread_id for t in page.threads]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 9
    newest = (await web.page(account.id, inbox.id, ListOptions(limit=1))).items[0]
    conversation = await web.conversation(account.id, MessageRef(inbox.id, newest.uid))
    assert len(conversation) > 1 and [m.date for m in conversation] == sorted(m.date for m in conversation)
