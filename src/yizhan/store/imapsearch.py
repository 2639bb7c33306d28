"""Reads behind IMAP SEARCH (RFC 9051 §6.4.4): a condition tree evaluated in SQL over a folder's entries, and the
full rows of the few entries SQL could not decide.

The condition tree (`Cond`) is the store's own, so the store needs nothing from the protocols: flags, keywords,
comparisons of numeric columns, UID ranges, full-text matches, and three-valued `Tri` leaves, combined with
`Not`, `AnyOf` and `AllOf`. It is evaluated in SQL's three-valued logic, where NULL means "cannot be decided here"
(Kleene logic: NULL AND false is false, NULL OR true is true), so `matching` returns each entry that surely
matches and each that may; the caller checks only the latter.

Invariants: read-only (the reader engine; never blocks the writer); results are ordered by UID; full-text matches
take an FTS5 expression already made safe by `mail.tokens` (never user syntax), bound as a parameter, and are
"undecided" where the database has no full-text index (PostgreSQL for now); UID lists are queried in chunks so no
statement exceeds the database's parameter limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import and_, case, false, func, literal, not_, null, or_, select, text, true

from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.store.messages import flag_names

_CHUNK = 500
Column = Literal["uid", "modseq", "size", "internal_date", "date"]


@dataclass(frozen=True, slots=True)
class Const:
    value: bool | None


@dataclass(frozen=True, slots=True)
class FlagBit:
    bit: int
    present: bool = True


@dataclass(frozen=True, slots=True)
class Keyword:
    """A keyword present (or absent), compared without regard to case."""

    keyword: str
    present: bool = True


@dataclass(frozen=True, slots=True)
class Compare:
    """`column < value` (op "lt") or `column >= value` (op "ge")."""

    column: Column
    op: Literal["lt", "ge"]
    value: int


@dataclass(frozen=True, slots=True)
class UidIn:
    ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class TextMatch:
    """The message matches an FTS5 expression; when not `proven`, a match only means "maybe"."""

    match: str
    proven: bool


@dataclass(frozen=True, slots=True)
class Tri:
    """True where `true_if` holds, false where `false_if` holds, else undecided."""

    true_if: Cond | None
    false_if: Cond | None


@dataclass(frozen=True, slots=True)
class Not:
    cond: Cond


@dataclass(frozen=True, slots=True)
class AnyOf:
    conds: tuple[Cond, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    conds: tuple[Cond, ...]


Cond = Const | FlagBit | Keyword | Compare | UidIn | TextMatch | Tri | Not | AnyOf | AllOf


@dataclass(frozen=True, slots=True)
class SearchRow:
    """One entry as SEARCH sees it without reading its blob."""

    uid: int
    modseq: int
    flags: tuple[str, ...]
    size: int
    # Epoch seconds (UTC): the internal date, and the Date header (the internal date when it had none).
    internal_date: int
    date: int
    blob: str
    # The cached ENVELOPE (whose first item is the Date header as written), when asked for; else "".
    envelope: str = ""


_COLUMNS: dict[str, Any] = {"uid": t.entries.c.uid, "modseq": t.entries.c.modseq, "size": t.messages.c.size,
                            "internal_date": t.messages.c.internal_date, "date": t.messages.c.date}


class _Compiler:
    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite
        self.matches = 0
        # Whether the condition reads the messages table (else the query needs no join).
        self.messages = False

    def sql(self, cond: Cond) -> Any:
        if isinstance(cond, Const):
            return null() if cond.value is None else true() if cond.value else false()
        if isinstance(cond, FlagBit):
            bits = t.entries.c.flags.op("&")(cond.bit)
            return bits != 0 if cond.present else bits == 0
        if isinstance(cond, Keyword):
            pattern = "% " + cond.keyword.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " %"
            found = func.lower(literal(" ") + t.entries.c.keywords + literal(" ")).like(pattern, escape="\\")
            return found if cond.present else not_(found)
        if isinstance(cond, Compare):
            self.messages = self.messages or cond.column not in ("uid", "modseq")
            column = _COLUMNS[cond.column]
            return column < cond.value if cond.op == "lt" else column >= cond.value
        if isinstance(cond, UidIn):
            if not cond.ranges:
                return false()
            return or_(*(t.entries.c.uid.between(low, high) for low, high in cond.ranges))
        if isinstance(cond, TextMatch):
            if not self.sqlite:
                return null()
            self.matches += 1
            self.messages = True
            name = f"fts{self.matches}"
            found = t.messages.c.id.in_(select(text("rowid")).select_from(text("message_text")).where(
                text(f"message_text MATCH :{name}").bindparams(**{name: cond.match})))
            return found if cond.proven else case((found, null()), else_=false())
        if isinstance(cond, Tri):
            whens: list[tuple[Any, Any]] = []
            if cond.true_if is not None:
                whens.append((self.sql(cond.true_if), true()))
            if cond.false_if is not None:
                whens.append((self.sql(cond.false_if), false()))
            return case(*whens, else_=null()) if whens else null()
        if isinstance(cond, Not):
            return not_(self.sql(cond.cond))
        if isinstance(cond, AnyOf):
            return or_(false(), *(self.sql(c) for c in cond.conds))
        return and_(true(), *(self.sql(c) for c in cond.conds))


class ImapSearch:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def matching(self, folder_id: int, cond: Cond, min_uid: int = 1,
                       max_uid: int | None = None) -> list[tuple[int, int, bool]]:
        """(UID, MODSEQ, undecided) of the entries in [min_uid, max_uid] that match or may match, by UID."""
        compiler = _Compiler(self.db.is_sqlite)
        expression = compiler.sql(cond)
        verdict = case((expression, 1), (not_(expression), 0), else_=2).label("verdict")
        source = t.entries.join(t.messages, t.messages.c.id == t.entries.c.message_id) if compiler.messages \
            else t.entries
        inner = select(t.entries.c.uid, t.entries.c.modseq, verdict).select_from(source).where(
            t.entries.c.folder_id == folder_id, t.entries.c.uid >= min_uid)
        if max_uid is not None:
            inner = inner.where(t.entries.c.uid <= max_uid)
        sub = inner.subquery()
        query = select(sub.c.uid, sub.c.modseq, sub.c.verdict).where(sub.c.verdict != 0).order_by(sub.c.uid)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [(uid, modseq, verdict == 2) for uid, modseq, verdict in rows]

    async def rows(self, folder_id: int, uids: Sequence[int], with_envelope: bool = False) -> list[SearchRow]:
        """The rows of those `uids` that still exist, in UID order."""
        columns = [t.entries.c.uid, t.entries.c.modseq, t.entries.c.flags, t.entries.c.keywords, t.messages.c.size,
                   t.messages.c.internal_date, t.messages.c.date, t.messages.c.blob]
        if with_envelope:
            columns.append(t.messages.c.envelope)
        wanted = sorted(set(uids))
        out: list[SearchRow] = []
        async with self.db.read() as conn:
            for start in range(0, len(wanted), _CHUNK):
                query = select(*columns).select_from(
                    t.entries.join(t.messages, t.messages.c.id == t.entries.c.message_id)).where(
                    t.entries.c.folder_id == folder_id, t.entries.c.uid.in_(wanted[start:start + _CHUNK])).order_by(
                    t.entries.c.uid)
                for r in (await conn.execute(query)).all():
                    out.append(SearchRow(r.uid, r.modseq, flag_names(r.flags) + tuple(r.keywords.split()), r.size,
                                         r.internal_date, r.date, r.blob, r.envelope if with_envelope else ""))
        return out
