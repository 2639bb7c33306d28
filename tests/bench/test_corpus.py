"""Tests for bench/corpus.py: determinism, parseability, the promised mix, and mboxrd From-line escaping."""

from __future__ import annotations

import email.policy
import importlib.util
import io
import json
import mailbox
import subprocess
import sys
from datetime import UTC, datetime
from email.parser import BytesParser
from pathlib import Path
from types import ModuleType

import pytest

CORPUS_PATH = Path(__file__).resolve().parents[2] / "bench" / "corpus.py"


def _load() -> ModuleType:
    """Import bench/corpus.py by path; bench is a directory of scripts, not a package."""
    spec = importlib.util.spec_from_file_location("bench_corpus", CORPUS_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


corpus = _load()


@pytest.fixture(scope="module")
def messages() -> list[bytes]:
    return list(corpus.generate(600, seed=5))


def test_same_seed_same_bytes() -> None:
    assert list(corpus.generate(200, seed=3)) == list(corpus.generate(200, seed=3))
    assert list(corpus.generate(50, seed=3)) != list(corpus.generate(50, seed=4))


def test_prefix_is_stable() -> None:
    # A shorter run is a prefix of a longer one with the same seed.
    assert list(corpus.generate(30, seed=9)) == list(corpus.generate(60, seed=9))[:30]


def test_vocabularies() -> None:
    assert len(set(corpus.CHINESE_WORDS)) >= 200
    assert len(set(corpus.ENGLISH_WORDS)) >= 300
    assert {"北京", "上海", "会议", "项目", "报告", "预算", "合同", "客户", "通知", "审批"} <= set(corpus.CHINESE_WORDS)
    assert len({addr for _, addr in corpus.SENDERS}) == 200
    assert len({addr.split("@")[1] for _, addr in corpus.SENDERS}) >= 18


def test_every_message_parses(messages: list[bytes]) -> None:
    parser = BytesParser(policy=email.policy.default)
    kinds: set[str] = set()
    charsets: set[str] = set()
    replies = chinese = 0
    for raw in messages:
        # CRLF only, 7-bit headers, no line over 998 octets.
        assert b"\n" not in raw.replace(b"\r\n", b"")
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert head.isascii()
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998
        msg = parser.parsebytes(raw)
        assert msg["Message-ID"] and msg["Date"] and msg["From"] and msg["To"]
        kinds.add(msg.get_content_type())
        subject = str(msg["Subject"])
        chinese += any("\u4e00" <= ch <= "\u9fff" for ch in subject)
        if msg["In-Reply-To"]:
            replies += 1
            assert subject.startswith(("Re: ", "回复: "))
            assert msg["In-Reply-To"] in str(msg["References"])
        for part in msg.walk():
            assert not part.defects, (part.defects, raw[:300])
            if part.get_content_maintype() == "text":
                charsets.add(part.get_content_charset() or "")
                part.get_content()
            elif not part.is_multipart():
                assert part.get_filename()
                assert part.get_content()
    assert kinds == {"text/plain", "text/html", "multipart/alternative", "multipart/mixed"}
    assert {"utf-8", "gb2312", "gbk", "us-ascii"} <= charsets
    assert 0.2 < replies / len(messages) < 0.4
    assert 0.35 < chinese / len(messages) < 0.65


def test_chinese_filenames(messages: list[bytes]) -> None:
    parser = BytesParser(policy=email.policy.default)
    rfc2231 = rfc2047 = 0
    for raw in messages:
        rfc2231 += b"filename*=UTF-8''" in raw
        rfc2047 += b'filename="=?UTF-8?B?' in raw
        for part in parser.parsebytes(raw).walk():
            name = part.get_filename()
            if name and not name.isascii():
                assert any("\u4e00" <= ch <= "\u9fff" for ch in name)
    assert rfc2231 and rfc2047


def test_mbox_escapes_from_lines() -> None:
    raw = b"From: a@example.com\r\nSubject: x\r\n\r\nFrom here on\r\n>From quoted\r\n>>From twice\r\n From no\r\n"
    entry = corpus.to_mbox_entry(raw, "a@example.com", datetime(2024, 1, 4, 12, 0, tzinfo=UTC))
    assert entry == (
        b"From a@example.com Thu Jan  4 12:00:00 2024\n"
        b"From: a@example.com\nSubject: x\n\n>From here on\n>>From quoted\n>>>From twice\n From no\n\n"
    )


def test_mbox_round_trip(tmp_path: Path) -> None:
    records = list(corpus.generate_records(300, seed=2))
    buffer = io.BytesIO()
    count, size = corpus.write_mbox(records, buffer)
    assert count == 300 and size == len(buffer.getvalue())
    path = tmp_path / "c.mbox"
    path.write_bytes(buffer.getvalue())
    box = mailbox.mbox(path)
    read = list(box)
    assert len(read) == 300
    escaped = 0
    for record, msg in zip(records, read, strict=True):
        assert msg["Message-ID"] == email.message_from_bytes(record.raw)["Message-ID"]
        escaped += b"\nFrom " in record.raw.replace(b"\r\n", b"\n")
    # The corpus does contain body lines that need escaping.
    assert escaped > 0


def test_command_line(tmp_path: Path) -> None:
    out = tmp_path / "c.mbox"
    result = subprocess.run(
        [sys.executable, str(CORPUS_PATH), "--count", "50", "--seed", "7", "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    stats = json.loads(result.stdout)
    assert stats["count"] == 50
    assert stats["bytes"] == out.stat().st_size
    assert stats["seconds"] >= 0
    assert out.read_bytes().startswith(b"From ")
