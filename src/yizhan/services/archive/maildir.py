"""Streaming Maildir reader and writer, with Maildir++ subfolder listing and Dovecot keywords.

Invariants:
- Reading holds one message in memory at a time; messages of new/ and cur/ come in a stable order (natural
  order of the file name, so the leading timestamp and then the delivery counter sort numerically).
- Flags come from the `:2,` info suffix (D Draft, F Flagged, P $Forwarded, R Answered, S Seen, T Deleted) and
  lowercase letters from the `dovecot-keywords` file; the internal date is the file mtime.
- Writing never exposes a partial file: each message is written to tmp/, fsynced, its mtime set to the
  internal date, then renamed into cur/ under a unique name; the `dovecot-keywords` file is updated durably
  before any message that uses a new keyword letter is renamed into place.
"""

from __future__ import annotations

import base64
import itertools
import logging
import os
import re
import socket
import time
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path

from yizhan.services.archive.model import ArchivedMessage, ArchiveError, ArchiveFormat, ProgressUnit
from yizhan.util.clock import from_seconds, to_seconds
from yizhan.util.durable import fsync_directory, write_durably

log = logging.getLogger(__name__)

KEYWORDS_FILE = "dovecot-keywords"
_INFO = ":2,"
_LETTER_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}
_FLAG_LETTERS = {flag: letter for letter, flag in _LETTER_FLAGS.items()}
_FORWARDED = "$Forwarded"
_MAX_KEYWORDS = 26
_counter = itertools.count(1)


def _natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key comparing digit runs as numbers, so "1700.9_x" comes before "1700.10_x"."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.findall(r"\d+|\D+", name))


def read_keywords(path: Path) -> dict[int, str]:
    """The `dovecot-keywords` mapping of a Maildir (index → keyword; letter = chr(ord("a") + index))."""
    try:
        text = (path / KEYWORDS_FILE).read_text("utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ArchiveError(f"{path / KEYWORDS_FILE}: cannot read: {exc}") from exc
    mapping: dict[int, str] = {}
    for line in text.splitlines():
        index, _, keyword = line.strip().partition(" ")
        if index.isdigit() and keyword and int(index) < _MAX_KEYWORDS:
            mapping[int(index)] = keyword.strip()
    return mapping


def parse_info(name: str, keywords: dict[int, str]) -> tuple[frozenset[str], frozenset[str]]:
    """System flags and keywords encoded in a Maildir file name's `:2,` suffix."""
    _, sep, info = name.rpartition(_INFO)
    if not sep:
        return frozenset(), frozenset()
    flags: set[str] = set()
    words: set[str] = set()
    for letter in info:
        if letter in _LETTER_FLAGS:
            flags.add(_LETTER_FLAGS[letter])
        elif letter == "P":
            words.add(_FORWARDED)
        elif "a" <= letter <= "z" and (ord(letter) - ord("a")) in keywords:
            words.add(keywords[ord(letter) - ord("a")])
    return frozenset(flags), frozenset(words)


def list_maildir_files(path: Path) -> list[Path]:
    """The message files of new/ and cur/, in stable natural order of their names."""
    files: list[Path] = []
    for sub in ("new", "cur"):
        directory = path / sub
        if not directory.is_dir():
            continue
        with os.scandir(directory) as entries:
            files.extend(Path(e.path) for e in entries if not e.name.startswith(".") and e.is_file())
    files.sort(key=lambda f: (_natural_key(f.name.partition(":")[0]), f.name))
    return files


class MaildirReader:
    """Iterator over the messages of one Maildir folder; `progress`/`total` count messages."""

    format: ArchiveFormat = "maildir"
    unit: ProgressUnit = "messages"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not (self.path / "cur").is_dir() and not (self.path / "new").is_dir():
            raise ArchiveError(f"{self.path}: not a Maildir (no cur/ or new/ folder)")
        self._keywords = read_keywords(self.path)
        self._files = list_maildir_files(self.path)
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
            except FileNotFoundError:
                # A live Maildir moves files from new/ to cur/ and renames them on flag changes.
                found = self._find_moved(file)
                if found is None:
                    log.warning("maildir message vanished while reading: %s", file)
                    self.progress += 1
                    continue
                file, raw, mtime = found
            except OSError as exc:
                raise ArchiveError(f"{file}: cannot read: {exc}") from exc
            flags, keywords = parse_info(file.name, self._keywords)
            self.progress += 1
            yield ArchivedMessage(
                raw=raw,
                flags=flags,
                keywords=keywords,
                internal_date=from_seconds(int(mtime)),
                source=str(file),
            )

    def _find_moved(self, file: Path) -> tuple[Path, bytes, float] | None:
        """The message whose unique name matches `file`'s, if another process moved or renamed it."""
        base = file.name.partition(":")[0]
        for sub in ("cur", "new"):
            try:
                with os.scandir(self.path / sub) as entries:
                    for entry in entries:
                        if entry.name.partition(":")[0] == base:
                            with open(entry.path, "rb") as f:
                                return Path(entry.path), f.read(), os.fstat(f.fileno()).st_mtime
            except OSError:
                continue
        return None


def read_maildir(path: Path) -> MaildirReader:
    """Stream the messages of the Maildir at `path` (new/ and cur/; subfolders via list_maildir_folders)."""
    return MaildirReader(path)


def _decode_mutf7(name: str) -> str:
    """Decode IMAP modified UTF-7 ("&AOk-" → "é"), leaving undecodable runs as they are."""

    def decode(match: re.Match[str]) -> str:
        if not match[1]:
            return "&"
        data = match[1].replace(",", "/")
        try:
            return base64.b64decode(data + "=" * (-len(data) % 4)).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            return match[0]

    return re.sub(r"&([A-Za-z0-9+,]*)-", decode, name)


def list_maildir_folders(path: Path) -> list[tuple[str, Path]]:
    """The folders of a Maildir++ tree: ("INBOX", path) first when `path` is a Maildir, then each ".A.B"
    subfolder as ("A/B", its path), sorted by name."""
    path = Path(path)
    if not path.is_dir():
        raise ArchiveError(f"{path}: no such folder")
    folders: list[tuple[str, Path]] = []
    with os.scandir(path) as entries:
        for entry in entries:
            name = entry.name
            if not name.startswith(".") or name in (".", "..") or len(name) < 2 or not entry.is_dir():
                continue
            sub = Path(entry.path)
            if (sub / "cur").is_dir() or (sub / "new").is_dir():
                parts = [_decode_mutf7(part) for part in name[1:].split(".")]
                folders.append(("/".join(parts), sub))
    folders.sort(key=lambda item: item[0])
    if (path / "cur").is_dir() or (path / "new").is_dir():
        folders.insert(0, ("INBOX", path))
    return folders


class _KeywordTable:
    """The writer's view of `dovecot-keywords`: assigns letters and persists new ones before use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.by_index = read_keywords(path)
        self.letters = {keyword.lower(): chr(ord("a") + i) for i, keyword in self.by_index.items()}

    def letter(self, keyword: str) -> str | None:
        found = self.letters.get(keyword.lower())
        if found is not None:
            return found
        free = [i for i in range(_MAX_KEYWORDS) if i not in self.by_index]
        if not free or not keyword or any(c.isspace() for c in keyword):
            log.warning("maildir keyword not written (no free letter or invalid name): %r", keyword)
            return None
        self.by_index[free[0]] = keyword
        self.letters[keyword.lower()] = chr(ord("a") + free[0])
        text = "".join(f"{i} {k}\n" for i, k in sorted(self.by_index.items()))
        write_durably(self.path / KEYWORDS_FILE, text.encode("utf-8"))
        return self.letters[keyword.lower()]


def _hostname() -> str:
    """The host name made safe for Maildir file names ("/" and ":" encoded as the spec asks)."""
    return (socket.gethostname() or "localhost").replace("/", r"\057").replace(":", r"\072")


def _info(message: ArchivedMessage, table: _KeywordTable) -> str:
    """The letters of the `:2,` suffix for the message, sorted in ASCII order."""
    letters = {_FLAG_LETTERS[f] for f in message.flags if f in _FLAG_LETTERS}
    for keyword in message.keywords:
        if keyword.lower() == _FORWARDED.lower():
            letters.add("P")
        else:
            letter = table.letter(keyword)
            if letter is not None:
                letters.add(letter)
    return "".join(sorted(letters))


def write_maildir(path: Path, messages: Iterable[ArchivedMessage]) -> int:
    """Write `messages` into the Maildir at `path` (created if needed) under cur/; return how many."""
    path = Path(path)
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    table = _KeywordTable(path)
    host, pid = _hostname(), os.getpid()
    count = 0
    for message in messages:
        info = _info(message, table)
        while True:
            base = f"{int(time.time())}.{next(_counter)}_{pid}.{host},S={len(message.raw)}"
            target = path / "cur" / f"{base}{_INFO}{info}"
            tmp = path / "tmp" / base
            if not target.exists() and not tmp.exists():
                break
        try:
            with open(tmp, "xb") as f:
                f.write(message.raw)
                f.flush()
                os.fsync(f.fileno())
            if message.internal_date is not None:
                seconds = to_seconds(message.internal_date)
                os.utime(tmp, (seconds, seconds))
            os.rename(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        count += 1
    fsync_directory(path / "cur")
    return count
