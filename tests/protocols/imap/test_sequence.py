"""Sequence sets (RFC 9051 §9): parsing, `*` resolution, reversed ranges, bounds and the range cap."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yizhan.protocols.imap.errors import ParseError
from yizhan.protocols.imap.sequence import MAX_RANGES, SequenceSet, parse_sequence_set


@pytest.mark.parametrize(
    ("text", "largest", "expected"),
    [
        ("1", 10, [(1, 1)]),
        ("1:*", 10, [(1, 10)]),
        ("*", 10, [(10, 10)]),
        ("4:2", 10, [(2, 4)]),
        ("*:4", 10, [(4, 10)]),
        ("2,4:7,9,12:*", 15, [(2, 2), (4, 7), (9, 9), (12, 15)]),
        ("1:3,2:5", 10, [(1, 5)]),
        ("559:*", 100, [(100, 559)]),  # RFC 9051 §6.4.9: includes the last message even when 559 is above it.
        ("1:*,*:4294967295", 7, [(1, 4294967295)]),
        ("1:*", 0, [(0, 1)]),
    ],
)
def test_resolve(text: str, largest: int, expected: list[tuple[int, int]]) -> None:
    assert parse_sequence_set(text).resolve(largest) == expected


@pytest.mark.parametrize(
    "text",
    ["", "0", "0:5", "4294967296", "1:", ":3", "1,,2", "1:2:3", "a", "1 2", "-1", "99999999999999999999999",
     "1,", "$,1", "**", "1:**"],
)
def test_invalid(text: str) -> None:
    with pytest.raises(ParseError):
        parse_sequence_set(text)


def test_saved_result_and_star_restrictions() -> None:
    saved = parse_sequence_set("$")
    assert saved.saved and str(saved) == "$"
    with pytest.raises(ValueError):
        saved.resolve(5)
    with pytest.raises(ParseError):
        parse_sequence_set("$", allow_saved=False)
    with pytest.raises(ParseError):
        parse_sequence_set("1:*", allow_star=False)


def test_range_count_is_bounded() -> None:
    parse_sequence_set(",".join(str(n) for n in range(1, MAX_RANGES + 1)))
    with pytest.raises(ParseError):
        parse_sequence_set(",".join(str(n) for n in range(1, MAX_RANGES + 2)))


def test_contains_values_and_str() -> None:
    seq = parse_sequence_set("2,4:6,10:*")
    assert [n for n in range(1, 13) if seq.contains(n, 11)] == [2, 4, 5, 6, 10, 11]
    assert list(seq.values(11)) == [2, 4, 5, 6, 10, 11]
    assert str(seq) == "2,4:6,10:*"
    assert str(SequenceSet.from_numbers([5, 1, 2, 3, 9, 10])) == "1:3,5,9:10"


@given(st.lists(st.integers(1, 4294967295), min_size=1, max_size=50))
def test_from_numbers_round_trips(numbers: list[int]) -> None:
    seq = parse_sequence_set(str(SequenceSet.from_numbers(numbers)))
    assert list(seq.values(max(numbers))) == sorted(set(numbers))


@given(st.text(alphabet="0123456789:*,$", max_size=40))
def test_random_text_never_raises_other_errors(text: str) -> None:
    try:
        seq = parse_sequence_set(text)
    except ParseError:
        return
    if not seq.saved:
        seq.resolve(100)
