"""Streaming readers and writers of mailbox archives (mbox, Maildir, folders of .eml files) for
`yizhan import` and `yizhan export`.

Invariants: readers hold one message in memory at a time and report progress (`ArchiveReader.progress` out
of `total`, in bytes for mbox and messages otherwise); no message is dropped, doubtful ones are marked
`malformed`; writers never leave a partially written file under its final name.
"""

from __future__ import annotations

from pathlib import Path

from yizhan.services.archive.detect import detect_format
from yizhan.services.archive.emldir import EmlDirReader, read_emldir
from yizhan.services.archive.maildir import MaildirReader, list_maildir_folders, read_maildir, write_maildir
from yizhan.services.archive.mbox import MboxReader, count_mbox, read_mbox, write_mbox
from yizhan.services.archive.model import (
    SYSTEM_FLAGS,
    ArchivedMessage,
    ArchiveError,
    ArchiveFormat,
    ArchiveReader,
    ProgressUnit,
)


def open_archive(path: Path) -> ArchiveReader:
    """A streaming reader for the archive at `path`, whatever its format (see `detect_format`)."""
    kind = detect_format(path)
    if kind == "mbox":
        return read_mbox(path)
    if kind == "maildir":
        return read_maildir(path)
    return read_emldir(path)


__all__ = [
    "SYSTEM_FLAGS",
    "ArchiveError",
    "ArchiveFormat",
    "ArchiveReader",
    "ArchivedMessage",
    "EmlDirReader",
    "MaildirReader",
    "MboxReader",
    "ProgressUnit",
    "count_mbox",
    "detect_format",
    "list_maildir_folders",
    "open_archive",
    "read_emldir",
    "read_maildir",
    "read_mbox",
    "write_maildir",
    "write_mbox",
]
