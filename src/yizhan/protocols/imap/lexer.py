"""The token level of the IMAP grammar (RFC 9051 §9, RFC 3501 §9) over one complete command from `reader`.

`Lexer` walks the command's bytes: atoms, numbers, quoted strings, literals (`{n}`, `{n+}` and, where allowed,
`~{n}` literal8, each followed by CRLF and exactly n octets), astrings, nstrings, flags, dates, mailbox names and
sequence sets. Invariants: it raises only `ParseError`; it never recurses; numbers are read from at most 20 digits
(so no giant integers); strings are decoded as UTF-8 strictly, mailbox names also from modified UTF-7 unless the
client enabled UTF8=ACCEPT (RFC 6855 §3).
"""

from __future__ import annotations

import datetime
import re

from yizhan.protocols.imap import mutf7
from yizhan.protocols.imap.errors import ParseError
from yizhan.protocols.imap.sequence import SequenceSet, parse_sequence_set

NUMBER64_MAX = 2**63 - 1
NUMBER_MAX = 2**32 - 1

# ATOM-CHAR: any CHAR except atom-specials: ( ) { SP CTL % * " \ ] (RFC 9051 §9).
_ATOM = re.compile(rb"[^\x00-\x20(){%*\"\\\]\x7f-\xff]+")
# ASTRING-CHAR adds "]".
_ASTRING_ATOM = re.compile(rb"[^\x00-\x20(){%*\"\\\x7f-\xff]+")
# list-char = ATOM-CHAR / list-wildcards / resp-specials.
_LIST_CHARS = re.compile(rb"[^\x00-\x20(){\"\\\x7f-\xff]+")
_LITERAL = re.compile(rb"(~?)\{([0-9]{1,20})(\+?)\}\r\n")
_DIGITS = re.compile(rb"[0-9]{1,20}")
_SEQUENCE = re.compile(rb"[0-9:*,$]+")
_DATE = re.compile(rb"([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})")
_DATE_TIME = re.compile(
    rb'"([ 0-9][0-9])-([A-Za-z]{3})-([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})"')
_MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
SYSTEM_FLAGS = {f.upper(): f for f in ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")}


def decode_text(raw: bytes) -> str:
    """Bytes of a string argument as text: strict UTF-8 (ASCII is a subset)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError("string is not valid UTF-8") from None


class Lexer:
    """A cursor over one command; every method consumes what it returns or raises ParseError."""

    def __init__(self, data: bytes, *, utf8: bool = False) -> None:
        self.data = data
        self.pos = 0
        self.utf8 = utf8

    # --- Position and punctuation ---

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def peek(self) -> bytes:
        return self.data[self.pos:self.pos + 1]

    def end(self) -> None:
        if not self.at_end():
            raise ParseError("unexpected characters at end of command")

    def expect(self, token: bytes) -> None:
        if self.data[self.pos:self.pos + len(token)] != token:
            raise ParseError(f"expected {token.decode('ascii')!r}")
        self.pos += len(token)

    def space(self) -> None:
        self.expect(b" ")

    def accept(self, token: bytes) -> bool:
        """Consume `token` (case-insensitive) if it is next."""
        if self.data[self.pos:self.pos + len(token)].upper() == token.upper():
            self.pos += len(token)
            return True
        return False

    def accept_word(self, word: bytes) -> bool:
        """Consume `word` (case-insensitive) if it is next and followed by SP, "(", ")" or the end."""
        end = self.pos + len(word)
        if self.data[self.pos:end].upper() == word.upper() and self.data[end:end + 1] in (b"", b" ", b"(", b")"):
            self.pos = end
            return True
        return False

    # --- Atoms and numbers ---

    def _match(self, pattern: re.Pattern[bytes], what: str) -> bytes:
        match = pattern.match(self.data, self.pos)
        if match is None:
            raise ParseError(f"expected {what}")
        self.pos = match.end()
        return match.group()

    def atom(self) -> str:
        return self._match(_ATOM, "an atom").decode("ascii")

    def keyword(self) -> str:
        """An atom upper-cased (command names, options, search keys)."""
        return self.atom().upper()

    def number(self, limit: int = NUMBER_MAX) -> int:
        value = int(self._match(_DIGITS, "a number"))
        if value > limit or (self.peek().isdigit()):
            raise ParseError("number out of range")
        return value

    def nz_number(self, limit: int = NUMBER_MAX) -> int:
        value = self.number(limit)
        if value == 0:
            raise ParseError("number must not be zero")
        return value

    def sequence_set(self, *, allow_star: bool = True, allow_saved: bool = True) -> SequenceSet:
        text = self._match(_SEQUENCE, "a sequence set").decode("ascii")
        return parse_sequence_set(text, allow_star=allow_star, allow_saved=allow_saved)

    # --- Strings ---

    def quoted(self) -> bytes:
        """RFC 9051 §4.3 quoted string; `\\` escapes only `"` and `\\`; no CR, LF or NUL."""
        self.expect(b'"')
        out = bytearray()
        data = self.data
        i = self.pos
        while True:
            j = i
            while j < len(data) and data[j] not in b'"\\\r\n\x00':
                j += 1
            out += data[i:j]
            if j >= len(data):
                raise ParseError("unterminated quoted string")
            ch = data[j]
            if ch == 0x22:
                self.pos = j + 1
                return bytes(out)
            if ch == 0x5C and j + 1 < len(data) and data[j + 1] in b'"\\':
                out.append(data[j + 1])
                i = j + 2
                continue
            raise ParseError("invalid character in quoted string")

    def literal(self, *, allow_literal8: bool = False, allow_nul: bool = False) -> tuple[bytes, bool]:
        """A literal's octets and whether it was a literal8 (RFC 3516 `~{n}`)."""
        match = _LITERAL.match(self.data, self.pos)
        if match is None:
            raise ParseError("expected a literal")
        binary = bool(match.group(1))
        if binary and not allow_literal8:
            raise ParseError("literal8 is not allowed here")
        size = int(match.group(2))
        start = match.end()
        if size > NUMBER64_MAX or start + size > len(self.data):
            raise ParseError("literal shorter than announced")
        value = self.data[start:start + size]
        if not binary and not allow_nul and b"\x00" in value:
            raise ParseError("NUL in a literal")
        self.pos = start + size
        return value, binary

    def string(self) -> bytes:
        if self.peek() == b'"':
            return self.quoted()
        if self.peek() == b"{":
            return self.literal()[0]
        raise ParseError("expected a string")

    def astring(self) -> bytes:
        if self.peek() in (b'"', b"{"):
            return self.string()
        return self._match(_ASTRING_ATOM, "a string")

    def astring_text(self) -> str:
        return decode_text(self.astring())

    def nstring(self) -> bytes | None:
        if self.accept_word(b"NIL"):
            return None
        return self.string()

    # --- Mailboxes ---

    def decode_name(self, raw: bytes) -> str:
        """Raw name bytes as Unicode: UTF-8 after UTF8=ACCEPT, else strict modified UTF-7."""
        if self.utf8:
            return decode_text(raw)
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise ParseError("8-bit mailbox name without UTF8=ACCEPT; use modified UTF-7") from None
        return mutf7.decode(text)

    def mailbox(self) -> str:
        """RFC 9051 §9 `mailbox`: INBOX in any case is INBOX (RFC 9051 §5.1)."""
        name = self.decode_name(self.astring())
        return "INBOX" if name.upper() == "INBOX" else name

    def list_mailbox(self) -> str:
        """RFC 9051 §9 `list-mailbox`: list-chars (wildcards allowed) or a string."""
        if self.peek() in (b'"', b"{"):
            return self.decode_name(self.string())
        return self.decode_name(self._match(_LIST_CHARS, "a mailbox pattern"))

    # --- Flags and dates ---

    def flag(self, *, allow_recent: bool = False, allow_star: bool = False) -> str:
        """RFC 9051 §9 `flag`: a system flag (canonical case), `\\`-extension, or keyword atom."""
        if self.accept(b"\\"):
            if allow_star and self.accept(b"*"):
                return "\\*"
            name = "\\" + self.atom()
            canonical = SYSTEM_FLAGS.get(name.upper())
            if canonical is not None:
                return canonical
            if name.upper() == "\\RECENT":
                if not allow_recent:
                    raise ParseError("\\Recent cannot be set by clients")
                return "\\Recent"
            return name
        return self.atom()

    def flag_list(self) -> tuple[str, ...]:
        """`(` [flag *(SP flag)] `)`."""
        self.expect(b"(")
        flags: list[str] = []
        while not self.accept(b")"):
            if flags:
                self.space()
            flags.append(self.flag())
        return tuple(flags)

    def date(self) -> datetime.date:
        """RFC 9051 §9 `date`: `d-Mon-yyyy`, optionally quoted."""
        quoted = self.accept(b'"')
        match = _DATE.match(self.data, self.pos)
        if match is None:
            raise ParseError("expected a date like 1-Feb-2024")
        self.pos = match.end()
        if quoted:
            self.expect(b'"')
        month = _MONTHS.get(match.group(2).decode("ascii").upper())
        try:
            if month is None:
                raise ValueError
            return datetime.date(int(match.group(3)), month, int(match.group(1)))
        except ValueError:
            raise ParseError("invalid date") from None

    def date_time(self) -> datetime.datetime:
        """RFC 9051 §9 `date-time`: `"dd-Mon-yyyy hh:mm:ss +zzzz"` (the day may start with a space)."""
        match = _DATE_TIME.match(self.data, self.pos)
        if match is None:
            raise ParseError("expected a date-time")
        self.pos = match.end()
        day, mon, year, hh, mm, ss, sign, zh, zm = (g.decode("ascii") for g in match.groups())
        month = _MONTHS.get(mon.upper())
        try:
            if month is None or int(zm) > 59:
                raise ValueError
            offset = datetime.timedelta(hours=int(zh), minutes=int(zm)) * (-1 if sign == "-" else 1)
            return datetime.datetime(int(year), month, int(day.strip()), int(hh), int(mm), int(ss),
                                     tzinfo=datetime.timezone(offset))
        except ValueError:
            raise ParseError("invalid date-time") from None
