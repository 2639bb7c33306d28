"""Content-addressed, immutable message blobs: DATA/blobs/<first two hex digits>/<sha256>.

Invariants:
- A blob's name is the SHA-256 of its bytes; the bytes under a name never change.
- A blob is visible under its name only after its bytes are fsynced (written to a temporary file, fsynced,
  renamed, directory fsynced), so a crash never leaves a short or empty blob under a real name.
- Identical bytes are stored once, whoever receives them.
- Blobs are written before the SQL rows that point at them; a crash in between leaves an unreferenced blob,
  which `yizhan check --repair` removes, never a row without its blob.
The methods here block; the async wrappers run them in threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from yizhan.util.durable import can_sync_filesystem, fsync_directory, sync_filesystem, write_temporary

# Several fsyncs in flight at once let the file system's journal commit them together.
_SYNC_THREADS = 16
# From this many blobs at once, one file-system sync costs less than an fsync per file.
_BULK = 32


def blob_name(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """The blob directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._pool = ThreadPoolExecutor(max_workers=_SYNC_THREADS, thread_name_prefix="blob-sync")

    def path(self, name: str) -> Path:
        return self.root / name[:2] / name

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def read(self, name: str) -> bytes:
        with open(self.path(name), "rb") as f:
            return f.read()

    def _stage(self, data: bytes, sync: bool = True) -> tuple[str, Path | None]:
        """Write a temporary file for `data` (fsynced if `sync`) unless the blob already exists."""
        name = blob_name(data)
        target = self.path(name)
        if target.exists():
            return name, None
        target.parent.mkdir(parents=True, exist_ok=True)
        return name, write_temporary(target.parent, name, data, sync)

    def put_many(self, items: Iterable[bytes]) -> list[str]:
        """Store several blobs durably; returns their names in order. Blocks until all are durable.

        A large batch is made durable with two file-system syncs (after writing, after renaming) rather than
        two fsyncs per blob; the order is the same: bytes durable before the name, names before returning.
        """
        batch = list(items)
        bulk = len(batch) >= _BULK and can_sync_filesystem()
        if bulk:
            staged = [self._stage(data, sync=False) for data in batch]
            sync_filesystem(self.root)
        else:
            staged = list(self._pool.map(self._stage, batch))
        directories = []
        for name, tmp in staged:
            if tmp is not None:
                target = self.path(name)
                os.replace(tmp, target)
                directories.append(target.parent)
        if bulk:
            sync_filesystem(self.root)
        else:
            # Each directory fsync makes its renames durable; in parallel, the journal commits them together.
            list(self._pool.map(fsync_directory, set(directories)))
        return [name for name, _ in staged]

    def put(self, data: bytes) -> str:
        return self.put_many([data])[0]

    async def aput(self, data: bytes) -> str:
        return await asyncio.to_thread(self.put, data)

    async def aput_many(self, items: list[bytes]) -> list[str]:
        return await asyncio.to_thread(self.put_many, items)

    async def aread(self, name: str) -> bytes:
        return await asyncio.to_thread(self.read, name)

    def names(self) -> Iterator[str]:
        """Every blob name on disk (for integrity checks)."""
        if not self.root.exists():
            return
        for sub in sorted(self.root.iterdir()):
            if sub.is_dir() and len(sub.name) == 2:
                for entry in os.scandir(sub):
                    if not entry.name.startswith(".tmp-"):
                        yield entry.name

    def stale_temporaries(self, older_than: float) -> list[Path]:
        """Temporary files left by writes a crash interrupted, older than `older_than` (epoch seconds)."""
        if not self.root.exists():
            return []
        found = []
        for sub in self.root.iterdir():
            if sub.is_dir():
                for entry in os.scandir(sub):
                    if entry.name.startswith(".tmp-") and entry.stat().st_mtime < older_than:
                        found.append(Path(entry.path))
        return found

    def verify(self, name: str) -> bool:
        """True when the blob exists and its bytes hash to its name."""
        try:
            digest = hashlib.sha256()
            with open(self.path(name), "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError:
            return False
        return digest.hexdigest() == name

    def remove(self, name: str) -> None:
        try:
            os.unlink(self.path(name))
        except FileNotFoundError:
            pass

    def close(self) -> None:
        self._pool.shutdown(wait=True)
