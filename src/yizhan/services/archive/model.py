"""The archive data model: one archived message, the reader protocol shared by all formats, the error type.

Invariants: an `ArchivedMessage` carries the message bytes exactly as they should be stored (archive
metadata such as mbox `Status:` headers already removed, escaping already undone), system flags and keywords
kept apart, and an aware UTC internal date or None. Readers yield one message at a time and report
progress so that a caller can draw a progress bar without holding the archive in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

ArchiveFormat = Literal["mbox", "maildir", "emldir"]
ProgressUnit = Literal["bytes", "messages"]

# The IMAP system flags an archive can carry (\Recent is session state and never archived).
SYSTEM_FLAGS: frozenset[str] = frozenset({"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"})


class ArchiveError(Exception):
    """The archive cannot be read at all: the path is missing or it is not in a recognised format."""


@dataclass(frozen=True, slots=True)
class ArchivedMessage:
    """One message read from (or to be written to) an archive.

    `source` locates the message for error reports ("file.mbox#12" or a file path); `malformed` is true when
    the reader had to guess where the message starts or ends, so the importer can report it.
    """

    raw: bytes
    flags: frozenset[str] = frozenset()
    keywords: frozenset[str] = frozenset()
    internal_date: datetime | None = None
    source: str = ""
    malformed: bool = False


class ArchiveReader(Protocol):
    """A streaming reader: an iterator of messages that reports how far it got.

    `progress` counts `unit`s consumed so far (bytes of an mbox file, messages otherwise) and `total` is the
    full amount when known, so `progress / total` feeds a progress bar.
    """

    format: ArchiveFormat
    unit: ProgressUnit
    total: int | None
    progress: int

    def __iter__(self) -> Iterator[ArchivedMessage]: ...

    def __next__(self) -> ArchivedMessage: ...

    def close(self) -> None: ...
