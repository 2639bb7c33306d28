"""util/quickio.py: the small file-system calls that keep the GIL do what the `os` calls do (real files in a
temporary directory), fail as they do, and step aside for a while after a slow call."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yizhan.util import quickio

pytestmark = pytest.mark.skipif(not quickio.available(), reason="no C library to call")


@pytest.mark.parametrize("size", [0, 1, 2046, 2047, 2048, 4094, 4095, 10_240, quickio.SMALL])
def test_sha256_in_pieces_is_the_sha256(size: int) -> None:
    data = os.urandom(size)
    assert quickio.sha256_hex(data) == hashlib.sha256(data).hexdigest()


@given(st.binary(max_size=9000))
def test_sha256_in_pieces_matches_hashlib_for_any_bytes(data: bytes) -> None:
    assert quickio.sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_write_new_creates_the_file_with_the_bytes(tmp_path: Path) -> None:
    data = os.urandom(40_000)
    target = tmp_path / "blob"
    assert not quickio.exists(str(target))
    quickio.write_new(str(target), data)
    assert target.read_bytes() == data
    assert quickio.exists(str(target))


def test_write_new_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_bytes(b"first")
    with pytest.raises(OSError) as raised:
        quickio.write_new(str(target), b"second")
    assert raised.value.errno == errno.EEXIST
    assert target.read_bytes() == b"first"


def test_write_new_into_a_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(OSError) as raised:
        quickio.write_new(str(tmp_path / "nowhere" / "file"), b"data")
    assert raised.value.errno == errno.ENOENT


def test_rename_replaces_the_target(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(b"new")
    target.write_bytes(b"old")
    quickio.rename(str(source), str(target))
    assert target.read_bytes() == b"new" and not source.exists()
    with pytest.raises(OSError) as raised:
        quickio.rename(str(source), str(target))
    assert raised.value.errno == errno.ENOENT


def test_a_slow_call_pauses_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A network or overloaded file system: holding the GIL through its calls would stall every thread.
    monkeypatch.setattr(quickio, "SLOW", 0.0)
    monkeypatch.setattr(quickio, "_paused_until", 0.0)
    quickio.write_new(str(tmp_path / "slow"), b"data")
    assert not quickio.available()
    monkeypatch.setattr(quickio, "_paused_until", 0.0)
    assert quickio.available()
