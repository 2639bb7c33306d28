"""Tests for yizhan.store.blobs: content-addressed, durable, deduplicated blobs on a real file system."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from yizhan.store.blobs import BlobStore, mark_top_directory
from yizhan.util import quickio


@pytest.fixture
def store(tmp_path: Path) -> Iterator[BlobStore]:
    root = tmp_path / "blobs"
    root.mkdir()
    blobs = BlobStore(root)
    yield blobs
    blobs.close()


@pytest.mark.parametrize("count", [1, 5, 40])  # 40: the bulk path with file-system syncs
def test_put_many_names_and_stores_every_blob(store: BlobStore, count: int) -> None:
    items = [f"message {i}\r\n".encode() * (i + 1) for i in range(count)]
    names = store.put_many(items)
    assert names == [hashlib.sha256(data).hexdigest() for data in items]
    for name, data in zip(names, items, strict=True):
        assert store.path(name) == store.root / name[:2] / name
        assert store.read(name) == data
        assert store.verify(name)
    # No temporary file is left behind, and every blob is listed.
    assert not any(p.name.startswith(".tmp-") for p in store.root.rglob("*"))
    assert sorted(store.names()) == sorted(set(names))


def test_identical_bytes_are_stored_once(store: BlobStore) -> None:
    data = b"Subject: same\r\n\r\nsame body\r\n"
    first = store.put_many([data] * 40)
    again = store.put(data)
    assert set(first) == {again}
    assert list(store.names()) == [again]
    assert os.listdir(store.path(again).parent) == [again]


def test_put_after_remove_writes_the_blob_again(store: BlobStore) -> None:
    # The store remembers which subdirectories exist; removing a blob must not confuse it.
    name = store.put(b"one")
    store.remove(name)
    assert not store.exists(name)
    assert store.put(b"one") == name
    assert store.read(name) == b"one"


def test_blob_root_is_marked_top_directory(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    root.mkdir()
    if not mark_top_directory(root):
        pytest.skip("the file system has no top-directory flag (not ext2/3/4)")
    listed = subprocess.run(["lsattr", "-d", str(root)], capture_output=True, text=True, check=False)
    if listed.returncode != 0:
        pytest.skip("lsattr is not available")
    # lsattr shows the flag as "T" among the attribute letters.
    assert "T" in listed.stdout.split()[0]


def test_mark_top_directory_refuses_what_it_cannot_mark(tmp_path: Path) -> None:
    assert not mark_top_directory(tmp_path / "missing")
    plain = tmp_path / "file"
    plain.write_bytes(b"x")
    assert not mark_top_directory(plain)


def test_missing_root_is_created(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "not" / "yet")
    try:
        name = blobs.put(b"first")
        assert blobs.read(name) == b"first"
    finally:
        blobs.close()


def sibling(data: bytes) -> bytes:
    """Other bytes whose blob lands in the same subdirectory as `data`'s."""
    prefix = hashlib.sha256(data).hexdigest()[:2]
    return next(other for n in range(100_000)
                if hashlib.sha256(other := data + b"%d" % n).hexdigest()[:2] == prefix)


@pytest.mark.parametrize("paused", [False, True])
def test_deferred_blobs_small_and_large_are_stored_alike(store: BlobStore, paused: bool,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # Small blobs are written with calls that keep the GIL (util/quickio.py) once their subdirectory exists, large
    # ones and any while that fast path is paused with the standard calls: the result on disk is the same.
    monkeypatch.setattr(quickio, "_paused_until", float("inf") if paused else 0.0)
    quick: list[int] = []
    real_write = quickio.write_new

    def observed(path: str, data: bytes) -> None:
        quick.append(len(data))
        real_write(path, data)

    monkeypatch.setattr(quickio, "write_new", observed)
    items = [b"Subject: sizes\r\n\r\n" + bytes([n]) * size
             for n, size in enumerate([10, 2047, 10_240, quickio.SMALL - 100, 200_000])]
    # The first blob of a subdirectory creates it, on the standard path.
    for data in items:
        store.put(sibling(data), defer=True)
    assert quick == []
    names = [store.put(data, defer=True) for data in items]
    assert quick == ([] if paused else [len(data) for data in items if len(data) <= quickio.SMALL])
    assert names == [hashlib.sha256(data).hexdigest() for data in items]
    assert not any(store.exists(name) for name in names)
    store.sync_pending()
    assert [store.read(name) for name in names] == items
    assert all(store.verify(name) for name in names)
    assert not any(p.name.startswith(".tmp-") for p in store.root.rglob("*"))
    # Present already: nothing is written again.
    quick.clear()
    assert store.put(items[0], defer=True) == names[0]
    assert quick == [] and not any(p.name.startswith(".tmp-") for p in store.root.rglob("*"))
