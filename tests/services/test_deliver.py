"""The deliver service: filing, aliases, catch-all, quota, malformed mail, concurrency, events."""

from __future__ import annotations

import asyncio

import pytest

from tests.mail.malformed import MALFORMED_WORDS, malformed_corpus
from tests.mailfactory import make_message
from yizhan.services.runtime import Services
from yizhan.store.events import MessageAdded
from yizhan.util.errors import NotFound, QuotaExceeded


async def inbox(services: Services, address: str) -> tuple[int, int]:
    account = await services.directory.account(address)
    folder = await services.store.folders.get(account.id, "INBOX")
    assert folder is not None
    return account.id, folder.id


async def test_delivered_message_is_stored_verbatim_in_inbox(mailbox: Services) -> None:
    raw = make_message(subject="Quarterly report", body="Numbers attached.")
    report = await mailbox.delivery.deliver(raw, "bob@example.org", ["alice@example.com"])
    assert [o.ok for o in report.outcomes] == [True]
    account_id, folder_id = await inbox(mailbox, "alice@example.com")
    [item] = await mailbox.store.messages.page(folder_id)
    assert item.uid == 1
    assert item.subject == "Quarterly report"
    assert item.from_addr == "bob@example.org"
    assert await mailbox.store.blobs.aread(item.blob) == raw
    folder = await mailbox.store.folders.get(account_id, "INBOX")
    assert folder is not None and (folder.exists_count, folder.unseen_count, folder.uidnext) == (1, 1, 2)
    account = await mailbox.directory.account("alice@example.com")
    assert account.used_bytes == len(raw)


async def test_unknown_recipient_is_refused_and_others_still_get_it(mailbox: Services) -> None:
    report = await mailbox.delivery.deliver(make_message(), "bob@example.org",
                                            ["nobody@example.com", "alice@example.com"])
    nobody, alice = report.outcomes
    assert isinstance(nobody.error, NotFound)
    assert alice.ok and len(alice.stored) == 1


async def test_alias_fans_out_and_catch_all_catches_the_rest(mailbox: Services) -> None:
    await mailbox.directory.add_account("carol@example.com", "password1")
    await mailbox.directory.add_alias("team@example.com", ["alice@example.com", "carol@example.com"])
    await mailbox.directory.add_alias("@example.com", ["carol@example.com"])
    report = await mailbox.delivery.deliver(make_message(), "bob@example.org",
                                            ["team@example.com", "typo@example.com", "alice@example.com"])
    assert all(o.ok for o in report.outcomes)
    team, typo, direct = report.outcomes
    assert len(team.stored) == 2 and len(typo.stored) == 1
    # Alice is reached twice (via the alias and directly) but receives one copy.
    _, alice_inbox = await inbox(mailbox, "alice@example.com")
    _, carol_inbox = await inbox(mailbox, "carol@example.com")
    assert len(await mailbox.store.messages.page(alice_inbox)) == 1
    assert len(await mailbox.store.messages.page(carol_inbox)) == 1
    assert direct.stored == team.stored[:1] or direct.stored[0] in team.stored


async def test_identical_bytes_for_many_recipients_share_one_blob(mailbox: Services) -> None:
    await mailbox.directory.add_account("carol@example.com", "password1")
    raw = make_message()
    await mailbox.delivery.deliver(raw, "bob@example.org", ["alice@example.com", "carol@example.com"])
    blob_files = list(mailbox.paths.blobs.rglob("*"))
    assert len([p for p in blob_files if p.is_file()]) == 1


async def test_over_quota_recipient_gets_quota_error(mailbox: Services) -> None:
    await mailbox.directory.add_account("small@example.com", "password1", quota_bytes=2000)
    report = await mailbox.delivery.deliver(make_message(body="x" * 3000), "bob@example.org",
                                            ["small@example.com", "alice@example.com"])
    small, alice = report.outcomes
    assert isinstance(small.error, QuotaExceeded)
    assert alice.ok


async def test_concurrent_deliveries_get_distinct_consecutive_uids(mailbox: Services) -> None:
    raws = [make_message(subject=f"message {i}") for i in range(300)]
    reports = await asyncio.gather(*(mailbox.delivery.deliver(raw, "bob@example.org", ["alice@example.com"])
                                     for raw in raws))
    uids = sorted(r.outcomes[0].stored[0].uid for r in reports)
    assert uids == list(range(1, 301))
    account_id, folder_id = await inbox(mailbox, "alice@example.com")
    assert await mailbox.store.messages.uids(folder_id) == uids
    folder = await mailbox.store.folders.get(account_id, "INBOX")
    assert folder is not None and folder.uidnext == 301 and folder.exists_count == 300
    subjects = {m.subject for m in await mailbox.store.messages.page(folder_id, limit=500)}
    assert subjects == {f"message {i}" for i in range(300)}


async def test_events_are_published_after_commit(mailbox: Services) -> None:
    account_id, folder_id = await inbox(mailbox, "alice@example.com")
    with mailbox.bus.subscribe(account_id) as subscription:
        await mailbox.delivery.deliver(make_message(), "bob@example.org", ["alice@example.com"])
        [event] = subscription.pending()
    assert event == MessageAdded(account_id, folder_id, 1, event.modseq)


@pytest.mark.parametrize("name", sorted(malformed_corpus()))
async def test_malformed_mail_is_kept_verbatim_and_searchable(mailbox: Services, name: str) -> None:
    raw = malformed_corpus()[name]
    report = await mailbox.delivery.deliver(raw, "bob@example.org", ["alice@example.com"])
    assert report.outcomes[0].ok
    account_id, folder_id = await inbox(mailbox, "alice@example.com")
    [item] = await mailbox.store.messages.page(folder_id)
    assert await mailbox.store.blobs.aread(item.blob) == raw
    word = MALFORMED_WORDS[name]
    if word:
        found = await mailbox.search.search(account_id, word)
        assert [m.uid for m in found] == [item.uid], f"{word!r} not found in {name}"


async def test_threads_follow_references(mailbox: Services) -> None:
    first = make_message(subject="Plan", message_id="<p1@example.org>")
    reply = make_message(subject="Re: Plan", message_id="<p2@example.org>", in_reply_to="<p1@example.org>")
    other = make_message(subject="Unrelated", message_id="<u1@example.org>")
    for raw in (first, reply, other):
        await mailbox.delivery.deliver(raw, "bob@example.org", ["alice@example.com"])
    _, folder_id = await inbox(mailbox, "alice@example.com")
    threads = {m.subject: m.thread_id for m in await mailbox.store.messages.page(folder_id)}
    assert threads["Plan"] == threads["Re: Plan"] != threads["Unrelated"]


async def test_reply_arriving_before_its_parent_joins_the_same_thread(mailbox: Services) -> None:
    reply = make_message(subject="Re: Trip", message_id="<t2@example.org>", in_reply_to="<t1@example.org>")
    first = make_message(subject="Trip", message_id="<t1@example.org>")
    await mailbox.delivery.deliver(reply, "bob@example.org", ["alice@example.com"])
    await mailbox.delivery.deliver(first, "bob@example.org", ["alice@example.com"])
    _, folder_id = await inbox(mailbox, "alice@example.com")
    threads = {m.subject: m.thread_id for m in await mailbox.store.messages.page(folder_id)}
    assert threads["Trip"] == threads["Re: Trip"]
