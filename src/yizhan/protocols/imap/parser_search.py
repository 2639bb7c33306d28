"""SEARCH arguments (RFC 9051 §6.4.4 and §9 `search-program`, RFC 4731 ESEARCH, RFC 5182 SEARCHRES, RFC 7162
§3.1.5 MODSEQ, RFC 5032 OLDER/YOUNGER) → a `search.SearchKey` tree.

Invariants: nesting (parentheses, NOT, OR) deeper than `search.MAX_DEPTH` is a ParseError, never a RecursionError;
strings are decoded with the announced CHARSET (UTF-8, US-ASCII, and the GB family read as GB18030); any other
charset is `NO [BADCHARSET (...)]` (RFC 9051 §6.4.4).
"""

from __future__ import annotations

from typing import Literal

from yizhan.protocols.imap import search as sk
from yizhan.protocols.imap.errors import ParseError
from yizhan.protocols.imap.lexer import NUMBER64_MAX, Lexer

# Charset names accepted by SEARCH CHARSET, mapped to the Python codec that reads them.
SEARCH_CHARSETS = {"UTF-8": "utf-8", "US-ASCII": "ascii", "GB18030": "gb18030", "GBK": "gb18030",
                   "GB2312": "gb18030"}
BADCHARSET_CODE = "BADCHARSET (" + " ".join(SEARCH_CHARSETS) + ")"
RETURN_OPTIONS = ("MIN", "MAX", "ALL", "COUNT", "SAVE")

_FLAG_KEYS = {
    "ANSWERED": ("\\Answered", True), "DELETED": ("\\Deleted", True), "DRAFT": ("\\Draft", True),
    "FLAGGED": ("\\Flagged", True), "SEEN": ("\\Seen", True),
    "UNANSWERED": ("\\Answered", False), "UNDELETED": ("\\Deleted", False), "UNDRAFT": ("\\Draft", False),
    "UNFLAGGED": ("\\Flagged", False), "UNSEEN": ("\\Seen", False),
}
_HEADER_KEYS = {"BCC", "CC", "FROM", "SUBJECT", "TO"}
_DATE_KEYS: dict[str, tuple[Literal["before", "on", "since"], bool]] = {
    "BEFORE": ("before", False), "ON": ("on", False), "SINCE": ("since", False),
    "SENTBEFORE": ("before", True), "SENTON": ("on", True), "SENTSINCE": ("since", True),
}

_ENTRY_TYPES: dict[str, Literal["priv", "shared", "all"]] = {"PRIV": "priv", "SHARED": "shared", "ALL": "all"}


class _SearchParser:
    def __init__(self, lx: Lexer, codec: str) -> None:
        self.lx = lx
        self.codec = codec

    def text(self) -> str:
        raw = self.lx.astring()
        try:
            return raw.decode(self.codec)
        except UnicodeDecodeError:
            raise ParseError(f"search string is not valid {self.codec}") from None

    def key(self, depth: int) -> sk.SearchKey:
        lx = self.lx
        if depth > sk.MAX_DEPTH:
            raise ParseError("search criteria nested too deeply")
        if lx.accept(b"("):
            keys = [self.key(depth + 1)]
            while not lx.accept(b")"):
                lx.space()
                keys.append(self.key(depth + 1))
            return keys[0] if len(keys) == 1 else sk.And(tuple(keys))
        first = lx.peek()
        if first.isdigit() or first in (b"*", b"$"):
            return sk.Sequence(lx.sequence_set())
        word = lx.keyword()
        if word == "ALL":
            return sk.All()
        if word in _FLAG_KEYS:
            flag, present = _FLAG_KEYS[word]
            return sk.Flag(flag, present)
        if word in ("RECENT", "NEW", "OLD"):
            return sk.Recent() if word == "RECENT" else sk.New() if word == "NEW" else sk.Old()
        lx.space()
        if word in ("KEYWORD", "UNKEYWORD"):
            flag = lx.atom()
            return sk.Flag(flag, word == "KEYWORD")
        if word in _HEADER_KEYS:
            return sk.Header(word.lower(), self.text())
        if word == "HEADER":
            name = lx.astring_text()
            lx.space()
            return sk.Header(name.lower(), self.text())
        if word in ("TEXT", "BODY"):
            return sk.Text(self.text(), body_only=word == "BODY")
        if word in _DATE_KEYS:
            op, sent = _DATE_KEYS[word]
            return sk.Date(op, lx.date(), sent)
        if word in ("LARGER", "SMALLER"):
            return sk.Size("larger" if word == "LARGER" else "smaller", lx.number())
        if word in ("OLDER", "YOUNGER"):
            return sk.Age("older" if word == "OLDER" else "younger", lx.nz_number())
        if word == "UID":
            return sk.Sequence(lx.sequence_set(), uid=True)
        if word == "NOT":
            return sk.Not(self.key(depth + 1))
        if word == "OR":
            left = self.key(depth + 1)
            lx.space()
            return sk.Or(left, self.key(depth + 1))
        if word == "MODSEQ":
            return self.modseq()
        raise ParseError(f"unknown search criterion {word}")

    def modseq(self) -> sk.ModSeq:
        # RFC 7162 §3.1.5: MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer.
        lx = self.lx
        entry: str | None = None
        entry_type: Literal["priv", "shared", "all"] | None = None
        if lx.peek() == b'"':
            entry = lx.quoted().decode("ascii", "replace")
            lx.space()
            entry_type = _ENTRY_TYPES.get(lx.keyword())
            if entry_type is None:
                raise ParseError("MODSEQ entry type must be priv, shared or all")
            lx.space()
        return sk.ModSeq(lx.number(NUMBER64_MAX), entry, entry_type)


def parse_search_args(lx: Lexer) -> tuple[sk.SearchKey, str | None, tuple[str, ...] | None]:
    """After `SEARCH`: (criteria, charset, return options); the lexer ends at the end of the command."""
    return_options: tuple[str, ...] | None = None
    charset: str | None = None
    lx.space()
    if lx.accept_word(b"RETURN"):
        lx.space()
        lx.expect(b"(")
        options: list[str] = []
        while not lx.accept(b")"):
            if options:
                lx.space()
            option = lx.keyword()
            if option not in RETURN_OPTIONS:
                raise ParseError(f"unknown SEARCH RETURN option {option}")
            options.append(option)
        return_options = tuple(options) or ("ALL",)
        lx.space()
    if lx.accept_word(b"CHARSET"):
        lx.space()
        charset = lx.astring().decode("ascii", "replace").upper()
        if charset not in SEARCH_CHARSETS:
            raise ParseError(f"charset {charset} not supported", bad=False, code=BADCHARSET_CODE)
        lx.space()
    parser = _SearchParser(lx, SEARCH_CHARSETS[charset or "UTF-8"])
    keys = [parser.key(1)]
    while not lx.at_end():
        lx.space()
        keys.append(parser.key(1))
    criteria = keys[0] if len(keys) == 1 else sk.And(tuple(keys))
    return criteria, charset, return_options
