"""Sequence sets (RFC 9051 §9 `sequence-set`, RFC 3501 §9): `1,3:5,7:*`, and `$`, the saved search result (RFC 5182).

A range is kept as written, `*` as None; `resolve(largest)` turns `*` into the largest number in use and orders each
range, since `4:2` means `2:4` (RFC 9051 §9, `seq-range`). Invariants: numbers are 1..4294967295 (`nz-number`), a
set holds at most `MAX_RANGES` ranges (so `1:*,*:4294967295` is fine and a 100,000-range set is refused), and parsing
raises only `ParseError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from yizhan.protocols.imap.errors import ParseError

MAX_NUMBER = 4294967295
MAX_RANGES = 20000


@dataclass(frozen=True, slots=True)
class SequenceSet:
    """A parsed sequence set: ranges (low, high) as written, None meaning `*`; or `saved` for `$`."""

    ranges: tuple[tuple[int | None, int | None], ...] = ()
    saved: bool = False

    @property
    def uses_star(self) -> bool:
        return any(low is None or high is None for low, high in self.ranges)

    def resolve(self, largest: int) -> list[tuple[int, int]]:
        """Sorted, merged, inclusive ranges with `*` replaced by `largest` (0 for an empty mailbox).

        RFC 9051 §6.4.9: `559:*` always includes the last message, even when 559 is above it.
        Raises ValueError for `$`, which the session must replace by the saved result first.
        """
        if self.saved:
            raise ValueError("the saved result ($) must be substituted by the session")
        spans = []
        for low, high in self.ranges:
            a = largest if low is None else low
            b = largest if high is None else high
            spans.append((a, b) if a <= b else (b, a))
        spans.sort()
        merged: list[tuple[int, int]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1] + 1:
                if b > merged[-1][1]:
                    merged[-1] = (merged[-1][0], b)
            else:
                merged.append((a, b))
        return merged

    def contains(self, number: int, largest: int) -> bool:
        """Whether `number` is in the set when `*` means `largest`."""
        return any(a <= number <= b for a, b in self.resolve(largest))

    def values(self, largest: int, limit: int | None = None) -> Iterator[int]:
        """The numbers in the set, ascending, capped at `limit` (default: `largest`), zero excluded."""
        cap = largest if limit is None else limit
        for a, b in self.resolve(largest):
            yield from range(max(a, 1), min(b, cap) + 1)

    def __str__(self) -> str:
        if self.saved:
            return "$"
        parts = []
        for low, high in self.ranges:
            first = "*" if low is None else str(low)
            if low == high:
                parts.append(first)
            else:
                parts.append(first + ":" + ("*" if high is None else str(high)))
        return ",".join(parts)

    @classmethod
    def from_numbers(cls, numbers: list[int]) -> SequenceSet:
        """A compact set for the given numbers (e.g. for COPYUID and ESEARCH ALL)."""
        ranges: list[tuple[int | None, int | None]] = []
        for n in sorted(set(numbers)):
            if ranges and ranges[-1][1] is not None and n == ranges[-1][1] + 1:
                ranges[-1] = (ranges[-1][0], n)
            else:
                ranges.append((n, n))
        return cls(tuple(ranges))


def _number(text: str, allow_star: bool) -> int | None:
    if text == "*":
        if not allow_star:
            raise ParseError("'*' is not allowed here")
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise ParseError("invalid number in sequence set")
    value = int(text)
    if value < 1 or value > MAX_NUMBER:
        raise ParseError("sequence numbers are 1 to 4294967295")
    return value


def parse_sequence_set(text: str, *, allow_star: bool = True, allow_saved: bool = True,
                       max_ranges: int = MAX_RANGES) -> SequenceSet:
    """Parse RFC 9051 §9 `sequence-set` (or `$` when `allow_saved`); raise ParseError on anything else."""
    if text == "$":
        if not allow_saved:
            raise ParseError("'$' is not allowed here")
        return SequenceSet(saved=True)
    if not text:
        raise ParseError("empty sequence set")
    if text.count(",") >= max_ranges:
        raise ParseError("too many ranges in sequence set")
    ranges: list[tuple[int | None, int | None]] = []
    for item in text.split(","):
        low, sep, high = item.partition(":")
        first = _number(low, allow_star)
        ranges.append((first, _number(high, allow_star)) if sep else (first, first))
    return SequenceSet(tuple(ranges))
