"""WebmailService on the real store: sorting and paging at the boundaries, filters, actions (flags, move, delete,
spam, empty), threads and conversations, folders by id, isolation between accounts, and query plans."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tests.mailfactory import make_message
from yizhan.services.runtime import Services
from yizhan.services.webmail import ListOptions, MessageRef, WebmailService
from yizhan.store.events import MessageAdded, MessagesExpunged
from yizhan.store.weblist import PageRequest, page_sql
from yizhan.util.errors import InvalidInput, NotFound

BASE = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


async def _account(services: Services, address: str) -> int:
    account = await services.store.directory.get_account(address)
    assert account is not None
    return account.id


async def _fill(services: Services, account_id: int, count: int, folder: str = "INBOX") -> None:
    for i in range(count):
        raw = make_message(subject=f"message {i:02d}", sender=f"S{(i * 7) % count:02d} <s{(i * 7) % count:02d}@x.org>",
                           date=BASE + timedelta(hours=i), body="x" * (100 + (i * 37) % count * 10))
        flags = ["\\Seen"] if i % 3 else []
        if i % 5 == 0:
            flags.append("\\Flagged")
        await services.mailbox.append(account_id, folder, raw, flags)


@pytest.fixture
async def mail(mailbox: Services) -> tuple[Services, WebmailService, int]:
    account_id = await _account(mailbox, "alice@example.com")
    await _fill(mailbox, account_id, 12)
    return mailbox, WebmailService.of(mailbox), account_id


async def _inbox(web: WebmailService, account_id: int) -> int:
    return next(f.id for f in await web.folders(account_id) if f.name == "INBOX")


async def _all_pages(web: WebmailService, account_id: int, folder_id: int, **options: object) -> list[str]:
    subjects: list[str] = []
    cursor = None
    for _ in range(20):
        page = await web.page(account_id, folder_id, ListOptions(cursor=cursor, **options))  # type: ignore[arg-type]
        subjects += [item.subject for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return subjects
    raise AssertionError("paging did not end")


async def test_pages_by_date_size_sender_both_ways_cover_everything_once(mail: tuple[Services, WebmailService, int],
                                                                         ) -> None:
    _, web, account_id = mail
    inbox = await _inbox(web, account_id)
    newest = await _all_pages(web, account_id, inbox, limit=5)
    assert newest == [f"message {i:02d}" for i in range(11, -1, -1)]
    assert await _all_pages(web, account_id, inbox, limit=5, descending=False) == newest[::-1]
    for sort in ("size", "sender"):
        for descending in (True, False):
            page = await web.page(account_id, inbox, ListOptions(sort=sort, descending=descending,  # type: ignore
                                                                 limit=200))
            keys = [item.size if sort == "size" else item.from_addr for item in page.items]
            assert keys == sorted(keys, reverse=descending)
            paged = await _all_pages(web, account_id, inbox, sort=sort, descending=descending, limit=4)
            assert paged == [item.subject for item in page.items]


async def test_page_boundaries_exact_multiple_one_and_offset(mail: tuple[Services, WebmailService, int]) -> None:
    _, web, account_id = mail
    inbox = await _inbox(web, account_id)
    first = await web.page(account_id, inbox, ListOptions(limit=6))
    second = await web.page(account_id, inbox, ListOptions(limit=6, cursor=first.next_cursor))
    assert len(first.items) == len(second.items) == 6 and second.next_cursor is None
    whole = await web.page(account_id, inbox, ListOptions(limit=12))
    assert whole.next_cursor is None and len(whole.items) == 12
    assert (await web.page(account_id, inbox, ListOptions(limit=1))).items[0].subject == "message 11"
    by_offset = await web.page(account_id, inbox, ListOptions(limit=5, offset=10))
    assert [i.subject for i in by_offset.items] == ["message 01", "message 00"] and by_offset.next_cursor is None
    assert (await web.page(account_id, inbox, ListOptions(offset=50))).items == []
    for bad in (ListOptions(limit=0), ListOptions(limit=201), ListOptions(offset=-1)):
        with pytest.raises(InvalidInput):
            await web.page(account_id, inbox, bad)
    with pytest.raises(InvalidInput):
        await web.page(account_id, inbox, ListOptions(cursor="garbage!"))
    with pytest.raises(InvalidInput, match="cursor"):  # a cursor of another order
        await web.page(account_id, inbox, ListOptions(sort="size", cursor=first.next_cursor))


async def test_filters_and_totals(mail: tuple[Services, WebmailService, int]) -> None:
    _, web, account_id = mail
    inbox = await _inbox(web, account_id)
    unread = await web.page(account_id, inbox, ListOptions(filter="unread"))
    assert [i.subject for i in unread.items] == ["message 09", "message 06", "message 03", "message 00"]
    assert all("\\Seen" not in i.flags for i in unread.items)
    flagged = await web.page(account_id, inbox, ListOptions(filter="flagged"))
    assert [i.subject for i in flagged.items] == ["message 10", "message 05", "message 00"]
    assert flagged.totals.total == 12 and flagged.totals.unread == 4 and flagged.totals.flagged == 3
    assert flagged.matching == 3


async def test_flag_actions_and_counts(mail: tuple[Services, WebmailService, int]) -> None:
    services, web, account_id = mail
    inbox = await _inbox(web, account_id)
    unread = (await web.page(account_id, inbox, ListOptions(filter="unread"))).items
    refs = [MessageRef(inbox, i.uid) for i in unread]
    with services.bus.subscribe(account_id) as events:
        result = await web.act(account_id, refs, "read")
        assert result.changed == 4 and len(events.pending()) == 4
    assert (await web.folder(account_id, inbox)).unseen_count == 0
    assert (await web.act(account_id, refs, "read")).changed == 0
    await web.act(account_id, refs[:1], "unread")
    await web.act(account_id, refs[:2], "flag")
    assert (await web.totals(await web.folder(account_id, inbox))) .unread == 1
    message = await web.set_flags(account_id, refs[0], add=["$Important"], remove=["\\Flagged"])
    assert "$Important" in message.keywords and "\\Flagged" not in message.flags
    with pytest.raises(InvalidInput):
        await web.set_flags(account_id, refs[0], add=["\\Deleted"])
    with pytest.raises(InvalidInput):
        await web.set_flags(account_id, refs[0], add=["bad flag"])


async def test_move_is_atomic_keeps_flags_and_thread_and_publishes_both_sides(
        mail: tuple[Services, WebmailService, int]) -> None:
    services, web, account_id = mail
    inbox = await _inbox(web, account_id)
    work = await web.create_folder(account_id, "Work/项目")
    items = (await web.page(account_id, inbox, ListOptions(limit=3))).items
    refs = [MessageRef(inbox, i.uid) for i in items]
    before = await services.store.directory.get_account_by_id(account_id)
    with services.bus.subscribe(account_id) as events:
        result = await web.act(account_id, refs, "move", work.id)
        seen = events.pending()
    assert result.changed == 3 and result.target_folder_id == work.id
    assert {type(e) for e in seen} == {MessageAdded, MessagesExpunged}
    moved = await web.page(account_id, work.id)
    assert [i.subject for i in moved.items] == [i.subject for i in items]
    assert [i.flags for i in moved.items] == [i.flags for i in items]
    assert [i.thread_id for i in moved.items] == [i.thread_id for i in items]
    inbox_after = await web.folder(account_id, inbox)
    work_after = await web.folder(account_id, work.id)
    assert inbox_after.exists_count == 9 and work_after.exists_count == 3
    assert work_after.uidnext == 4 and work_after.size_bytes == sum(i.size for i in items)
    assert inbox_after.size_bytes + work_after.size_bytes == sum(f.size_bytes for f in await web.folders(account_id))
    after = await services.store.directory.get_account_by_id(account_id)
    assert before is not None and after is not None and before.used_bytes == after.used_bytes
    assert await services.mailbox.vanished(inbox_after, 0) == sorted(r.uid for r in refs)
    report = await services.store.check()
    assert report.ok and not report.problems, report.problems
    # Moving into the folder a message is in changes nothing.
    assert (await web.act(account_id, [MessageRef(work.id, 1)], "move", work.id)).changed == 0
    with pytest.raises(InvalidInput):
        await web.act(account_id, refs, "move")


async def test_delete_goes_to_trash_then_expunges_and_empty(mail: tuple[Services, WebmailService, int]) -> None:
    services, web, account_id = mail
    inbox = await _inbox(web, account_id)
    trash = await web.special(account_id, "trash", "Trash")
    item = (await web.page(account_id, inbox, ListOptions(limit=1))).items[0]
    result = await web.delete_message(account_id, MessageRef(inbox, item.uid))
    assert result.target_folder_id == trash.id
    in_trash = (await web.page(account_id, trash.id)).items
    assert [i.subject for i in in_trash] == [item.subject]
    await web.act(account_id, [MessageRef(trash.id, in_trash[0].uid)], "delete")
    assert (await web.folder(account_id, trash.id)).exists_count == 0
    refs = [MessageRef(inbox, i.uid) for i in (await web.page(account_id, inbox, ListOptions(limit=4))).items]
    await web.act(account_id, refs, "delete")
    assert await web.empty(account_id, trash.id) == 4
    assert (await web.folder(account_id, trash.id)).exists_count == 0
    with pytest.raises(InvalidInput):
        await web.empty(account_id, inbox)
    with pytest.raises(NotFound):
        await web.delete_message(account_id, MessageRef(inbox, 9999))
    assert (await services.store.check()).ok


async def test_spam_and_not_spam_move_between_inbox_and_junk_with_keywords(
        mail: tuple[Services, WebmailService, int]) -> None:
    _, web, account_id = mail
    inbox = await _inbox(web, account_id)
    junk = await web.special(account_id, "junk", "Junk")
    item = (await web.page(account_id, inbox, ListOptions(limit=1))).items[0]
    await web.set_flags(account_id, MessageRef(inbox, item.uid), add=["$NotJunk"])
    await web.act(account_id, [MessageRef(inbox, item.uid)], "spam")
    spam = (await web.page(account_id, junk.id)).items[0]
    assert "$Junk" in spam.keywords and "$NotJunk" not in spam.keywords
    await web.act(account_id, [MessageRef(junk.id, spam.uid)], "notspam")
    back = (await web.page(account_id, inbox, ListOptions(limit=1))).items[0]
    assert back.subject == item.subject and "$NotJunk" in back.keywords and "$Junk" not in back.keywords


async def test_trash_and_junk_are_created_when_missing(mail: tuple[Services, WebmailService, int]) -> None:
    services, web, account_id = mail
    await services.mailbox.delete(account_id, "Trash")
    inbox = await _inbox(web, account_id)
    item = (await web.page(account_id, inbox, ListOptions(limit=1))).items[0]
    result = await web.act(account_id, [MessageRef(inbox, item.uid)], "delete")
    trash = await web.folder(account_id, result.target_folder_id or 0)
    assert trash.name == "Trash" and trash.special_use == "trash" and trash.exists_count == 1


async def test_conversation_and_thread_grouped_list(mail: tuple[Services, WebmailService, int]) -> None:
    services, web, account_id = mail
    root = make_message(subject="周会", message_id="<root@x.org>", date=BASE + timedelta(days=5))
    reply = make_message(subject="Re: 周会", message_id="<reply@x.org>", in_reply_to="<root@x.org>",
                         date=BASE + timedelta(days=6), sender="Alice <alice@example.com>")
    late = make_message(subject="Re: 周会", message_id="<late@x.org>", in_reply_to="<reply@x.org>",
                        date=BASE + timedelta(days=7))
    await services.mailbox.append(account_id, "INBOX", root)
    await services.mailbox.append(account_id, "Sent", reply, ["\\Seen"])
    await services.mailbox.append(account_id, "Trash", late)
    inbox = await _inbox(web, account_id)
    newest = (await web.page(account_id, inbox, ListOptions(limit=1))).items[0]
    assert newest.subject == "周会"
    conversation = await web.conversation(account_id, MessageRef(inbox, newest.uid))
    assert [(m.subject, m.folder) for m in conversation] == [("周会", "INBOX"), ("Re: 周会", "Sent")]
    trash = await web.special(account_id, "trash", "Trash")
    from_trash = await web.conversation(account_id, MessageRef(trash.id, 1))
    assert [m.folder for m in from_trash] == ["INBOX", "Sent", "Trash"]
    # Two more messages in one thread of the Inbox: the grouped list shows that thread once, newest first.
    await services.mailbox.append(account_id, "INBOX", late)
    threads = await web.threads(account_id, inbox, limit=3)
    assert threads.threads[0].latest.message_id != threads.threads[1].latest.message_id
    assert (threads.threads[0].count, threads.threads[0].latest.date) == (2, int((BASE + timedelta(days=7))
                                                                                  .timestamp()))
    assert threads.has_more
    rest = await web.threads(account_id, inbox, limit=50, offset=3)
    assert len(rest.threads) == 10 and not rest.has_more


async def test_another_accounts_folders_and_messages_are_not_found(mail: tuple[Services, WebmailService, int],
                                                                  ) -> None:
    services, web, account_id = mail
    await services.directory.add_account("bob@example.com", "password2")
    bob = await _account(services, "bob@example.com")
    inbox = await _inbox(web, account_id)
    bob_inbox = await _inbox(web, bob)
    for call in (web.folder(bob, inbox), web.page(bob, inbox), web.threads(bob, inbox),
                 web.message(bob, MessageRef(inbox, 1)), web.conversation(bob, MessageRef(inbox, 1)),
                 web.act(bob, [MessageRef(inbox, 1)], "read"), web.act(account_id, [MessageRef(inbox, 1)], "move",
                                                                        bob_inbox),
                 web.delete_folder(bob, inbox), web.empty(bob, inbox), web.search(bob, "message", inbox),
                 web.set_flags(bob, MessageRef(inbox, 1), add=["\\Seen"]), web.folder(account_id, -5)):
        with pytest.raises(NotFound):
            await call
    assert (await web.folder(account_id, inbox)).exists_count == 12
    assert (await web.page(account_id, inbox, ListOptions(filter="unread"))).matching == 4


async def test_folders_create_rename_delete_and_special_ones_stay(mail: tuple[Services, WebmailService, int]) -> None:
    _, web, account_id = mail
    made = await web.create_folder(account_id, "客户")
    renamed = await web.rename_folder(account_id, made.id, "往来/客户")
    assert renamed.id == made.id and renamed.name == "往来/客户"
    assert "往来" in {f.name for f in await web.folders(account_id)}  # the superior was created
    await web.delete_folder(account_id, made.id)
    with pytest.raises(NotFound):
        await web.folder(account_id, made.id)
    trash = await web.special(account_id, "trash", "Trash")
    for call in (web.rename_folder(account_id, trash.id, "Bin"), web.delete_folder(account_id, trash.id),
                 web.create_folder(account_id, "a//b")):
        with pytest.raises(InvalidInput):
            await call


async def test_search_pages_in_the_account_or_one_folder(mail: tuple[Services, WebmailService, int]) -> None:
    services, web, account_id = mail
    await services.mailbox.append(account_id, "Sent", make_message(subject="北京会议纪要"))
    found = await web.search(account_id, "会议")
    assert [i.subject for i in found.items] == ["北京会议纪要"] and found.items[0].folder == "Sent"
    inbox = await _inbox(web, account_id)
    assert (await web.search(account_id, "会议", inbox)).items == []
    page = await web.search(account_id, "is:unread", limit=2)
    assert len(page.items) == 2 and page.has_more
    with pytest.raises(InvalidInput):
        await web.search(account_id, "before:yesterday-ish")
    with pytest.raises(InvalidInput):
        await web.search(account_id, "   ")


@pytest.mark.parametrize(("sort", "index"), [("date", "ix_messages_account_date"),
                                             ("sender", "ix_messages_account_from"),
                                             ("size", "ix_messages_account_size")])
@pytest.mark.parametrize("after", [None, (1000, 5)])
async def test_large_folder_pages_are_read_from_an_index_in_sort_order(mailbox: Services, sort: str, index: str,
                                                                       after: tuple[int, int] | None) -> None:
    request = PageRequest(folder_id=1, account_id=1, sort=sort, filter="all",  # type: ignore[arg-type]
                          after=("k", 5) if after and sort == "sender" else after,
                          candidates=100_000, account_total=110_000, limit=51)
    plan = _plan(mailbox, *page_sql(request))
    assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize(("filter_", "index"), [("unread", "ix_entries_unseen"), ("flagged", "ix_entries_flagged")])
async def test_small_filters_read_only_their_partial_index(mailbox: Services, filter_: str, index: str) -> None:
    request = PageRequest(folder_id=1, account_id=1, filter=filter_, candidates=40,  # type: ignore[arg-type]
                          account_total=100_000)
    plan = _plan(mailbox, *page_sql(request))
    assert index in plan, plan


def _plan(services: Services, sql: str, params: list[object]) -> str:
    connection = sqlite3.connect(services.paths.database)
    try:
        return "\n".join(row[-1] for row in connection.execute("EXPLAIN QUERY PLAN " + sql, params))
    finally:
        connection.close()
