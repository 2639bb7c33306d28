"""The chunked mbox reader against a line-by-line model of the mbox rules, at every chunk size.

The model is the straightforward reading of the rules in `yizhan.services.archive.mbox`'s docstring (the reader
Yizhan had before it searched chunks): a From_ line starts a message at the start of the file (after blank
lines) or after a blank line, the blank line before it is removed, `>+From ` lines lose one `>`, and
Status/X-Status/X-Keywords header lines become flags and keywords.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yizhan.services.archive import mbox

Seen = tuple[bytes, frozenset[str], frozenset[str], object, bool, int]


def model(data: bytes) -> tuple[list[Seen], int]:
    """(raw, flags, keywords, date, malformed, progress) of each message, and the final progress."""
    out: list[Seen] = []
    lines: list[bytes] = []
    from_line: bytes | None = None
    started = False
    previous_blank = True
    consumed = 0

    def emit(lines: list[bytes], from_line: bytes | None, progress: int) -> None:
        kept, flags, keywords = mbox._split_metadata(lines)
        raw = b"".join(kept)
        date = None if from_line is None else mbox.parse_from_line_date(from_line)
        out.append((raw, flags, keywords, date, from_line is None or not raw, progress))

    for line in _lf_lines(data):
        if previous_blank and line.startswith(b"From "):
            if started:
                if lines:
                    lines.pop()
                emit(lines, from_line, consumed)
            consumed += len(line)
            lines, from_line, started, previous_blank = [], line, True, False
            continue
        consumed += len(line)
        blank = line in (b"\n", b"\r\n")
        if not started:
            if blank:
                continue
            started = True
        lines.append(line[1:] if line[:1] == b">" and line.lstrip(b">").startswith(b"From ") else line)
        previous_blank = blank
    if started:
        if lines and lines[-1] in (b"\n", b"\r\n"):
            lines.pop()
        emit(lines, from_line, consumed)
    return out, consumed


def _lf_lines(data: bytes) -> list[bytes]:
    parts = data.split(b"\n")
    return [p + b"\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def read(path: Path) -> tuple[list[Seen], int]:
    reader = mbox.MboxReader(path)
    out = [(m.raw, m.flags, m.keywords, m.internal_date, m.malformed, reader.progress) for m in reader]
    return out, reader.progress


FRAGMENTS = [b"From a@b Mon Jan  1 00:00:00 2024\n", b"From x\n", b"\n", b"\r\n", b">From q\n", b">>From q\n",
             b"From \n", b"Status: RO\n", b"X-Keywords: $Junk, foo\n", b"Subject: hi\n", b"body\n", b"body", b"\r",
             b"x-status: A\n", b" cont\n", b"From", b"\n\n", b"\n>From", b"\r\n\r\nFrom y\r\n"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(FRAGMENTS), max_size=16), chunk=st.sampled_from([1, 2, 3, 5, 8, 64, 1 << 20]))
def test_reader_matches_the_line_model(tmp_path: Path, parts: list[bytes], chunk: int,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"".join(parts)
    path = tmp_path / "x.mbox"
    path.write_bytes(data)
    monkeypatch.setattr(mbox, "_BUFFER", chunk)
    assert read(path) == model(data)


def test_long_message_across_many_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = b"".join(b"line %d\n>From x\n\n" % i for i in range(5000))
    data = b"From a Mon Jan  1 00:00:00 2024\nSubject: s\n\n" + body + b"\nFrom b\nSubject: t\n\nend\n"
    path = tmp_path / "long.mbox"
    path.write_bytes(data)
    monkeypatch.setattr(mbox, "_BUFFER", 100)
    assert read(path) == model(data)
    assert len(read(path)[0]) == 2
