"""Content-addressed, immutable message blobs: DATA/blobs/<first two hex digits>/<sha256>.

Invariants:
- A blob's name is the SHA-256 of its bytes; the bytes under a name never change.
- A blob is visible under its name only after its bytes are fsynced (written to a temporary file, fsynced,
  renamed, directory fsynced), so a crash never leaves a short or empty blob under a real name.
- With `defer=True` (deliveries and APPEND) the bytes are written under a temporary name and everything else
  waits for the commit barrier: the store calls `sync_pending` before every database COMMIT (store/db.py), which
  fsyncs the files, renames them and fsyncs their directories (for several files: one syncfs of the file system
  before the renames and one after), so a row that names a blob never becomes durable before the blob. A group
  commit's messages share those flushes instead of paying three each, and the writer runs the barrier while its
  SQL runs. A blob found already present is queued too: its name may still be waiting for
  another writer's barrier. Until its barrier, a deferred blob cannot be read by name (nothing names it yet).
- Identical bytes are stored once, whoever receives them.
- Blobs are written before the SQL rows that point at them; a crash in between leaves an unreferenced blob,
  which `yizhan check --repair` removes, never a row without its blob.
The methods here block; the async wrappers run them in threads. A small deferred blob (a delivery, an APPEND) is
hashed and written, and the barrier's renames made, with calls that keep the GIL (util/quickio.py): on the
delivery path the wait to win the GIL back after each call cost more than the calls.

On ext2/3/4 the blob root is marked as the top of a directory hierarchy (the `T` attribute, FS_TOPDIR_FL), so the
file system spreads the 256 subdirectories over block groups of their own (the Orlov allocator) instead of packing
them beside the data directory. Creating a file then finds a free inode at once: in a crowded group, and above all
on ext4 without a journal, each creation scans past every inode deleted in the last minutes (measured here: 0.9 ms
of CPU per blob instead of 0.06 ms, the largest single cost of an import).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import itertools
import logging
import os
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from yizhan.util import quickio
from yizhan.util.durable import can_sync_filesystem, fsync_directory, fsync_path, sync_filesystem
from yizhan.util.threads import name_this_thread

log = logging.getLogger(__name__)

# Several fsyncs in flight at once let the file system's journal commit them together.
_SYNC_THREADS = 16
# From this many blobs at once, one file-system sync costs less than an fsync per file.
_BULK = 32
# A commit barrier with this many files or more publishes them with two syncfs(2) calls on its own thread instead
# of an fsync per file and per directory handed to the pool. Measured with bench/smtp.py (10 connections, groups
# of about 4 messages): 475-489 messages/s against 447-459, and 10% less CPU per message; the hand-offs to the
# pool's threads, each waiting for the GIL, cost more than the flushes.
_SYNCFS_FROM = 2
# _SLOW_SYNCFS_RUN barriers in a row whose syncfs took longer than _SLOW_SYNCFS (other programs' writes on the same
# file system, not one slow flush) pause its use for _SYNCFS_PAUSE seconds.
_SLOW_SYNCFS = 0.05
_SLOW_SYNCFS_RUN = 3
_SYNCFS_PAUSE = 60.0


# linux/fs.h: FS_IOC_GETFLAGS, FS_IOC_SETFLAGS (declared with a long, but the kernel reads and writes an int) and
# FS_TOPDIR_FL ("T" in chattr).
_FS_IOC_GETFLAGS = 0x80086601
_FS_IOC_SETFLAGS = 0x40086602
_FS_TOPDIR_FL = 0x00020000


def blob_name(data: bytes) -> str:
    """The SHA-256 of `data` in hex; for small data computed without giving up the GIL (util/quickio.py)."""
    return quickio.sha256_hex(data) if len(data) <= quickio.SMALL else hashlib.sha256(data).hexdigest()


def mark_top_directory(path: Path) -> bool:
    """Set the ext2/3/4 "top of directory hierarchy" flag on `path`; False where the file system has no such flag.

    Only a placement hint for subdirectories created later: it never changes what is stored.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return False
    try:
        buffer = bytearray(4)
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, buffer)
        flags = struct.unpack("i", buffer)[0]
        if not flags & _FS_TOPDIR_FL:
            fcntl.ioctl(fd, _FS_IOC_SETFLAGS, struct.pack("i", flags | _FS_TOPDIR_FL))
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


class BlobStore:
    """The blob directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        if root.is_dir():
            mark_top_directory(root)
        self._root = str(root)
        self._directories: set[str] = set()
        # Temporary names are unique per process (pid) and per write (this counter), created with O_EXCL.
        self._serial = itertools.count()
        self._pool = ThreadPoolExecutor(max_workers=_SYNC_THREADS, thread_name_prefix="blob-sync",
                                        initializer=name_this_thread)
        # Deferred writes (`put(defer=True)`) waiting for the barrier: (temporary path, final path, directory),
        # and directories whose entries still need an fsync. `_sync_lock` is held while a barrier runs.
        self._waiting: list[tuple[str, str, str]] = []
        self._unsynced: set[str] = set()
        self._pending_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        # When a slow syncfs paused its use (`_publish_by_syncfs`), the monotonic time it may be used again.
        self._syncfs_resumes = 0.0
        # How many barriers in a row found syncfs slow.
        self._slow_syncfs = 0

    def path(self, name: str) -> Path:
        return self.root / name[:2] / name

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def read(self, name: str) -> bytes:
        with open(f"{self._root}/{name[:2]}/{name}", "rb") as f:
            return f.read()

    def _stage(self, data: bytes, sync: bool = True) -> tuple[str, str | None]:
        """Write a temporary file for `data` (fsynced if `sync`) unless the blob already exists.

        Plain string paths and a set of the subdirectories known to exist: at thousands of blobs a second, Path
        objects and a mkdir per blob cost more than the write. Small unsynced data in a subdirectory known to exist
        is checked and written with calls that keep the GIL (util/quickio.py).
        """
        name = blob_name(data)
        directory = f"{self._root}/{name[:2]}"
        quick = (not sync and len(data) <= quickio.SMALL and directory in self._directories
                 and quickio.available())
        if (quickio.exists if quick else os.path.exists)(f"{directory}/{name}"):
            return name, None
        tmp = f"{directory}/.tmp-{name}-{os.getpid()}-{next(self._serial)}"
        if quick:
            quickio.write_new(tmp, data)
            return name, tmp
        if directory not in self._directories:
            try:
                if not os.path.isdir(self._root):
                    os.makedirs(self._root, exist_ok=True)
                    mark_top_directory(self.root)
                os.mkdir(directory)
            except FileExistsError:
                pass
            else:
                # The new subdirectory's own name must be durable too, before any blob inside it counts (in bulk,
                # without `sync`, the file-system sync that follows covers it).
                if sync:
                    fsync_directory(self.root)
            self._directories.add(directory)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        return name, tmp

    def put_many(self, items: Iterable[bytes], defer: bool = False) -> list[str]:
        """Store several blobs durably; returns their names in order. Blocks until all are durable.

        A large batch is made durable with two file-system syncs (after writing, after renaming) rather than
        two fsyncs per blob; the order is the same: bytes durable before the name, names before returning.
        With `defer`, the bytes are only written, under temporary names: `sync_pending` (the commit barrier)
        fsyncs, renames and publishes them before the rows that name them commit.
        """
        batch = list(items)
        if defer:
            return [self._stage_deferred(data) for data in batch]
        bulk = len(batch) >= _BULK and can_sync_filesystem()
        if bulk:
            staged = [self._stage(data, sync=False) for data in batch]
            sync_filesystem(self.root)
        elif len(batch) == 1:
            # One blob: written on this thread, no hand-off to the pool.
            staged = [self._stage(batch[0])]
        else:
            staged = list(self._pool.map(self._stage, batch))
        directories = set()
        for name, tmp in staged:
            if tmp is not None:
                directory = f"{self._root}/{name[:2]}"
                os.replace(tmp, f"{directory}/{name}")
                directories.add(directory)
        if bulk:
            sync_filesystem(self.root)
        else:
            # Each directory fsync makes its renames durable; in parallel, the journal commits them together.
            self._run(fsync_directory, [Path(d) for d in sorted(directories)])
        return [name for name, _ in staged]

    def put(self, data: bytes, defer: bool = False) -> str:
        return self.put_many([data], defer)[0]

    def _stage_deferred(self, data: bytes) -> str:
        """Write `data` under a temporary name, unsynced, and queue it for the next barrier."""
        before = len(self._directories)
        name, tmp = self._stage(data, sync=False)
        directory = f"{self._root}/{name[:2]}"
        with self._pending_lock:
            if tmp is None:
                # Already present: its name may still wait for another process's or writer's directory fsync.
                self._unsynced.add(directory)
            else:
                self._waiting.append((tmp, f"{directory}/{name}", directory))
            if len(self._directories) != before:
                self._unsynced.add(self._root)  # a new subdirectory's own name
        return name

    def has_pending(self) -> bool:
        """Whether a barrier has work: deferred blobs waiting, or a barrier running (which a concurrent
        transaction must wait for, since it may be publishing that transaction's blobs)."""
        return bool(self._waiting or self._unsynced) or self._sync_lock.locked()

    def sync_pending(self) -> None:
        """The commit barrier (blocking): make every deferred blob durable under its name.

        In order: the temporary files are fsynced (in parallel, so the journal commits them together), renamed
        to their names, and their directories fsynced; from `_SYNCFS_FROM` files, a syncfs of the file system
        replaces the fsyncs of files, and another those of directories. One barrier runs at a time; a barrier that
        fails puts what it took back, so the next one retries it, and raises (the caller's transaction must not
        commit).
        """
        with self._sync_lock:
            with self._pending_lock:
                waiting, self._waiting = self._waiting, []
                directories, self._unsynced = self._unsynced, set()
            try:
                if self._syncfs_usable(len(waiting)):
                    self._publish_by_syncfs(waiting, directories)
                else:
                    self._run(fsync_path, [tmp for tmp, _, _ in waiting])
                    for tmp, final, directory in waiting:
                        os.replace(tmp, final)
                        directories.add(directory)
                    self._run(fsync_directory, [Path(d) for d in sorted(directories)])
            except BaseException:
                with self._pending_lock:
                    self._waiting += [item for item in waiting if os.path.exists(item[0])]
                    self._unsynced |= directories
                raise

    def _syncfs_usable(self, files: int) -> bool:
        return files >= _SYNCFS_FROM and can_sync_filesystem() and time.monotonic() >= self._syncfs_resumes

    def _publish_by_syncfs(self, waiting: list[tuple[str, str, str]], directories: set[str]) -> None:
        """The barrier in two file-system syncs on this thread: one for the files' bytes, one for their names.

        syncfs(2) also flushes whatever else waits to be written on that file system, which other programs may
        have made large: after `_SLOW_SYNCFS_RUN` barriers in a row that took longer than `_SLOW_SYNCFS`, the
        barriers go back to fsyncs of their own files for `_SYNCFS_PAUSE` seconds.
        """
        started = time.monotonic()
        sync_filesystem(self.root)
        replace = quickio.rename if quickio.available() else os.replace
        for tmp, final, directory in waiting:
            replace(tmp, final)
            # Should the second sync fail, the barrier that retries must still fsync this directory.
            directories.add(directory)
        sync_filesystem(self.root)
        took = time.monotonic() - started
        self._slow_syncfs = self._slow_syncfs + 1 if took > _SLOW_SYNCFS else 0
        if self._slow_syncfs >= _SLOW_SYNCFS_RUN:
            self._slow_syncfs = 0
            self._syncfs_resumes = time.monotonic() + _SYNCFS_PAUSE
            log.info("blob barrier: syncfs took %.0f ms; fsyncing each file for the next %.0f s", took * 1000,
                     _SYNCFS_PAUSE)

    def _run(self, fn: Callable[[Any], None], items: list[Any]) -> None:
        """`fn` over `items`: on this thread for one, on the pool for more (fsyncs in flight together)."""
        if len(items) == 1:
            fn(items[0])
        elif items:
            list(self._pool.map(fn, items))

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
