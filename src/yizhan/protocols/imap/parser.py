"""One complete command (as framed by `reader`: literals in place) → a typed `commands.Command`.

`parse_command(data, utf8=...)` follows RFC 9051 §9 and RFC 3501 §9 with the extensions listed in `commands`.
Invariants: it raises nothing but `ParseError`, whose `tag` is set whenever the tag could be read and whose `bad`
says BAD (syntax) or NO (e.g. an unsupported SEARCH charset); it never recurses without a bound. Command names and
keywords are case-insensitive. `utf8` is True once the client has enabled UTF8=ACCEPT (or IMAP4rev2, RFC 9051 §5.1):
mailbox names are then UTF-8, otherwise modified UTF-7.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Literal

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import parser_mailbox as m
from yizhan.protocols.imap.errors import ParseError
from yizhan.protocols.imap.lexer import NUMBER64_MAX, Lexer
from yizhan.protocols.imap.parser_fetch import parse_fetch_args
from yizhan.protocols.imap.parser_search import parse_search_args
from yizhan.protocols.imap.reader import read_tag

MAX_ID_PAIRS = 30  # RFC 2971 §3.3.
_BASE64 = re.compile(rb"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")

Handler = Callable[[Lexer, str], c.Command]


def decode_base64(data: bytes) -> bytes:
    """Strict RFC 4648 base64, as SASL requires (RFC 9051 §6.2.2); ParseError when invalid."""
    if not _BASE64.fullmatch(data):
        raise ParseError("invalid base64")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ParseError("invalid base64") from None


def parse_sasl_response(line: bytes) -> bytes | None:
    """A client's line answering an AUTHENTICATE challenge: the decoded response, or None for `*` (cancel)."""
    line = line.rstrip(b"\r\n")
    if line == b"*":
        return None
    return decode_base64(line)


def _no_args(cls: type[c.Command]) -> Handler:
    def handler(lx: Lexer, tag: str) -> c.Command:
        lx.end()
        return cls(tag)
    return handler


def _one_mailbox(cls: Callable[[str, str], c.Command]) -> Handler:
    def handler(lx: Lexer, tag: str) -> c.Command:
        lx.space()
        mailbox = lx.mailbox()
        lx.end()
        return cls(tag, mailbox)
    return handler


def _authenticate(lx: Lexer, tag: str) -> c.Command:
    lx.space()
    mechanism = lx.keyword()
    initial: bytes | None = None
    if not lx.at_end():
        lx.space()
        rest = lx.data[lx.pos:]
        lx.pos = len(lx.data)
        initial = b"" if rest == b"=" else decode_base64(rest)  # RFC 4959 §3: "=" is an empty response.
    return c.Authenticate(tag, mechanism, initial)


def _login(lx: Lexer, tag: str) -> c.Command:
    lx.space()
    user = lx.astring_text()
    lx.space()
    password = lx.astring_text()
    lx.end()
    return c.Login(tag, user, password)


def _enable(lx: Lexer, tag: str) -> c.Command:
    names: list[str] = []
    while not lx.at_end() or not names:
        lx.space()
        names.append(lx.keyword())
    return c.Enable(tag, tuple(names))


def _id(lx: Lexer, tag: str) -> c.Command:
    lx.space()
    if lx.accept_word(b"NIL"):
        lx.end()
        return c.Id(tag, None)
    lx.expect(b"(")
    pairs: list[tuple[str, str | None]] = []
    while not lx.accept(b")"):
        if pairs:
            lx.space()
        if len(pairs) >= MAX_ID_PAIRS:
            raise ParseError("too many ID fields")
        key = lx.string().decode("utf-8", "replace")
        lx.space()
        value = lx.nstring()
        pairs.append((key, None if value is None else value.decode("utf-8", "replace")))
    lx.end()
    return c.Id(tag, tuple(pairs))


def _compress(lx: Lexer, tag: str) -> c.Command:
    lx.space()
    mechanism = lx.keyword()
    lx.end()
    return c.Compress(tag, mechanism)


def _search(uid: bool) -> Handler:
    def handler(lx: Lexer, tag: str) -> c.Command:
        criteria, charset, returns = parse_search_args(lx)
        return c.Search(tag, criteria, uid, charset, returns)
    return handler


def _fetch(uid: bool) -> Handler:
    def handler(lx: Lexer, tag: str) -> c.Command:
        lx.space()
        sequence = lx.sequence_set()
        lx.space()
        items, changedsince, vanished = parse_fetch_args(lx, uid)
        return c.Fetch(tag, sequence, items, uid, changedsince, vanished)
    return handler


def _store(uid: bool) -> Handler:
    def handler(lx: Lexer, tag: str) -> c.Command:
        lx.space()
        sequence = lx.sequence_set()
        lx.space()
        unchangedsince: int | None = None
        if lx.accept(b"("):
            # RFC 7162 §3.1.3: STORE seq (UNCHANGEDSINCE modseq) ...
            if not lx.accept_word(b"UNCHANGEDSINCE"):
                raise ParseError("unknown STORE modifier")
            lx.space()
            unchangedsince = lx.number(NUMBER64_MAX)
            lx.expect(b")")
            lx.space()
        mode: Literal["replace", "add", "remove"] = "replace"
        if lx.accept(b"+"):
            mode = "add"
        elif lx.accept(b"-"):
            mode = "remove"
        if not lx.accept(b"FLAGS"):
            raise ParseError("expected FLAGS, +FLAGS or -FLAGS")
        silent = lx.accept(b".SILENT")
        lx.space()
        if lx.peek() == b"(":
            flags = lx.flag_list()
        else:
            found = [lx.flag()]
            while lx.accept(b" "):
                found.append(lx.flag())
            flags = tuple(found)
        lx.end()
        return c.Store(tag, sequence, mode, flags, silent, uid, unchangedsince)
    return handler


def _copy(cls: type[c.Copy] | type[c.Move], uid: bool) -> Handler:
    def handler(lx: Lexer, tag: str) -> c.Command:
        lx.space()
        sequence = lx.sequence_set()
        lx.space()
        mailbox = lx.mailbox()
        lx.end()
        return cls(tag, sequence, mailbox, uid)
    return handler


def _uid_expunge(lx: Lexer, tag: str) -> c.Command:
    lx.space()
    uids = lx.sequence_set()
    lx.end()
    return c.UidExpunge(tag, uids)


_UID_COMMANDS: dict[str, Handler] = {
    "COPY": _copy(c.Copy, True), "MOVE": _copy(c.Move, True), "FETCH": _fetch(True), "SEARCH": _search(True),
    "STORE": _store(True), "EXPUNGE": _uid_expunge,
}


def _uid(lx: Lexer, tag: str) -> c.Command:
    lx.space()
    name = lx.keyword()
    handler = _UID_COMMANDS.get(name)
    if handler is None:
        raise ParseError(f"unknown UID command {name}")
    return handler(lx, tag)


COMMANDS: dict[str, Handler] = {
    "CAPABILITY": _no_args(c.Capability), "NOOP": _no_args(c.Noop), "LOGOUT": _no_args(c.Logout),
    "STARTTLS": _no_args(c.StartTls), "NAMESPACE": _no_args(c.Namespace), "IDLE": _no_args(c.Idle),
    "CHECK": _no_args(c.Check), "CLOSE": _no_args(c.Close), "UNSELECT": _no_args(c.Unselect),
    "EXPUNGE": _no_args(c.Expunge),
    "AUTHENTICATE": _authenticate, "LOGIN": _login, "ENABLE": _enable, "ID": _id, "COMPRESS": _compress,
    "SELECT": m.parse_select(c.Select), "EXAMINE": m.parse_select(c.Examine), "CREATE": m.parse_create,
    "DELETE": _one_mailbox(c.Delete), "RENAME": m.parse_rename, "SUBSCRIBE": _one_mailbox(c.Subscribe),
    "UNSUBSCRIBE": _one_mailbox(c.Unsubscribe), "LIST": m.parse_list, "LSUB": m.parse_lsub, "STATUS": m.parse_status,
    "APPEND": m.parse_append, "SEARCH": _search(False), "FETCH": _fetch(False), "STORE": _store(False),
    "COPY": _copy(c.Copy, False), "MOVE": _copy(c.Move, False), "UID": _uid,
}


def parse_command(data: bytes, *, utf8: bool = False) -> c.Command:
    """Parse one framed command; raise ParseError (with the tag when readable) for anything unparseable."""
    if data.upper() == b"DONE":
        return c.Done("")
    tag = read_tag(data)
    if tag is None:
        raise ParseError("missing or invalid tag")
    lx = Lexer(data, utf8=utf8)
    lx.pos = len(tag)
    try:
        lx.space()
        name = lx.keyword()
        handler = COMMANDS.get(name)
        if handler is None:
            raise ParseError(f"unknown command {name}")
        return handler(lx, tag)
    except ParseError as exc:
        raise exc.with_tag(tag) from None
