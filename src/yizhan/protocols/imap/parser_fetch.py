"""FETCH arguments (RFC 9051 §6.4.5 and §9 `fetch-att`, RFC 3501 §6.4.5, RFC 3516 BINARY, RFC 7162 CHANGEDSINCE and
VANISHED) → typed fetch items.

Macros expand as RFC 9051 §6.4.5 says: FAST = (FLAGS INTERNALDATE RFC822.SIZE), ALL = FAST + ENVELOPE,
FULL = ALL + BODY. Invariant: raises only ParseError; section part numbers are nz-numbers, at most `MAX_PART_DEPTH`.
"""

from __future__ import annotations

import re

from yizhan.protocols.imap.commands import FetchAttr, FetchBinary, FetchBody, FetchItem, Section, SectionText
from yizhan.protocols.imap.errors import ParseError
from yizhan.protocols.imap.lexer import NUMBER64_MAX, Lexer

MAX_PART_DEPTH = 64
SIMPLE_ITEMS = frozenset({"ENVELOPE", "FLAGS", "INTERNALDATE", "RFC822", "RFC822.HEADER", "RFC822.SIZE",
                          "RFC822.TEXT", "BODY", "BODYSTRUCTURE", "UID", "MODSEQ"})
_FAST = (FetchAttr("FLAGS"), FetchAttr("INTERNALDATE"), FetchAttr("RFC822.SIZE"))
MACROS: dict[str, tuple[FetchItem, ...]] = {
    "FAST": _FAST,
    "ALL": (*_FAST, FetchAttr("ENVELOPE")),
    "FULL": (*_FAST, FetchAttr("ENVELOPE"), FetchAttr("BODY")),
}
_NAME = re.compile(rb"[A-Za-z0-9.]+")
_SECTION_TEXT = re.compile(rb"[A-Za-z.]+")
# RFC 5322 §3.6.8 field name: printable ASCII except ":".
_FIELD_NAME = re.compile(r"[!-9;-~]+")
_SECTION_TEXTS: dict[str, SectionText] = {
    "HEADER": "HEADER", "HEADER.FIELDS": "HEADER.FIELDS", "HEADER.FIELDS.NOT": "HEADER.FIELDS.NOT", "TEXT": "TEXT",
    "MIME": "MIME"}


def _name(lx: Lexer) -> str:
    match = _NAME.match(lx.data, lx.pos)
    if match is None:
        raise ParseError("expected a fetch item")
    lx.pos = match.end()
    return match.group().decode("ascii").upper()


def _part(lx: Lexer) -> tuple[int, ...]:
    """RFC 9051 §9 `section-part`: nz-number *("." nz-number); stops before a "." not followed by a digit."""
    numbers = [lx.nz_number()]
    while lx.data[lx.pos:lx.pos + 1] == b"." and lx.data[lx.pos + 1:lx.pos + 2].isdigit():
        lx.pos += 1
        numbers.append(lx.nz_number())
        if len(numbers) > MAX_PART_DEPTH:
            raise ParseError("section part too deep")
    return tuple(numbers)


def _section(lx: Lexer) -> Section:
    """`[` [section-spec] `]` (RFC 9051 §9 `section`)."""
    lx.expect(b"[")
    if lx.accept(b"]"):
        return Section()
    part: tuple[int, ...] = ()
    if lx.peek().isdigit():
        part = _part(lx)
        if lx.accept(b"]"):
            return Section(part)
        lx.expect(b".")
    match = _SECTION_TEXT.match(lx.data, lx.pos)
    if match is None:
        raise ParseError("invalid section")
    lx.pos = match.end()
    text = match.group().decode("ascii").upper()
    fields: tuple[str, ...] = ()
    if text == "HEADER.FIELDS" or text == "HEADER.FIELDS.NOT":
        lx.space()
        lx.expect(b"(")
        names = [lx.astring_text()]
        while not lx.accept(b")"):
            lx.space()
            names.append(lx.astring_text())
        if any(_FIELD_NAME.fullmatch(name) is None for name in names):
            raise ParseError("invalid header field name")
        fields = tuple(names)
    elif text == "MIME":
        if not part:
            raise ParseError("MIME needs a part number")
    elif text not in ("HEADER", "TEXT"):
        raise ParseError(f"invalid section text {text}")
    kind = _SECTION_TEXTS[text]
    lx.expect(b"]")
    return Section(part, kind, fields)


def _partial(lx: Lexer) -> tuple[int, int] | None:
    """`<` number `.` nz-number `>` (RFC 9051 §9 `partial`)."""
    if not lx.accept(b"<"):
        return None
    origin = lx.number()
    lx.expect(b".")
    length = lx.nz_number()
    lx.expect(b">")
    return origin, length


def fetch_item(lx: Lexer) -> FetchItem:
    name = _name(lx)
    if name in ("BODY", "BODY.PEEK") and lx.peek() == b"[":
        section = _section(lx)
        return FetchBody(section, _partial(lx), peek=name == "BODY.PEEK")
    if name in ("BINARY", "BINARY.PEEK", "BINARY.SIZE"):
        lx.expect(b"[")
        part = () if lx.peek() == b"]" else _part(lx)
        lx.expect(b"]")
        if name == "BINARY.SIZE":
            return FetchBinary(part, size=True)
        return FetchBinary(part, _partial(lx), peek=name == "BINARY.PEEK")
    if name in SIMPLE_ITEMS:
        return FetchAttr(name)
    raise ParseError(f"unknown fetch item {name}")


def parse_fetch_args(lx: Lexer, uid: bool) -> tuple[tuple[FetchItem, ...], int | None, bool]:
    """After the sequence set and SP: (items, CHANGEDSINCE, VANISHED); the lexer ends at the end of the command."""
    items: list[FetchItem] = []
    if lx.accept(b"("):
        items.append(fetch_item(lx))
        while not lx.accept(b")"):
            lx.space()
            items.append(fetch_item(lx))
    else:
        start = lx.pos
        word = _name(lx)
        if word in MACROS and lx.peek() in (b"", b" "):
            items.extend(MACROS[word])
        else:
            lx.pos = start
            items.append(fetch_item(lx))
    changedsince: int | None = None
    vanished = False
    if not lx.at_end():
        # RFC 7162 §3.1.4, §3.2.6: fetch-modifiers.
        lx.space()
        lx.expect(b"(")
        while True:
            word = lx.keyword()
            if word == "CHANGEDSINCE" and changedsince is None:
                lx.space()
                changedsince = lx.number(NUMBER64_MAX)
            elif word == "VANISHED" and not vanished:
                vanished = True
            else:
                raise ParseError(f"unknown or repeated FETCH modifier {word}")
            if lx.accept(b")"):
                break
            lx.space()
    lx.end()
    if vanished and (not uid or changedsince is None):
        raise ParseError("VANISHED needs UID FETCH with CHANGEDSINCE")
    if uid and FetchAttr("UID") not in items:
        items.insert(0, FetchAttr("UID"))
    if changedsince is not None and FetchAttr("MODSEQ") not in items:
        # RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ in the response.
        items.append(FetchAttr("MODSEQ"))
    return tuple(items), changedsince, vanished
