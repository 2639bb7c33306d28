"""Streaming mbox reader and writer (mboxrd on write; mboxrd and mboxo on read).

Invariants:
- Reading holds one message in memory at a time: the file is read in chunks (1 MiB, or the message's size when
  it is larger) searched for separators, never whole; `MboxReader.progress` counts the bytes consumed, `total`
  is the file size. The rules below are line-based; tests/services/test_mbox_reader.py checks the chunked
  reader against a line-by-line model of them at every chunk size.
- No message is lost: text before the first From_ line becomes a message marked `malformed`, and a message
  whose From_ line has an unreadable date is kept with `internal_date=None`.
- A line starting with "From " at the start of the file or after an empty line begins a new message; the one
  blank line mbox puts after each message is removed; line endings (CRLF or LF) are kept as they are.
- `Status:`, `X-Status:` and `X-Keywords:` lines in the header section are mbox metadata: they become flags
  and keywords and are removed from the message bytes. Lines matching `^>+From ` lose one `>`.
- Writing goes through a temporary file that is fsynced and renamed into place, so a crash never leaves a
  half-written export under the final name. For a message that ends with a newline and has no metadata
  headers, `read_mbox(write_mbox(...))` gives back the same bytes, flags, keywords and date (to the second).
"""

from __future__ import annotations

import contextlib
import email.utils
import os
import re
from collections.abc import Generator, Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

from yizhan.services.archive.model import (
    SYSTEM_FLAGS,
    ArchivedMessage,
    ArchiveError,
    ArchiveFormat,
    ProgressUnit,
)
from yizhan.util.durable import fsync_directory

_BUFFER = 1 << 20
_BLANK = (b"\n", b"\r\n")
_METADATA_PREFIXES = (b"status:", b"x-status:", b"x-keywords:")
# An escaped From_ line after the first line (a literal start lets `re` skip ahead with a fast search).
_UNESCAPE_LINES = re.compile(rb"\n>(>*From )")
_ESCAPED_FIRST_LINE = re.compile(rb">+From ")
_ESCAPE = re.compile(rb"^(>*From )", re.MULTILINE)

_MONTHS = {
    m: i
    for i, m in enumerate(
        (b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"), 1
    )
}
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ZONES = {
    b"UT": 0,
    b"UTC": 0,
    b"GMT": 0,
    b"Z": 0,
    b"EST": -5,
    b"EDT": -4,
    b"CST": -6,
    b"CDT": -5,
    b"MST": -7,
    b"MDT": -6,
    b"PST": -8,
    b"PDT": -7,
    b"CET": 1,
    b"CEST": 2,
    b"BST": 1,
}
# The asctime date of a From_ line and its usual variants: optional weekday, optional seconds, a timezone
# before or after the year, two-digit years.
_ASCTIME = re.compile(
    rb"(?:[A-Za-z]{3},?\s+)?(?P<mon>[A-Za-z]{3})[a-z]*\s+(?P<day>\d{1,2}),?\s+"
    rb"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s+"
    rb"(?:(?P<tz1>[A-Za-z]{1,5}|[+-]\d{4})\s+)?(?P<year>\d{4}|\d{2})\b"
    rb"(?:\s+(?P<tz2>[+-]\d{4}|[A-Za-z]{1,5})\b)?"
)
_STATUS_FLAGS = {"R": "\\Seen"}
_X_STATUS_FLAGS = {"A": "\\Answered", "F": "\\Flagged", "T": "\\Draft", "D": "\\Deleted"}


def _zone(token: bytes | None) -> timezone:
    """The timezone named by a From_ line token; unknown or absent zones are taken as UTC."""
    if not token:
        return UTC
    if token[:1] in (b"+", b"-"):
        minutes = int(token[1:3]) * 60 + int(token[3:5])
        return timezone(timedelta(minutes=-minutes if token[:1] == b"-" else minutes))
    return timezone(timedelta(hours=_ZONES.get(token.upper(), 0)))


def parse_from_line_date(line: bytes) -> datetime | None:
    """The date of a From_ line as an aware UTC datetime, or None when it cannot be read."""
    rest = line[5:].strip()
    match = _ASCTIME.search(rest)
    try:
        if match is not None:
            month = _MONTHS.get(match["mon"][:3].lower())
            if month is not None:
                year = int(match["year"])
                if year < 100:
                    year += 1900 if year >= 70 else 2000
                moment = datetime(
                    year,
                    month,
                    int(match["day"]),
                    int(match["hour"]),
                    int(match["minute"]),
                    int(match["second"] or 0),
                    tzinfo=_zone(match["tz1"] or match["tz2"]),
                )
                return moment.astimezone(UTC)
        # Some tools write an RFC 5322 date after the sender instead of asctime.
        parts = rest.split(None, 1)
        if len(parts) == 2:
            parsed = email.utils.parsedate_tz(parts[1].decode("ascii", "replace"))
            if parsed is not None:
                naive = datetime(*parsed[:6])
                return (naive - timedelta(seconds=parsed[9] or 0)).replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    return None


def format_asctime(moment: datetime) -> str:
    """`moment` in UTC as a From_ line asctime ("Thu Jan  1 00:00:00 2024"), independent of the locale."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    m = moment.astimezone(UTC)
    return (
        f"{_DAY_NAMES[m.weekday()]} {_MONTH_NAMES[m.month - 1]} {m.day:2d} "
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d} {m.year:04d}"
    )


def _find_separator(buf: bytes, start: int) -> tuple[int, int] | None:
    """The next message boundary in `buf` at or after `start`: a From_ line after a blank line, as (offset of
    the line break ending the line before the blank one, offset of the From_ line), or None."""
    at = start
    while (found := buf.find(b"\nFrom ", at)) >= 0:
        # The line before the From_ line is blank: "\n" or "\r\n" right after another line break.
        if found - 1 >= start and buf[found - 1] == 0x0A:
            return found - 1, found + 1
        if found - 2 >= start and buf[found - 1] == 0x0D and buf[found - 2] == 0x0A:
            return found - 2, found + 1
        at = found + 1
    return None


def _lines(raw: bytes) -> list[bytes]:
    """`raw` cut after each LF (only LF ends a line in mbox), line endings kept."""
    parts = raw.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _split_metadata(lines: list[bytes]) -> tuple[list[bytes], frozenset[str], frozenset[str]]:
    """Remove Status/X-Status/X-Keywords lines (with their continuations) from the header section."""
    flags: set[str] = set()
    keywords: set[str] = set()
    kept: list[bytes] | None = None
    current: str | None = None
    for i, line in enumerate(lines):
        if line in _BLANK:
            break
        if current is not None and line[:1] in (b" ", b"\t"):
            value = line
        elif line[:1] in (b"S", b"s", b"X", b"x") and line.lower().startswith(_METADATA_PREFIXES):
            name, _, value = line.partition(b":")
            current = name.lower().decode("ascii")
        else:
            current = None
            if kept is not None:
                kept.append(line)
            continue
        if kept is None:
            kept = lines[:i]
        text = value.decode("latin-1")
        if current == "status":
            flags.update(flag for letter, flag in _STATUS_FLAGS.items() if letter in text)
        elif current == "x-status":
            flags.update(flag for letter, flag in _X_STATUS_FLAGS.items() if letter in text)
        else:
            for word in re.split(r"[\s,]+", text):
                if word in SYSTEM_FLAGS:
                    flags.add(word)
                elif word:
                    keywords.add(word)
    else:
        i = len(lines)
    if kept is None:
        return lines, frozenset(flags), frozenset(keywords)
    kept.extend(lines[i:])
    return kept, frozenset(flags), frozenset(keywords)


class MboxReader:
    """Iterator over the messages of an mbox file; `progress`/`total` count bytes for a progress bar."""

    format: ArchiveFormat = "mbox"
    unit: ProgressUnit = "bytes"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            if not self.path.is_file():
                raise ArchiveError(f"{self.path}: not a file, cannot read it as an mbox")
            self.total: int | None = self.path.stat().st_size
        except OSError as exc:
            raise ArchiveError(f"{self.path}: cannot read: {exc}") from exc
        self.progress = 0
        self.count = 0
        self._messages = self._generate()

    def __iter__(self) -> Iterator[ArchivedMessage]:
        return self

    def __next__(self) -> ArchivedMessage:
        return next(self._messages)

    def close(self) -> None:
        """Stop reading and close the file."""
        self._messages.close()

    def __enter__(self) -> MboxReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _message(self, raw: bytes, from_line: bytes | None) -> ArchivedMessage:
        """Build one message from its bytes (trailing mbox blank line already removed): lines `>+From ` lose one
        `>`, metadata headers become flags and keywords."""
        self.count += 1
        if b">From " in raw:
            raw = _UNESCAPE_LINES.sub(rb"\n\1", raw)
            if _ESCAPED_FIRST_LINE.match(raw):
                raw = raw[1:]
        flags: frozenset[str] = frozenset()
        keywords: frozenset[str] = frozenset()
        header = raw[: _header_end(raw)].lower()
        if b"status:" in header or b"x-keywords:" in header:
            lines, flags, keywords = _split_metadata(_lines(raw))
            raw = b"".join(lines)
        return ArchivedMessage(
            raw=raw,
            flags=flags,
            keywords=keywords,
            internal_date=None if from_line is None else parse_from_line_date(from_line),
            source=f"{self.path}#{self.count}",
            malformed=from_line is None or not raw,
        )

    def _generate(self) -> Generator[ArchivedMessage, None, None]:
        """Messages found by searching chunks for separators (C-speed `find`), not line by line.

        The rules are the line-based ones of the module docstring: a From_ line starts a message at the start of
        the file (after blank lines) or after a blank line (`_find_separator`); the message is what
        lies between its From_ line and the blank line before the next separator.
        """
        f: BinaryIO
        with open(self.path, "rb", buffering=0) as f:
            buf = b""
            base = 0  # File offset of buf[0].
            eof = False

            def more(keep_from: int) -> int:
                """Read the next chunk, dropping buf before `keep_from`; returns how far buf moved. Chunks grow
                with a long message, so reading it stays linear."""
                nonlocal buf, base, eof
                chunk = f.read(max(_BUFFER, len(buf) - keep_from))
                eof = not chunk
                buf = buf[keep_from:] + chunk
                base += keep_from
                return keep_from

            # Blank lines before the first message are skipped.
            pos = 0
            while True:
                if len(buf) - pos < 5 and not eof:
                    pos -= more(pos)
                    continue
                if buf.startswith(b"\n", pos):
                    pos += 1
                elif buf.startswith(b"\r\n", pos):
                    pos += 2
                else:
                    break
            if pos >= len(buf):
                self.progress = base + len(buf)
                return
            from_line: bytes | None = None
            if buf.startswith(b"From ", pos):
                while (newline := buf.find(b"\n", pos)) < 0 and not eof:
                    pos -= more(pos)
                content = len(buf) if newline < 0 else newline + 1
                from_line = buf[pos:content]
            else:
                # Text before any From_ line: kept as a malformed message.
                content = pos
            search = max(content - 1, pos)
            while True:
                match = _find_separator(buf, search)
                if match is None:
                    if not eof:
                        # A separator the search missed can only start in the last bytes of buf. One byte
                        # before the message is kept: a separator's first line break may be the From_ line's.
                        resume = max(search, len(buf) - len(b"\n\r\nFrom ") + 1)
                        moved = more(max(content - 1, 0))
                        content -= moved
                        search = max(resume - moved, 0)
                        continue
                    raw = buf[content:]
                    if raw in _BLANK or raw.endswith((b"\n\n", b"\n\r\n")):
                        raw = raw[: -1 if raw.endswith(b"\n\n") or raw == b"\n" else -2]
                    self.progress = base + len(buf)
                    yield self._message(raw, from_line)
                    return
                separator, following = match
                self.progress = base + following
                yield self._message(buf[content : separator + 1], from_line)
                while (newline := buf.find(b"\n", following)) < 0 and not eof:
                    following -= more(following)
                content = len(buf) if newline < 0 else newline + 1
                from_line = buf[following:content]
                search = content - 1

def read_mbox(path: Path) -> MboxReader:
    """Stream the messages of the mbox at `path` (raises ArchiveError if it is not a readable file)."""
    return MboxReader(path)


def count_mbox(path: Path) -> int:
    """Count the messages of an mbox quickly by scanning for From_ lines in large chunks (exact for files
    `read_mbox` reads, including a leading malformed message)."""
    patterns = (b"\n\nFrom ", b"\n\r\nFrom ")
    tail_size = max(len(p) for p in patterns) - 1
    count = 0
    try:
        with open(path, "rb") as f:
            head = f.read(_BUFFER)
            first = head.lstrip(b"\r\n")
            if first and not first.startswith(b"From "):
                count += 1
            buffer = b"\n\n" + head
            while buffer:
                count += sum(buffer.count(p) for p in patterns)
                tail = buffer[-tail_size:]
                chunk = f.read(_BUFFER)
                buffer = tail + chunk if chunk else b""
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read: {exc}") from exc
    return count


def _line_ending(raw: bytes) -> bytes:
    """The message's own line ending, judged by its first line (LF when it has none)."""
    end = raw.find(b"\n")
    return b"\r\n" if end > 0 and raw[end - 1 : end] == b"\r" else b"\n"


def _header_end(raw: bytes) -> int:
    """Offset of the empty line ending the header section, or len(raw) if there is none."""
    if raw.startswith(_BLANK):
        return 0
    ends = [i + 1 for i in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if i >= 0]
    return min(ends) if ends else len(raw)


def _sender(header: bytes) -> str:
    """The envelope sender from the Return-Path header, or MAILER-DAEMON."""
    match = re.search(rb"(?im)^return-path:[ \t]*<?([^<>\s]*)>?", header)
    if match and match[1] and all(0x21 <= b <= 0x7E for b in match[1]):
        return match[1].decode("ascii")
    return "MAILER-DAEMON"


def _metadata_headers(message: ArchivedMessage, eol: bytes) -> bytes:
    """Status/X-Status/X-Keywords lines for the message's flags, or nothing when it has none."""
    if not message.flags and not message.keywords:
        return b""
    status = ("R" if "\\Seen" in message.flags else "") + "O"
    x_status = "".join(letter for letter, flag in _X_STATUS_FLAGS.items() if flag in message.flags)
    words = sorted(k for k in message.keywords if k and not re.search(r"[\s,\x00-\x1f\x7f]", k))
    out = b"Status: " + status.encode() + eol
    if x_status:
        out += b"X-Status: " + x_status.encode() + eol
    if words:
        out += b"X-Keywords: " + " ".join(words).encode("utf-8") + eol
    return out


def encode_mbox_message(message: ArchivedMessage, now: datetime | None = None) -> bytes:
    """One message as mboxrd bytes: From_ line, metadata headers, escaped body, trailing blank line."""
    raw = message.raw
    eol = _line_ending(raw)
    if not raw.endswith(b"\n"):
        raw += eol
    header_end = _header_end(raw)
    metadata = _metadata_headers(message, eol)
    if metadata:
        raw = raw[:header_end] + metadata + raw[header_end:]
    moment = message.internal_date or now or datetime.now(UTC)
    from_line = f"From {_sender(raw[:header_end])} {format_asctime(moment)}".encode("ascii") + eol
    return from_line + _ESCAPE.sub(rb">\1", raw) + eol


def write_mbox(path: Path, messages: Iterable[ArchivedMessage]) -> int:
    """Write `messages` to a new mboxrd file at `path` atomically and durably; return the count written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}"
    count = 0
    try:
        with open(tmp, "wb", buffering=_BUFFER) as f:
            for message in messages:
                f.write(encode_mbox_message(message))
                count += 1
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_directory(path.parent)
    return count
