"""The typed SEARCH criteria tree (RFC 3501 §6.4.4, RFC 9051 §6.4.4, RFC 7162 §3.1.5 MODSEQ, RFC 5032 WITHIN).

Every criterion of the RFCs maps to one of these values:

- `All()`; `Flag(flag, present)` for ANSWERED DELETED DRAFT FLAGGED SEEN, their UN- forms and KEYWORD / UNKEYWORD
  (`flag` is `\\Seen` or the keyword as sent); `Recent()`, `New()` (recent and unseen), `Old()` (not recent).
- `Header(field, value)` for HEADER and the shortcuts BCC CC FROM SUBJECT TO (`field` lower-cased).
- `Text(value, body_only)` for TEXT (header and body) and BODY.
- `Date(op, day, sent)` for BEFORE ON SINCE (internal date) and SENTBEFORE SENTON SENTSINCE (Date header).
- `Size(op, size)` for LARGER / SMALLER; `Age(op, seconds)` for OLDER / YOUNGER.
- `Sequence(seq, uid)` for a sequence set or UID set (`$` for the saved result).
- `ModSeq(modseq, entry, entry_type)`.
- `Not(key)`, `Or(left, right)`, `And(keys)` (a parenthesised list or the whole program).

Invariant: the tree is at most `MAX_DEPTH` deep (the parser refuses deeper nesting with a ParseError).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal

from yizhan.protocols.imap.sequence import SequenceSet

MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class All:
    pass


@dataclass(frozen=True, slots=True)
class Flag:
    flag: str
    present: bool = True


@dataclass(frozen=True, slots=True)
class Recent:
    pass


@dataclass(frozen=True, slots=True)
class New:
    pass


@dataclass(frozen=True, slots=True)
class Old:
    pass


@dataclass(frozen=True, slots=True)
class Header:
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class Text:
    value: str
    body_only: bool = False


@dataclass(frozen=True, slots=True)
class Date:
    op: Literal["before", "on", "since"]
    day: datetime.date
    sent: bool = False


@dataclass(frozen=True, slots=True)
class Size:
    op: Literal["larger", "smaller"]
    size: int


@dataclass(frozen=True, slots=True)
class Age:
    """RFC 5032: OLDER n (internal date at least n seconds ago) / YOUNGER n."""

    op: Literal["older", "younger"]
    seconds: int


@dataclass(frozen=True, slots=True)
class Sequence:
    seq: SequenceSet
    uid: bool = False


@dataclass(frozen=True, slots=True)
class ModSeq:
    """RFC 7162 §3.1.5: entries whose MODSEQ is at least `modseq`; the optional entry name and type are kept."""

    modseq: int
    entry: str | None = None
    entry_type: Literal["priv", "shared", "all"] | None = None


@dataclass(frozen=True, slots=True)
class Not:
    key: SearchKey


@dataclass(frozen=True, slots=True)
class Or:
    left: SearchKey
    right: SearchKey


@dataclass(frozen=True, slots=True)
class And:
    keys: tuple[SearchKey, ...]


SearchKey = All | Flag | Recent | New | Old | Header | Text | Date | Size | Age | Sequence | ModSeq | Not | Or | And
