"""The search box language: operators such as from:, subject: and is:unread, and free text.

`parse_query` splits what a user typed into a `SearchQuery`. Free text is left for
`yizhan.mail.tokens.match_expression`; operators become structured filters the store applies itself.

Invariants:

* `parse_query` never raises. A bad operator value (an unreadable date, an unknown `is:` word) is reported in
  `errors` and otherwise ignored, so the rest of the query still runs.
* Operator names are case-insensitive, and the full-width colon `：` works as a colon. A word before a colon
  that is not an operator (`http://x`, `10:30`, `foo:bar`) stays in the free text.
* Values may be quoted, with ASCII or curly quotes: `subject:"季度 报告"`. Quoted phrases in the free text
  come back in `text` with ASCII double quotes, and `text` never holds an unbalanced quote.
* The input is NFKC-normalised first, so fullwidth ｆｒｏｍ：ａｌｉｃｅ reads like from:alice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

__all__ = ["OPERATORS", "SearchQuery", "parse_query"]


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search: free text plus filters. Empty tuples and None mean "no constraint"."""

    # Free text with the operators removed; quoted phrases keep their quotes.
    text: str = ""
    # Each from: value; a message matches when its From matches every one.
    from_: tuple[str, ...] = ()
    # Each to: or cc: value, matched against To and Cc.
    to: tuple[str, ...] = ()
    # Each subject: value.
    subject: tuple[str, ...] = ()
    # The folder named by in:, or None for every folder.
    folder: str | None = None
    # Messages dated strictly before this day (before:) and on or after this day (after:).
    before: date | None = None
    after: date | None = None
    # has:attachment.
    has_attachment: bool = False
    # True for is:unread, False for is:read, None when not asked.
    unread: bool | None = None
    # True for is:flagged or is:starred, False for is:unflagged, None when not asked.
    flagged: bool | None = None
    # Human-readable reports of operator values that could not be used.
    errors: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether the query asks for nothing at all (no text and no filter)."""
        return self == SearchQuery(errors=self.errors)


OPERATORS = frozenset({"from", "to", "cc", "subject", "in", "before", "after", "has", "is"})

# Opening quote characters and the quote that closes each.
_QUOTES = {'"': '"', "“": "”", "「": "」"}

# An operator name followed by a colon (ASCII or full-width, in case NFKC was bypassed).
_OPERATOR_RE = re.compile(r"([A-Za-z]+)[:：]")

_DATE_RE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})|(\d{4})年(\d{1,2})月(\d{1,2})日?")

_IS_VALUES: dict[str, tuple[str, bool]] = {
    "unread": ("unread", True),
    "unseen": ("unread", True),
    "read": ("unread", False),
    "seen": ("unread", False),
    "flagged": ("flagged", True),
    "starred": ("flagged", True),
    "unflagged": ("flagged", False),
    "unstarred": ("flagged", False),
}
_HAS_VALUES = frozenset({"attachment", "attachments", "attach"})


def _read_value(q: str, i: int) -> tuple[str, bool, int]:
    """Read a value starting at `i`: a quoted string or a run of non-space characters.

    Returns the value, whether it was quoted, and the index just after it. An unclosed quote runs to the end.
    """
    if i < len(q) and q[i] in _QUOTES:
        close = _QUOTES[q[i]]
        end = q.find(close, i + 1)
        if end < 0:
            return q[i + 1 :], True, len(q)
        return q[i + 1 : end], True, end + 1
    j = i
    while j < len(q) and not q[j].isspace():
        j += 1
    return q[i:j], False, j


def _parse_date(value: str) -> date | None:
    """A date from YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or 2024年3月5日, or None."""
    m = _DATE_RE.fullmatch(value.strip())
    if m is None:
        return None
    groups = [g for g in m.groups() if g is not None]
    try:
        return date(int(groups[0]), int(groups[1]), int(groups[2]))
    except ValueError:
        return None


def _clean_phrase(value: str) -> str:
    """A phrase value without quote characters, with inner white space collapsed."""
    for quote in (*_QUOTES, *_QUOTES.values()):
        value = value.replace(quote, " ")
    return " ".join(value.split())


def parse_query(q: str) -> SearchQuery:
    """Parse a search box string into a `SearchQuery`; never raises.

    >>> parse_query('from:alice subject:"季度 报告" is:unread 预算 before:2024/03/01').subject
    ('季度 报告',)
    """
    q = unicodedata.normalize("NFKC", q)
    text: list[str] = []
    from_: list[str] = []
    to: list[str] = []
    subject: list[str] = []
    folder: str | None = None
    before: date | None = None
    after: date | None = None
    has_attachment = False
    flags: dict[str, bool] = {}
    errors: list[str] = []

    i = 0
    n = len(q)
    while i < n:
        if q[i].isspace():
            i += 1
            continue
        m = _OPERATOR_RE.match(q, i)
        if m is not None and m.group(1).lower() in OPERATORS:
            name = m.group(1).lower()
            raw, _quoted, i = _read_value(q, m.end())
            value = _clean_phrase(raw)
            if not value:
                errors.append(f"{name}: needs a value")
            elif name == "from":
                from_.append(value)
            elif name in ("to", "cc"):
                to.append(value)
            elif name == "subject":
                subject.append(value)
            elif name == "in":
                if folder is not None and folder != value:
                    errors.append(f"in: given more than once; using {value!r}")
                folder = value
            elif name in ("before", "after"):
                day = _parse_date(value)
                if day is None:
                    errors.append(f"{name}: {value!r} is not a date (use YYYY-MM-DD)")
                elif name == "before":
                    # Several before: values narrow the range, so the earliest wins.
                    before = day if before is None else min(before, day)
                else:
                    after = day if after is None else max(after, day)
            elif name == "has":
                if value.lower() in _HAS_VALUES:
                    has_attachment = True
                else:
                    errors.append(f"has: {value!r} is not understood (try has:attachment)")
            else:
                flag = _IS_VALUES.get(value.lower())
                if flag is None:
                    errors.append(f"is: {value!r} is not understood (try is:unread, is:read or is:flagged)")
                else:
                    flags[flag[0]] = flag[1]
            continue
        if q[i] in _QUOTES:
            raw, _quoted, i = _read_value(q, i)
            phrase = _clean_phrase(raw)
            if phrase:
                text.append(f'"{phrase}"')
            continue
        # A bare word, possibly an unknown word:value, stays as text; stray quotes inside it are dropped so
        # that the text never holds an unbalanced quote.
        raw, _quoted, i = _read_value(q, i)
        word = _clean_phrase(raw)
        if word:
            text.append(word)

    return SearchQuery(
        text=" ".join(text),
        from_=tuple(from_),
        to=tuple(to),
        subject=tuple(subject),
        folder=folder,
        before=before,
        after=after,
        has_attachment=has_attachment,
        unread=flags.get("unread"),
        flagged=flags.get("flagged"),
        errors=tuple(errors),
    )
