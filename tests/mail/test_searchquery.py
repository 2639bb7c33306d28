"""Tests for yizhan.mail.searchquery: the search box operator language."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.mail.searchquery import SearchQuery, parse_query
from yizhan.mail.tokens import match_expression

# Table of (query, expected fields); fields not named must keep their defaults, except errors when named.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("", {}),
    ("   ", {}),
    ("预算 报告", {"text": "预算 报告"}),
    ("from:alice", {"from_": ("alice",)}),
    ("FROM:alice", {"from_": ("alice",)}),
    ("From：alice", {"from_": ("alice",)}),
    ("ｆｒｏｍ：ａｌｉｃｅ", {"from_": ("alice",)}),
    ("from:alice from:example.com", {"from_": ("alice", "example.com")}),
    ('from:"Alice Wong" budget', {"from_": ("Alice Wong",), "text": "budget"}),
    ("to:bob cc:carol", {"to": ("bob", "carol")}),
    ('subject:"季度 报告"', {"subject": ("季度 报告",)}),
    ("subject:“季度 报告” 预算", {"subject": ("季度 报告",), "text": "预算"}),
    ("subject：「季度 报告」", {"subject": ("季度 报告",)}),
    ('subject:"unclosed value', {"subject": ("unclosed value",)}),
    ("in:Archive", {"folder": "Archive"}),
    ("in:INBOX in:Sent", {"folder": "Sent", "errors": 1}),
    ("before:2024-03-01", {"before": date(2024, 3, 1)}),
    ("before:2024/3/1", {"before": date(2024, 3, 1)}),
    ("after:2023年12月5日", {"after": date(2023, 12, 5)}),
    ("before:2024-03-01 before:2024-01-01", {"before": date(2024, 1, 1)}),
    ("after:2024-03-01 after:2024-01-01", {"after": date(2024, 3, 1)}),
    ("before:yesterday", {"errors": 1}),
    ("before:2024-02-30", {"errors": 1}),
    ("after:", {"errors": 1}),
    ("has:attachment", {"has_attachment": True}),
    ("HAS:Attachments", {"has_attachment": True}),
    ("has:pictures", {"errors": 1}),
    ("is:unread", {"unread": True}),
    ("is:read", {"unread": False}),
    ("is:unread is:read", {"unread": False}),
    ("is:flagged", {"flagged": True}),
    ("is:starred", {"flagged": True}),
    ("is:unflagged", {"flagged": False}),
    ("is:important", {"errors": 1}),
    ("http://example.com 10:30", {"text": "http://example.com 10:30"}),
    ("label:work", {"text": "label:work"}),
    ('"quarterly report" from:bob 北京', {"text": '"quarterly report" 北京', "from_": ("bob",)}),
    ('abc"def', {"text": "abc def"}),
    ('"', {}),
    ('""', {}),
    (
        'from:alice@example.com to:bob subject:"Q3 预算" in:Work before:2024-06-30 after:2024/01/01 '
        "has:attachment is:unread is:starred 合同 review",
        {
            "text": "合同 review",
            "from_": ("alice@example.com",),
            "to": ("bob",),
            "subject": ("Q3 预算",),
            "folder": "Work",
            "before": date(2024, 6, 30),
            "after": date(2024, 1, 1),
            "has_attachment": True,
            "unread": True,
            "flagged": True,
        },
    ),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_table(query: str, expected: dict[str, Any]) -> None:
    parsed = parse_query(query)
    fields = dict(expected)
    errors = fields.pop("errors", 0)
    assert len(parsed.errors) == errors, parsed.errors
    assert parsed == SearchQuery(**fields, errors=parsed.errors)


def test_is_empty() -> None:
    assert parse_query("").is_empty
    assert parse_query("is:bogus").is_empty
    assert not parse_query("x").is_empty
    assert not parse_query("is:unread").is_empty


def test_errors_are_readable() -> None:
    (message,) = parse_query("before:soon").errors
    assert "before" in message
    assert "soon" in message


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_never_raises(q: str) -> None:
    parsed = parse_query(q)
    assert parsed.text.count('"') % 2 == 0
    match_expression(parsed.text)


OPERATOR_WORDS = st.sampled_from(
    [
        "from:",
        "to:",
        "cc:",
        "subject:",
        "in:",
        "before:",
        "after:",
        "has:",
        "is:",
        "FROM：",
        "x:",
        ":",
        '"',
        "“",
        "」",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(OPERATOR_WORDS, st.text(max_size=6), st.just(" ")), max_size=12))
def test_operator_soup_never_raises(parts: list[str]) -> None:
    parsed = parse_query("".join(parts))
    assert isinstance(parsed, SearchQuery)
    assert parsed.text.count('"') % 2 == 0
