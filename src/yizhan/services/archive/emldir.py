"""Streaming reader for a folder of .eml files (or one single message file).

Invariants: every regular, non-hidden file under the folder (recursively, hidden folders skipped) is one
message, taken byte for byte, in sorted relative-path order; the internal date is the file mtime; no flags.
Only one message is in memory at a time; `progress`/`total` count messages.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path

from yizhan.services.archive.model import ArchivedMessage, ArchiveError, ArchiveFormat, ProgressUnit
from yizhan.util.clock import from_seconds


def list_message_files(path: Path) -> list[Path]:
    """The message files of an emldir (sorted by relative path), or [path] for a single file."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ArchiveError(f"{path}: no such file or folder")
    found: list[tuple[tuple[str, ...], Path]] = []
    for directory, subdirs, files in os.walk(path, onerror=None):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        base = Path(directory)
        for name in files:
            if name.startswith("."):
                continue
            file = base / name
            if file.is_file():
                found.append((file.relative_to(path).parts, file))
    found.sort(key=lambda item: item[0])
    return [file for _, file in found]


class EmlDirReader:
    """Iterator over the messages of a folder of .eml files; `progress`/`total` count messages."""

    format: ArchiveFormat = "emldir"
    unit: ProgressUnit = "messages"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._files = list_message_files(self.path)
        self.total: int | None = len(self._files)
        self.progress = 0
        self._messages = self._generate()

    def __iter__(self) -> Iterator[ArchivedMessage]:
        return self

    def __next__(self) -> ArchivedMessage:
        return next(self._messages)

    def close(self) -> None:
        """Stop reading."""
        self._messages.close()

    def _generate(self) -> Generator[ArchivedMessage, None, None]:
        for file in self._files:
            try:
                with open(file, "rb") as f:
                    raw = f.read()
                    mtime = os.fstat(f.fileno()).st_mtime
            except OSError as exc:
                raise ArchiveError(f"{file}: cannot read: {exc}") from exc
            self.progress += 1
            yield ArchivedMessage(raw=raw, internal_date=from_seconds(int(mtime)), source=str(file))


def read_emldir(path: Path) -> EmlDirReader:
    """Stream the messages of a folder of .eml files, or of a single message file."""
    return EmlDirReader(path)
