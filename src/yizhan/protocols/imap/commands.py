"""Typed IMAP commands (RFC 3501 §6, RFC 9051 §6 and the extensions Yizhan speaks): one frozen dataclass each.

Every command carries its `tag`. Mailbox names are Unicode, already decoded from modified UTF-7 (or taken as UTF-8
after ENABLE UTF8=ACCEPT) and with INBOX in any case made `INBOX` (RFC 9051 §5.1). Sequence sets stay unresolved
(`SequenceSet`): only the session knows the mailbox size and the saved result. Flags are strings; system flags are
written in their canonical case (`\\Seen`), keywords as sent. Search criteria form a tree (`search.py`).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Literal

from yizhan.protocols.imap.search import SearchKey
from yizhan.protocols.imap.sequence import SequenceSet

_ATOM = re.compile(r'[^\x00-\x20(){%*"\\\]\x7f-\uffff]+')


@dataclass(frozen=True, slots=True)
class Command:
    tag: str


# --- Any state (RFC 9051 §6.1) ---

@dataclass(frozen=True, slots=True)
class Capability(Command):
    pass


@dataclass(frozen=True, slots=True)
class Noop(Command):
    pass


@dataclass(frozen=True, slots=True)
class Logout(Command):
    pass


@dataclass(frozen=True, slots=True)
class Id(Command):
    """RFC 2971: field/value pairs, or None for `ID NIL`."""

    params: tuple[tuple[str, str | None], ...] | None


@dataclass(frozen=True, slots=True)
class Enable(Command):
    """RFC 5161: capability names, upper-cased."""

    capabilities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Compress(Command):
    """RFC 4978: the algorithm, upper-cased (`DEFLATE`)."""

    mechanism: str


@dataclass(frozen=True, slots=True)
class Idle(Command):
    """RFC 2177 / RFC 9051 §6.3.13; ended by the untagged line `DONE`."""


@dataclass(frozen=True, slots=True)
class Done(Command):
    """The `DONE` line ending IDLE; its tag is empty."""


# --- Not authenticated (RFC 9051 §6.2) ---

@dataclass(frozen=True, slots=True)
class StartTls(Command):
    pass


@dataclass(frozen=True, slots=True)
class Authenticate(Command):
    """RFC 9051 §6.2.2 with SASL-IR (RFC 4959): `initial_response` is None when absent, b"" for `=`."""

    mechanism: str
    initial_response: bytes | None = None


@dataclass(frozen=True, slots=True)
class Login(Command):
    username: str
    password: str


# --- Authenticated (RFC 9051 §6.3) ---

@dataclass(frozen=True, slots=True)
class QResync:
    """RFC 7162 §3.2.5 QRESYNC select parameter."""

    uidvalidity: int
    modseq: int
    known_uids: SequenceSet | None = None
    # (known sequence numbers, their UIDs).
    seq_match: tuple[SequenceSet, SequenceSet] | None = None


@dataclass(frozen=True, slots=True)
class Select(Command):
    mailbox: str
    condstore: bool = False
    qresync: QResync | None = None


@dataclass(frozen=True, slots=True)
class Examine(Command):
    mailbox: str
    condstore: bool = False
    qresync: QResync | None = None


@dataclass(frozen=True, slots=True)
class Create(Command):
    """RFC 9051 §6.3.4; `special_use` from RFC 6154 §3 `(USE (\\Sent))`."""

    mailbox: str
    special_use: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Delete(Command):
    mailbox: str


@dataclass(frozen=True, slots=True)
class Rename(Command):
    mailbox: str
    new_name: str


@dataclass(frozen=True, slots=True)
class Subscribe(Command):
    mailbox: str


@dataclass(frozen=True, slots=True)
class Unsubscribe(Command):
    mailbox: str


@dataclass(frozen=True, slots=True)
class List(Command):
    """LIST with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154).

    `selection` and `return_options` hold upper-cased option names (`SUBSCRIBED`, `RECURSIVEMATCH`, `SPECIAL-USE`,
    `REMOTE`; `CHILDREN`, `STATUS`, ...); `status_items` the items of `RETURN (STATUS (...))`. `extended` says
    whether the extended syntax was used (selection options, several patterns or RETURN).
    """

    reference: str
    patterns: tuple[str, ...]
    selection: frozenset[str] = frozenset()
    return_options: frozenset[str] = frozenset()
    status_items: tuple[str, ...] = ()
    extended: bool = False


@dataclass(frozen=True, slots=True)
class Lsub(Command):
    reference: str
    pattern: str


@dataclass(frozen=True, slots=True)
class Namespace(Command):
    pass


@dataclass(frozen=True, slots=True)
class Status(Command):
    """Items upper-cased: MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT
    MAILBOXID."""

    mailbox: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AppendMessage:
    """One message of APPEND / MULTIAPPEND (RFC 3502); `binary` for a literal8 (RFC 3516), `utf8` for RFC 6855."""

    data: bytes
    flags: tuple[str, ...] = ()
    internal_date: datetime.datetime | None = None
    binary: bool = False
    utf8: bool = False


@dataclass(frozen=True, slots=True)
class Append(Command):
    mailbox: str
    messages: tuple[AppendMessage, ...]


# --- Selected (RFC 9051 §6.4) ---

@dataclass(frozen=True, slots=True)
class Check(Command):
    pass


@dataclass(frozen=True, slots=True)
class Close(Command):
    pass


@dataclass(frozen=True, slots=True)
class Unselect(Command):
    pass


@dataclass(frozen=True, slots=True)
class Expunge(Command):
    pass


@dataclass(frozen=True, slots=True)
class UidExpunge(Command):
    uids: SequenceSet


@dataclass(frozen=True, slots=True)
class Search(Command):
    """SEARCH / UID SEARCH. `return_options` is None without RETURN (a classic `* SEARCH` answer), else the
    upper-cased ESEARCH options (RFC 4731: MIN MAX ALL COUNT; RFC 5182: SAVE); `RETURN ()` means `ALL`."""

    criteria: SearchKey
    uid: bool = False
    charset: str | None = None
    return_options: tuple[str, ...] | None = None


SectionText = Literal["HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"]


@dataclass(frozen=True, slots=True)
class Section:
    """RFC 9051 §6.4.5 `section`: a part path and HEADER / HEADER.FIELDS[.NOT] / TEXT / MIME (or None for all).

    `fields` keeps the header names as the client wrote them, for the echo in the FETCH response.
    """

    part: tuple[int, ...] = ()
    text: SectionText | None = None
    fields: tuple[str, ...] = ()

    def render(self) -> str:
        """The section as written inside `[...]` in a FETCH response."""
        spec = ".".join(str(n) for n in self.part)
        if self.text is not None:
            spec = f"{spec}.{self.text}" if spec else self.text
        if self.fields:
            names = (name if _ATOM.fullmatch(name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
                     for name in self.fields)
            spec += " (" + " ".join(names) + ")"
        return spec


@dataclass(frozen=True, slots=True)
class FetchAttr:
    """A fetch item without arguments: ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT
    BODY BODYSTRUCTURE UID MODSEQ."""

    name: str


@dataclass(frozen=True, slots=True)
class FetchBody:
    """BODY[section]<origin.length> or BODY.PEEK[...] (RFC 9051 §6.4.5); `partial` is (origin, length)."""

    section: Section = field(default_factory=Section)
    partial: tuple[int, int] | None = None
    peek: bool = False


@dataclass(frozen=True, slots=True)
class FetchBinary:
    """BINARY[part]<partial>, BINARY.PEEK, or BINARY.SIZE[part] when `size` (RFC 3516)."""

    part: tuple[int, ...] = ()
    partial: tuple[int, int] | None = None
    peek: bool = False
    size: bool = False


FetchItem = FetchAttr | FetchBody | FetchBinary


@dataclass(frozen=True, slots=True)
class Fetch(Command):
    """FETCH / UID FETCH with CONDSTORE CHANGEDSINCE and QRESYNC VANISHED (RFC 7162 §3.1.4, §3.2.6).

    Macros are expanded (RFC 9051 §6.4.5): FAST, ALL, FULL. For UID FETCH the UID item is added if missing.
    """

    sequence: SequenceSet
    items: tuple[FetchItem, ...]
    uid: bool = False
    changedsince: int | None = None
    vanished: bool = False


@dataclass(frozen=True, slots=True)
class Store(Command):
    """STORE / UID STORE: mode is `replace` (FLAGS), `add` (+FLAGS) or `remove` (-FLAGS); RFC 7162 UNCHANGEDSINCE."""

    sequence: SequenceSet
    mode: Literal["replace", "add", "remove"]
    flags: tuple[str, ...]
    silent: bool = False
    uid: bool = False
    unchangedsince: int | None = None


@dataclass(frozen=True, slots=True)
class Copy(Command):
    sequence: SequenceSet
    mailbox: str
    uid: bool = False


@dataclass(frozen=True, slots=True)
class Move(Command):
    """RFC 6851 MOVE / UID MOVE."""

    sequence: SequenceSet
    mailbox: str
    uid: bool = False
