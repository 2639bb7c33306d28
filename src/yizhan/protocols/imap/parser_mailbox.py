"""Mailbox commands' arguments: SELECT / EXAMINE (RFC 7162 CONDSTORE, QRESYNC), CREATE (RFC 6154 USE), RENAME,
LIST (RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE), LSUB, STATUS (RFC 8438 SIZE, RFC 7162
HIGHESTMODSEQ) and APPEND (RFC 3502 MULTIAPPEND, RFC 3516 literal8, RFC 6855 UTF8).

Each function takes the lexer just after the command name and the tag, and returns the command; it raises only
ParseError and leaves the lexer at the end of the command.
"""

from __future__ import annotations

from collections.abc import Callable

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap.errors import ParseError
from yizhan.protocols.imap.lexer import NUMBER64_MAX, Lexer

Handler = Callable[[Lexer, str], c.Command]

STATUS_ITEMS = frozenset({"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE",
                          "HIGHESTMODSEQ", "APPENDLIMIT", "MAILBOXID"})
LIST_SELECT_OPTIONS = frozenset({"SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"})
LIST_RETURN_OPTIONS = frozenset({"SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS", "MYRIGHTS"})


def keywords(lx: Lexer) -> list[str]:
    """`(` [atom *(SP atom)] `)`, upper-cased."""
    lx.expect(b"(")
    words: list[str] = []
    while not lx.accept(b")"):
        if words:
            lx.space()
        words.append(lx.keyword())
    return words


def _select_params(lx: Lexer) -> tuple[bool, c.QResync | None]:
    """RFC 4466 select-params: CONDSTORE (RFC 7162 §3.1.8) and QRESYNC (RFC 7162 §3.2.5)."""
    condstore = False
    qresync: c.QResync | None = None
    if lx.at_end():
        return condstore, qresync
    lx.space()
    lx.expect(b"(")
    first = True
    while not lx.accept(b")"):
        if not first:
            lx.space()
        first = False
        word = lx.keyword()
        if word == "CONDSTORE":
            condstore = True
        elif word == "QRESYNC" and qresync is None:
            lx.space()
            lx.expect(b"(")
            uidvalidity = lx.nz_number()
            lx.space()
            modseq = lx.nz_number(NUMBER64_MAX)
            known = None
            match = None
            if lx.accept(b" "):
                if lx.peek() != b"(":
                    known = lx.sequence_set(allow_star=False, allow_saved=False)
                    if not lx.accept(b" "):
                        lx.expect(b")")
                        qresync = c.QResync(uidvalidity, modseq, known)
                        continue
                lx.expect(b"(")
                seqs = lx.sequence_set(allow_star=False, allow_saved=False)
                lx.space()
                uids = lx.sequence_set(allow_star=False, allow_saved=False)
                lx.expect(b")")
                match = (seqs, uids)
            lx.expect(b")")
            qresync = c.QResync(uidvalidity, modseq, known, match)
        else:
            raise ParseError(f"unknown or repeated select parameter {word}")
    lx.end()
    return condstore, qresync


def parse_select(cls: type[c.Select] | type[c.Examine]) -> Handler:
    def handler(lx: Lexer, tag: str) -> c.Command:
        lx.space()
        mailbox = lx.mailbox()
        condstore, qresync = _select_params(lx)
        return cls(tag, mailbox, condstore, qresync)
    return handler


def parse_create(lx: Lexer, tag: str) -> c.Command:
    lx.space()
    mailbox = lx.mailbox()
    uses: tuple[str, ...] = ()
    if not lx.at_end():
        # RFC 6154 §3: CREATE mailbox (USE (\Sent)).
        lx.space()
        lx.expect(b"(")
        if not lx.accept_word(b"USE"):
            raise ParseError("unknown CREATE parameter")
        lx.space()
        uses = lx.flag_list()
        lx.expect(b")")
    lx.end()
    return c.Create(tag, mailbox, uses)


def parse_rename(lx: Lexer, tag: str) -> c.Command:
    lx.space()
    old = lx.mailbox()
    lx.space()
    new = lx.mailbox()
    lx.end()
    return c.Rename(tag, old, new)


def _reference(lx: Lexer) -> str:
    return lx.decode_name(lx.astring())


def parse_list(lx: Lexer, tag: str) -> c.Command:
    """RFC 5258 §3 (LIST-EXTENDED), RFC 5819 (LIST-STATUS), RFC 6154 (SPECIAL-USE)."""
    lx.space()
    selection: list[str] = []
    extended = False
    if lx.peek() == b"(":
        selection = keywords(lx)
        extended = True
        lx.space()
        unknown = set(selection) - LIST_SELECT_OPTIONS
        if unknown:
            raise ParseError(f"unknown LIST selection option {sorted(unknown)[0]}")
        if selection and set(selection) <= {"RECURSIVEMATCH"}:
            raise ParseError("RECURSIVEMATCH needs another selection option")
    reference = _reference(lx)
    lx.space()
    patterns: list[str] = []
    if lx.accept(b"("):
        extended = True
        patterns.append(lx.list_mailbox())
        while not lx.accept(b")"):
            lx.space()
            patterns.append(lx.list_mailbox())
    else:
        patterns.append(lx.list_mailbox())
    returns: set[str] = set()
    status: list[str] = []
    if not lx.at_end():
        extended = True
        lx.space()
        if not lx.accept_word(b"RETURN"):
            raise ParseError("expected RETURN")
        lx.space()
        lx.expect(b"(")
        while not lx.accept(b")"):
            if returns:
                lx.space()
            option = lx.keyword()
            if option not in LIST_RETURN_OPTIONS or option in returns:
                raise ParseError(f"unknown or repeated LIST return option {option}")
            returns.add(option)
            if option == "STATUS":
                lx.space()
                status = parse_status_items(lx)
    lx.end()
    return c.List(tag, reference, tuple(patterns), frozenset(selection), frozenset(returns), tuple(status),
                  extended)


def parse_lsub(lx: Lexer, tag: str) -> c.Command:
    lx.space()
    reference = _reference(lx)
    lx.space()
    pattern = lx.list_mailbox()
    lx.end()
    return c.Lsub(tag, reference, pattern)


def parse_status_items(lx: Lexer) -> list[str]:
    items = keywords(lx)
    if not items or any(item not in STATUS_ITEMS for item in items):
        raise ParseError("invalid STATUS items")
    return items


def parse_status(lx: Lexer, tag: str) -> c.Command:
    lx.space()
    mailbox = lx.mailbox()
    lx.space()
    items = parse_status_items(lx)
    lx.end()
    return c.Status(tag, mailbox, tuple(items))


def parse_append(lx: Lexer, tag: str) -> c.Command:
    """RFC 9051 §6.3.12 with MULTIAPPEND (RFC 3502), literal8 (RFC 3516) and UTF8 data (RFC 6855 §4)."""
    lx.space()
    mailbox = lx.mailbox()
    messages: list[c.AppendMessage] = []
    while not messages or not lx.at_end():
        lx.space()
        flags: tuple[str, ...] = ()
        if lx.peek() == b"(":
            flags = lx.flag_list()
            lx.space()
        date = None
        if lx.peek() == b'"':
            date = lx.date_time()
            lx.space()
        utf8 = lx.accept_word(b"UTF8")
        if utf8:
            lx.space()
            lx.expect(b"(")
        data, binary = lx.literal(allow_literal8=True, allow_nul=True)
        if utf8:
            if not binary:
                raise ParseError("UTF8 APPEND data must be a literal8")
            lx.expect(b")")
        messages.append(c.AppendMessage(data, flags, date, binary, utf8))
    return c.Append(tag, mailbox, tuple(messages))
