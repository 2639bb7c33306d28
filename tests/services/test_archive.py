"""Tests of the streaming archive readers and writers: round trips, flags, constant memory, bad input."""

from __future__ import annotations

import os
import tempfile
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yizhan.services.archive import (
    SYSTEM_FLAGS,
    ArchivedMessage,
    ArchiveError,
    count_mbox,
    detect_format,
    list_maildir_folders,
    open_archive,
    read_emldir,
    read_maildir,
    read_mbox,
    write_maildir,
    write_mbox,
)

_PREFIXES = [
    b"",
    b"From ",
    b">From ",
    b">>From ",
    b"From",
    b">",
    b"Subject: ",
    b"Return-Path: <a@b>",
    b"\x00",
]
_METADATA = (b"status:", b"x-status:", b"x-keywords:")
_KEYWORDS = ["$Forwarded", "$Junk", "$NotJunk", "Work", "$label1"]


@st.composite
def raw_messages(draw: st.DrawFn) -> bytes:
    """Random message bytes ending with a newline: tricky From lines, mixed CRLF/LF, 8-bit bytes and NUL."""
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        prefix = draw(st.sampled_from(_PREFIXES))
        body = draw(st.binary(max_size=40)).replace(b"\n", b"")
        line = prefix + body
        if line.lower().startswith(_METADATA):
            line = b"X" + line
        lines.append(line + draw(st.sampled_from([b"\n", b"\r\n"])))
    return b"".join(lines)


messages_strategy = st.lists(
    st.builds(
        ArchivedMessage,
        raw=raw_messages(),
        flags=st.frozensets(st.sampled_from(sorted(SYSTEM_FLAGS))),
        keywords=st.frozensets(st.sampled_from(_KEYWORDS)),
        internal_date=st.datetimes(datetime(1970, 1, 2), datetime(2100, 1, 1), timezones=st.just(UTC)).map(
            lambda d: d.replace(microsecond=0)
        ),
    ),
    max_size=8,
)


def _same(written: list[ArchivedMessage], read: list[ArchivedMessage]) -> None:
    assert len(read) == len(written)
    for original, copy in zip(written, read, strict=True):
        assert copy.raw == original.raw
        assert copy.flags == original.flags
        assert copy.keywords == original.keywords
        assert copy.internal_date == original.internal_date
        assert not copy.malformed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages_strategy)
def test_mbox_round_trip(messages: list[ArchivedMessage]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.mbox"
        assert write_mbox(path, iter(messages)) == len(messages)
        assert [p.name for p in Path(tmp).iterdir()] == ["out.mbox"]
        reader = read_mbox(path)
        read = list(reader)
        _same(messages, read)
        assert reader.progress == reader.total == path.stat().st_size
        assert count_mbox(path) == len(messages)
        assert [m.source for m in read] == [f"{path}#{i}" for i in range(1, len(messages) + 1)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages_strategy)
def test_maildir_round_trip(messages: list[ArchivedMessage]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Maildir"
        assert write_maildir(path, messages) == len(messages)
        assert detect_format(path) == "maildir"
        assert not list((path / "tmp").iterdir())
        reader = read_maildir(path)
        _same(messages, list(reader))
        assert reader.progress == reader.total == len(messages)


def test_mbox_writer_format(tmp_path: Path) -> None:
    message = ArchivedMessage(
        raw=b"Return-Path: <alice@example.org>\r\nSubject: hi\r\n\r\nFrom here\r\n>From there",
        flags=frozenset({"\\Seen", "\\Answered", "\\Flagged"}),
        keywords=frozenset({"$Junk", "Work"}),
        internal_date=datetime(2024, 1, 5, 9, 3, 7, tzinfo=UTC),
    )
    path = tmp_path / "a.mbox"
    write_mbox(path, [message, ArchivedMessage(raw=b"Subject: x\n\nbody\n")])
    data = path.read_bytes()
    first, _, second = data.partition(b"\r\n\r\nFrom ")
    assert first == (
        b"From alice@example.org Fri Jan  5 09:03:07 2024\r\n"
        b"Return-Path: <alice@example.org>\r\nSubject: hi\r\n"
        b"Status: RO\r\nX-Status: AF\r\nX-Keywords: $Junk Work\r\n\r\n"
        b">From here\r\n>>From there"
    )
    assert second.startswith(b"MAILER-DAEMON ")
    assert second.endswith(b"\nSubject: x\n\nbody\n\n")
    assert b"Status" not in second
    read = list(read_mbox(path))
    # The missing final newline was added with the message's own line ending.
    assert read[0].raw == message.raw + b"\r\n"
    assert (read[0].flags, read[0].keywords) == (message.flags, message.keywords)


def test_mbox_metadata_headers_removed_only_from_header(tmp_path: Path) -> None:
    path = tmp_path / "dovecot.mbox"
    path.write_bytes(
        b"From bob@example.org Mon Feb  5 10:00:00 2024 +0100\n"
        b"Subject: a\nStatus: RO\nX-Keywords: $Forwarded,\n Work \\Seen\nX-Status: DT\nTo: c@d\n\n"
        b"Status: this is body text\n\n"
        b"From carol@example.org Tue Feb  6 10:00:00 2024\n"
        b"Subject: b\nStatus: O\n\nno flags\nFrom not a separator\n"
    )
    first, second = read_mbox(path)
    assert first.raw == b"Subject: a\nTo: c@d\n\nStatus: this is body text\n"
    assert first.flags == {"\\Seen", "\\Deleted", "\\Draft"}
    assert first.keywords == {"$Forwarded", "Work"}
    assert first.internal_date == datetime(2024, 2, 5, 9, 0, 0, tzinfo=UTC)
    assert second.raw == b"Subject: b\n\nno flags\nFrom not a separator\n"
    assert second.flags == frozenset() and second.keywords == frozenset()


def test_mbox_garbage_first_line_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "damaged.mbox"
    path.write_bytes(
        b"\n\x00\x01garbage line\nmore\n\nFrom a@b Thu Jan  1 00:00:00 2024\nSubject: ok\n\nbody\n\n"
        b"From a@b not-a-date\nSubject: undated\n\nx\n"
    )
    assert detect_format(path) == "mbox"
    messages = list(open_archive(path))
    assert [m.malformed for m in messages] == [True, False, False]
    assert messages[0].raw == b"\x00\x01garbage line\nmore\n"
    assert messages[0].internal_date is None
    assert messages[1].raw == b"Subject: ok\n\nbody\n"
    assert messages[2].internal_date is None and messages[2].raw == b"Subject: undated\n\nx\n"
    assert count_mbox(path) == 3


def test_mbox_mboxo_and_mboxrd_unescaping(tmp_path: Path) -> None:
    path = tmp_path / "rd.mbox"
    path.write_bytes(b"From x Thu Jan  1 00:00:00 2024\n\n>From a\n>>From b\n> From c\n>Fromage\n")
    (message,) = read_mbox(path)
    assert message.raw == b"\nFrom a\n>From b\n> From c\n>Fromage\n"


def test_empty_and_missing_and_not_mbox(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    assert detect_format(empty) == "mbox"
    assert list(read_mbox(empty)) == []
    assert count_mbox(empty) == 0
    blank = tmp_path / "blank.mbox"
    blank.write_bytes(b"\n\r\n\n")
    assert list(read_mbox(blank)) == []
    with pytest.raises(ArchiveError):
        detect_format(tmp_path / "missing")
    with pytest.raises(ArchiveError):
        read_mbox(tmp_path / "missing")
    with pytest.raises(ArchiveError):
        read_maildir(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_bytes(b"just some notes\nnothing like mail\n")
    with pytest.raises(ArchiveError, match="not a recognised archive"):
        open_archive(text)
    gz = tmp_path / "a.mbox.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00rest")
    with pytest.raises(ArchiveError, match="gzip"):
        detect_format(gz)


def test_single_eml_and_emldir(tmp_path: Path) -> None:
    single = tmp_path / "one.eml"
    single.write_bytes(b"Subject: one\r\n\r\nFrom me\r\n")
    assert detect_format(single) == "emldir"
    (message,) = open_archive(single)
    assert message.raw == single.read_bytes() and message.flags == frozenset()
    folder = tmp_path / "emls"
    (folder / "b").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    (folder / "b" / "2.eml").write_bytes(b"Subject: 2\n\n")
    (folder / "a.eml").write_bytes(b"Subject: 1\n\n")
    (folder / ".DS_Store").write_bytes(b"junk")
    (folder / ".hidden" / "x.eml").write_bytes(b"junk")
    os.utime(folder / "a.eml", (1_700_000_000, 1_700_000_000))
    assert detect_format(folder) == "emldir"
    reader = read_emldir(folder)
    assert reader.total == 2
    read = list(reader)
    assert [m.raw for m in read] == [b"Subject: 1\n\n", b"Subject: 2\n\n"]
    assert read[0].internal_date == datetime.fromtimestamp(1_700_000_000, UTC)
    assert reader.progress == 2


def test_maildir_reading_foreign_names_and_keywords(tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "dovecot-keywords").write_text("0 $Junk\n1 Work\n")
    (root / "cur" / "1700000010.M1P2.host,S=3:2,PRSab").write_bytes(b"b\n")
    (root / "cur" / "1700000009.M9P2.host:2,").write_bytes(b"a\n")
    (root / "new" / "1700000011.M1P2.host").write_bytes(b"c\n")
    (root / "new" / ".hidden").write_bytes(b"no\n")
    read = list(read_maildir(root))
    assert [m.raw for m in read] == [b"a\n", b"b\n", b"c\n"]
    assert read[1].flags == {"\\Seen", "\\Answered"}
    assert read[1].keywords == {"$Forwarded", "$Junk", "Work"}
    # Writing into the existing Maildir reuses and extends the keyword letters.
    write_maildir(root, [ArchivedMessage(raw=b"d\n", keywords=frozenset({"work", "New"}))])
    assert (root / "dovecot-keywords").read_text() == "0 $Junk\n1 Work\n2 New\n"
    (name,) = [p.name for p in (root / "cur").iterdir() if p.read_bytes() == b"d\n"]
    assert name.endswith(",S=2:2,bc")


def test_maildir_subfolders(tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    for folder in ("", ".Sent", ".Work.Projects", ".Caf&AOk-", ".NotAMaildir/other"):
        (root / folder / ("cur" if "Not" not in folder else "")).mkdir(parents=True, exist_ok=True)
    (root / ".file").write_bytes(b"")
    assert list_maildir_folders(root) == [
        ("INBOX", root),
        ("Café", root / ".Caf&AOk-"),
        ("Sent", root / ".Sent"),
        ("Work/Projects", root / ".Work.Projects"),
    ]


def _write_big_mbox(path: Path, count: int, body_size: int) -> None:
    line = b"The quick brown fox jumps over the lazy dog and From here on it is fine. 0123456789\n"
    body = line * (body_size // len(line))
    with open(path, "wb") as f:
        for i in range(count):
            f.write(b"From sender@example.org Thu Jan  1 00:00:00 2024\n")
            f.write(b"Subject: message %d\nStatus: RO\n\n" % i + body + b"\n")


def test_mbox_reading_is_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.mbox"
    _write_big_mbox(path, 3000, 10_000)
    assert path.stat().st_size > 29_000_000
    tracemalloc.start()
    try:
        count = 0
        for message in read_mbox(path):
            count += 1
            assert message.flags == {"\\Seen"}
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 3000
    assert peak < 4_000_000, peak
