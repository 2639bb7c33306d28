"""Address headers, normalisation and validity."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yizhan.mail.addresses import (
    is_valid_address,
    normalize_address,
    parse_address_entries,
    parse_address_list,
    split_address,
)
from yizhan.mail.model import Address


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a@example.com", [("", "a@example.com")]),
        ("Alice <alice@example.com>", [("Alice", "alice@example.com")]),
        ('"Doe, John" <j@x.org>, b@y.org', [("Doe, John", "j@x.org"), ("", "b@y.org")]),
        ("=?UTF-8?B?5byg5LiJ?= <zhang@example.com>", [("张三", "zhang@example.com")]),
        ('"=?gb2312?B?xOO6ww==?=" <n@example.com>', [("你好", "n@example.com")]),
        ("bob@example.com (Bob Smith)", [("Bob Smith", "bob@example.com")]),
        ("team: a@b.c, Dee <d@e.f>;, z@z.z", [("", "a@b.c"), ("Dee", "d@e.f"), ("", "z@z.z")]),
        ("undisclosed-recipients:;", []),
        ("<@relay.net:user@host.org>", [("", "user@host.org")]),
        ("Broken <unterminated@x.org", [("Broken", "unterminated@x.org")]),
        ("", []),
        (",,,", []),
        ('"unterminated quote <q@x.org>', [("unterminated quote", "q@x.org")]),
        ("张三 <zhang@example.com>", [("张三", "zhang@example.com")]),
        ("年终 <n@x.org>".encode("gbk").decode("ascii", "surrogateescape"), [("年终", "n@x.org")]),
        ("Name (comment (nested)) <x@y.z>", [("Name", "x@y.z")]),
    ],
)
def test_parse_address_list(value: str, expected: list[tuple[str, str]]) -> None:
    assert parse_address_list(value) == tuple(Address(name, addr) for name, addr in expected)


def test_entries_keep_groups_and_raw_names() -> None:
    entries = parse_address_entries("=?utf-8?q?x?= <a@b.c>, g: d@e.f;")
    assert entries == (
        ("mailbox", "=?utf-8?q?x?=", "a@b.c"),
        ("group_start", "g", ""),
        ("mailbox", "", "d@e.f"),
        ("group_end", "", ""),
    )


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        (" Alice@Example.COM ", "alice@example.com"),
        ("<Bob@EXAMPLE.org>", "bob@example.org"),
        ("user@xn--fiqs8s.cn", "user@中国.cn"),
        ("user@中国.CN", "user@中国.cn"),
        ("user@example.com.", "user@example.com"),
        ("nodomain", "nodomain"),
        ("user@xn--broken-", "user@xn--broken-"),
    ],
)
def test_normalize_address(addr: str, expected: str) -> None:
    assert normalize_address(addr) == expected


def test_split_address() -> None:
    assert split_address("a@b.c") == ("a", "b.c")
    assert split_address('"x@y"@b.c') == ('"x@y"', "b.c")
    assert split_address("local") == ("local", "")


@pytest.mark.parametrize(
    ("addr", "valid"),
    [
        ("a@b.c", True),
        ("用户@例子.中国", True),
        ("a.b+tag@example.com", True),
        ("a@[192.0.2.1]", True),
        ("a@b@c", False),
        ("@b.c", False),
        ("a@", False),
        ("a b@c.d", False),
        ("a\x00@c.d", False),
        ("a@c\td", False),
        ("a..b@c.d", False),
        ("a@-c.d", False),
        ("a@c..d", False),
        ("x" * 65 + "@c.d", False),
        ("", False),
    ],
)
def test_is_valid_address(addr: str, valid: bool) -> None:
    assert is_valid_address(addr) is valid


@given(st.text())
def test_address_functions_never_raise(value: str) -> None:
    for address in parse_address_list(value):
        assert isinstance(address.addr, str)
    normalize_address(value)
    split_address(value)
    is_valid_address(value)
