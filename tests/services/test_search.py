"""Search over an account: Chinese two-character words, English words and prefixes, operators, paging."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.mailfactory import make_message
from yizhan.services.runtime import Services
from yizhan.util.errors import InvalidInput

MESSAGES = [
    # (subject, body, sender, day)
    ("北京会议通知", "请各部门负责人参加下周的项目会议。", "王经理 <wang@example.cn>", 1),
    ("上海项目预算", "附件是上海分公司的预算表，请审批。", "李会计 <li@example.cn>", 2),
    ("Quarterly budget review", "The meeting is scheduled for Thursday afternoon.", "Dana <dana@corp.example>", 3),
    ("Lunch?", "Are you free for lunch tomorrow? 我们在北京饭店见。", "Eve <eve@corp.example>", 4),
    ("合同草案", "Please review the contract draft before signing.", "赵律师 <zhao@law.example>", 5),
]


@pytest.fixture
async def corpus(mailbox: Services) -> tuple[Services, int]:
    for subject, body, sender, day in MESSAGES:
        raw = make_message(subject=subject, body=body, sender=sender, date=datetime(2024, 3, day, tzinfo=UTC))
        await mailbox.delivery.deliver(raw, "x@example.org", ["alice@example.com"])
    account = await mailbox.directory.account("alice@example.com")
    return mailbox, account.id


async def subjects(services: Services, account_id: int, query: str, **kw: object) -> list[str]:
    return [m.subject for m in await services.search.search(account_id, query, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(("query", "expected"), [
    ("北京", ["Lunch?", "北京会议通知"]),          # in a body and in a subject, newest first
    ("会议", ["北京会议通知"]),                     # a two-character word inside a longer run
    ("预算", ["上海项目预算"]),
    ("审批", ["上海项目预算"]),
    ("项目", ["上海项目预算", "北京会议通知"]),
    ("北京会议", ["北京会议通知"]),
    ("北京 项目", ["北京会议通知"]),                # every word must match
    ("meeting", ["Quarterly budget review"]),
    ("meet", ["Quarterly budget review"]),          # English prefixes
    ("BUDGET", ["Quarterly budget review"]),        # case-insensitive
    ("contract draft", ["合同草案"]),
    ("王经理", ["北京会议通知"]),                   # a sender's Chinese name
    ("dana", ["Quarterly budget review"]),          # an address
    ("会北", []),                                   # characters present, but never in this order
    ("东京", []),
    ("nonexistentword", []),
])
async def test_free_text(corpus: tuple[Services, int], query: str, expected: list[str]) -> None:
    services, account_id = corpus
    assert await subjects(services, account_id, query) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ("from:wang", ["北京会议通知"]),
    ("from:corp.example", ["Lunch?", "Quarterly budget review"]),
    ("subject:预算", ["上海项目预算"]),
    ("subject:budget", ["Quarterly budget review"]),
    ("after:2024-03-04", ["合同草案", "Lunch?"]),
    ("before:2024-03-02", ["北京会议通知"]),
    ("after:2024-03-02 before:2024-03-04 ", ["Quarterly budget review", "上海项目预算"]),
    ("北京 from:eve", ["Lunch?"]),
    ("is:unread", [s for s, *_ in reversed(MESSAGES)]),
    ("is:flagged", []),
])
async def test_operators(corpus: tuple[Services, int], query: str, expected: list[str]) -> None:
    services, account_id = corpus
    assert await subjects(services, account_id, query) == expected


async def test_paging_and_folders(corpus: tuple[Services, int]) -> None:
    services, account_id = corpus
    first = await subjects(services, account_id, "after:2000-01-01", limit=2)
    second = await subjects(services, account_id, "after:2000-01-01", limit=2, offset=2)
    third = await subjects(services, account_id, "after:2000-01-01", limit=2, offset=4)
    assert first + second + third == [s for s, *_ in reversed(MESSAGES)]
    assert await subjects(services, account_id, "北京", folder="Sent") == []
    assert await subjects(services, account_id, "北京 in:inbox") == ["Lunch?", "北京会议通知"]


async def test_flag_filters_follow_flag_changes(corpus: tuple[Services, int]) -> None:
    services, account_id = corpus
    inbox = await services.store.folders.get(account_id, "INBOX")
    assert inbox is not None
    await services.store.messages.store_flags(inbox.id, [1], add=["\\Flagged", "\\Seen"])
    assert await subjects(services, account_id, "is:flagged") == ["北京会议通知"]
    assert "北京会议通知" not in await subjects(services, account_id, "is:unread")


async def test_searches_stay_within_the_account(corpus: tuple[Services, int]) -> None:
    services, _ = corpus
    other = await services.directory.add_account("mallory@example.com", "password1")
    assert await subjects(services, other.id, "北京") == []


async def test_bad_queries_are_clear_errors_or_empty(corpus: tuple[Services, int]) -> None:
    services, account_id = corpus
    with pytest.raises(InvalidInput):
        await services.search.search(account_id, "before:yesterday-ish")
    for junk in ['"', "(", "AND OR NOT", "*", "NEAR(", "subject:", ":::"]:
        try:
            await services.search.search(account_id, junk)
        except InvalidInput as exc:
            assert str(exc)
    # Query syntax typed by a user is searched for as words, never obeyed: no OR sneaks in.
    injected = await subjects(services, account_id, '北京") OR ("合同')
    assert set(injected) <= set(await subjects(services, account_id, "北京"))
