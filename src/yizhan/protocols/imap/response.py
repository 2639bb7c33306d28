"""The pure response writer (RFC 9051 §7 and §9, RFC 3501 §7): values → the exact bytes to send.

A value is None (NIL), an int (a number), a str (a string: quoted when it can be, else a literal), bytes (a
literal, or quoted when short printable ASCII), `Atom` (written bare: flags, keywords, `\\HasChildren`), `Raw`
(already rendered, e.g. ENVELOPE and BODYSTRUCTURE from `mail.imapformat`), `Literal8` (`~{n}`, RFC 3516 BINARY)
or a list/tuple of values (a parenthesised list).

Invariants: output is always valid IMAP: a literal's count is its octet count; a quoted string never holds CR, LF,
NUL, or 8-bit octets unless `utf8` (the client enabled UTF8=ACCEPT or IMAP4rev2: RFC 6855 §3, RFC 9051 §4.3), in
which case it may hold UTF-8; mailbox names are modified UTF-7 unless `utf8` (RFC 3501 §5.1.3); response text never
holds CR or LF, so no reply can inject a line; NUL cannot be sent in a str and is dropped. Every line ends in CRLF.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Union

from yizhan.protocols.imap import mutf7
from yizhan.protocols.imap.commands import FetchAttr, FetchBody, FetchItem
from yizhan.protocols.imap.sequence import SequenceSet

CRLF = b"\r\n"
_QUOTABLE_ASCII = re.compile(r"[\x01-\x09\x0b\x0c\x0e-\x7f]*")
_QUOTABLE_UTF8 = re.compile(r"[^\x00\r\n]*")
_QUOTABLE_BYTES = re.compile(rb"[\x20-\x7e]*")
_ATOM = re.compile(r'[^\x00-\x20(){%*"\\\]\x7f-\U0010ffff]+')
_LINE_BREAKS = re.compile(r"[\x00\r\n]+")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A bytes value longer than this is sent as a literal even when it could be quoted.
_MAX_QUOTED = 1024


@dataclass(frozen=True, slots=True)
class Atom:
    """Written as-is; CR, LF and NUL are refused so an atom can never break a line."""

    text: str

    def __post_init__(self) -> None:
        if not self.text or _LINE_BREAKS.search(self.text):
            raise ValueError(f"invalid atom {self.text!r}")


@dataclass(frozen=True, slots=True)
class Raw:
    """Already rendered bytes (e.g. an ENVELOPE from `mail.imapformat`, whose literals count UTF-8 octets)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Literal8:
    data: bytes


Value = Union[None, int, str, bytes, Atom, Raw, Literal8, "Sequence[Value]"]


def quoted(text: str) -> bytes:
    """A quoted string; the caller has checked it holds no CR, LF or NUL."""
    return b'"' + text.replace("\\", "\\\\").replace('"', '\\"').encode("utf-8") + b'"'


def literal(data: bytes) -> bytes:
    return b"{" + str(len(data)).encode("ascii") + b"}\r\n" + data


def string(text: str, utf8: bool = False) -> bytes:
    """RFC 9051 §4.3 string: quoted if possible (8-bit only when `utf8`), else a literal of the UTF-8 octets."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if (_QUOTABLE_UTF8 if utf8 else _QUOTABLE_ASCII).fullmatch(text):
        return quoted(text)
    return literal(text.encode("utf-8", "surrogatepass"))


def astring(text: str, utf8: bool = False) -> bytes:
    """An atom when the text is one, else a string."""
    if _ATOM.fullmatch(text) and text.upper() != "NIL":
        return text.encode("ascii")
    return string(text, utf8)


def nstring(text: str | bytes | None, utf8: bool = False) -> bytes:
    if text is None:
        return b"NIL"
    return render(text, utf8)


def mailbox(name: str, utf8: bool = False) -> bytes:
    """A mailbox name as a string: modified UTF-7 unless `utf8` (RFC 3501 §5.1.3, RFC 9051 §5.1)."""
    return string(name if utf8 else mutf7.encode(name), utf8)


def date_time(value: datetime.datetime | int) -> bytes:
    """RFC 9051 §9 `date-time` (INTERNALDATE): `"dd-Mon-yyyy hh:mm:ss +zzzz"`; an int is epoch seconds (UTC)."""
    if isinstance(value, int):
        return _epoch_date_time(value)
    return _date_time(value)


@functools.lru_cache(maxsize=8192)
def _epoch_date_time(seconds: int) -> bytes:
    # Every FETCH of a message formats its internal date again: the same values, made once.
    return _date_time(datetime.datetime.fromtimestamp(seconds, datetime.UTC))


def _date_time(value: datetime.datetime) -> bytes:
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    offset = value.utcoffset() or datetime.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return (f'"{value.day:02d}-{_MONTHS[value.month - 1]}-{value.year:04d} {value:%H:%M:%S} '
            f'{sign}{minutes // 60:02d}{minutes % 60:02d}"').encode("ascii")


def render(value: Value, utf8: bool = False) -> bytes:
    """One value as IMAP bytes (see the module docstring)."""
    if value is None:
        return b"NIL"
    if isinstance(value, bool):
        raise TypeError("booleans have no IMAP form")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("IMAP numbers are unsigned")
        return str(value).encode("ascii")
    if isinstance(value, str):
        return string(value, utf8)
    if isinstance(value, bytes):
        if len(value) <= _MAX_QUOTED and _QUOTABLE_BYTES.fullmatch(value):
            return quoted(value.decode("ascii"))
        return literal(value)
    if isinstance(value, Atom):
        return value.text.encode("utf-8")
    if isinstance(value, Raw):
        return value.data
    if isinstance(value, Literal8):
        return b"~" + literal(value.data)
    return b"(" + b" ".join(render(item, utf8) for item in value) + b")"


@functools.lru_cache(maxsize=4096)
def _flag(name: str) -> Atom:
    return Atom(name)


def flags(names: Iterable[str]) -> list[Atom]:
    """A flag list for FLAGS, PERMANENTFLAGS and FETCH FLAGS (the same few names over and over: made once)."""
    return [_flag(name) for name in names]


@dataclass(frozen=True, slots=True)
class ResponseCode:
    """RFC 9051 §7.1 `resp-text-code`, e.g. ResponseCode("UIDVALIDITY", 3) → `[UIDVALIDITY 3]`."""

    name: str
    args: tuple[Value, ...] = ()

    def __init__(self, name: str, *args: Value) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "args", args)

    def render(self, utf8: bool = False) -> bytes:
        parts = [self.name.encode("ascii")] + [render(arg, utf8) for arg in self.args]
        return b"[" + b" ".join(parts) + b"]"


Code = ResponseCode | str | None


def _text(text: str) -> bytes:
    # RFC 9051 §9 `text`: 1*TEXT-CHAR; a line break in our text must not end the response.
    return _LINE_BREAKS.sub(" ", text).encode("utf-8")


def _resp_text(code: Code, text: str, utf8: bool) -> bytes:
    out = b""
    if isinstance(code, ResponseCode):
        out = code.render(utf8) + b" "
    elif code:
        out = b"[" + _text(code) + b"] "
    return out + _text(text or "done")


def tagged(tag: str, status: str, text: str, code: Code = None, utf8: bool = False) -> bytes:
    """`tag OK|NO|BAD [code] text` (RFC 9051 §7.1)."""
    return tag.encode("ascii") + b" " + status.encode("ascii") + b" " + _resp_text(code, text, utf8) + CRLF


def untagged_status(status: str, text: str, code: Code = None, utf8: bool = False) -> bytes:
    """`* OK|NO|BAD|BYE|PREAUTH [code] text`."""
    return b"* " + status.encode("ascii") + b" " + _resp_text(code, text, utf8) + CRLF


def untagged(*values: Value, utf8: bool = False) -> bytes:
    """`* v1 v2 ...`, e.g. untagged(3, Atom("EXISTS")) or untagged(Atom("FLAGS"), flags([...]))."""
    return b"* " + b" ".join(render(value, utf8) for value in values) + CRLF


def continuation(text: str = "Ready") -> bytes:
    """`+ text` (RFC 9051 §7.6); `+ ` alone for an empty SASL challenge."""
    return b"+ " + _text(text) + CRLF


@functools.lru_cache(maxsize=1024)
def fetch_key(item: FetchItem, origin: int | None = None) -> str:
    """The name a FETCH response gives a requested item (RFC 9051 §7.5.2): PEEK dropped, `<origin>` only.
    Cached: a FETCH of many messages names the same items for each."""
    if isinstance(item, FetchAttr):
        return item.name
    suffix = "" if origin is None else f"<{origin}>"
    if isinstance(item, FetchBody):
        return f"BODY[{item.section.render()}]{suffix}"
    part = ".".join(str(n) for n in item.part)
    if item.size:
        return f"BINARY.SIZE[{part}]"
    return f"BINARY[{part}]{suffix}"


def fetch(number: int, items: Sequence[tuple[str, Value]], utf8: bool = False) -> bytes:
    """`* n FETCH (KEY value ...)`; keys from `fetch_key` or names like "UID", "FLAGS"."""
    body = b" ".join(key.encode("ascii") + b" " + render(value, utf8) for key, value in items)
    return b"* " + str(number).encode("ascii") + b" FETCH (" + body + b")" + CRLF


def list_line(kind: str, attributes: Iterable[str], delimiter: str | None, name: str, utf8: bool = False,
              extra: Sequence[Value] = ()) -> bytes:
    """`* LIST (\\HasNoChildren) "/" name` (or LSUB); `extra` holds mbox-list-extended items (RFC 5258 §3.5)."""
    parts: list[Value] = [Atom(kind), flags(attributes), delimiter, Raw(mailbox(name, utf8))]
    if extra:
        parts.append(list(extra))
    return untagged(*parts, utf8=utf8)


def status_line(name: str, items: Sequence[tuple[str, int]], utf8: bool = False) -> bytes:
    """`* STATUS name (MESSAGES 3 UNSEEN 1)` (RFC 9051 §7.2.4)."""
    pairs: list[Value] = []
    for key, value in items:
        pairs += [Atom(key), value]
    return untagged(Atom("STATUS"), Raw(mailbox(name, utf8)), pairs, utf8=utf8)


def search_line(numbers: Iterable[int], modseq: int | None = None) -> bytes:
    """`* SEARCH 1 2 3`, with `(MODSEQ n)` when the search used MODSEQ (RFC 7162 §3.1.5)."""
    out = b"* SEARCH" + b"".join(b" " + str(n).encode("ascii") for n in numbers)
    if modseq is not None:
        out += b" (MODSEQ " + str(modseq).encode("ascii") + b")"
    return out + CRLF


def esearch_line(tag: str, uid: bool, results: Sequence[tuple[str, int | SequenceSet]]) -> bytes:
    """`* ESEARCH (TAG "A1") UID MIN 2 COUNT 5 ALL 1:3,5` (RFC 4731 §3.1)."""
    out = b'* ESEARCH (TAG ' + quoted(tag) + b")"
    if uid:
        out += b" UID"
    for name, value in results:
        out += b" " + name.encode("ascii") + b" " + str(value).encode("ascii")
    return out + CRLF


def vanished_line(uids: SequenceSet, earlier: bool = False) -> bytes:
    """`* VANISHED (EARLIER) 41,43:116` (RFC 7162 §3.2.10)."""
    return b"* VANISHED " + (b"(EARLIER) " if earlier else b"") + str(uids).encode("ascii") + CRLF
