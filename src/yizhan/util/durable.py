"""Durable file writes: write to a temporary file, fsync it, rename it into place, fsync the directory.

Invariant: once `write_durably` returns, the file survives a crash with exactly the bytes given, and a reader never
sees a partially written file under the final name. These calls block: run them in a thread from async code.
"""

from __future__ import annotations

import ctypes
import os
import platform
import re
from pathlib import Path

from yizhan.util.libc import libc


def _kernel_at_least(release: str, wanted: tuple[int, int]) -> bool:
    """Whether a Linux release string ("6.1.0-18-amd64") is at least `wanted` (major, minor)."""
    numbers = re.match(r"(\d+)\.(\d+)", release)
    return numbers is not None and (int(numbers[1]), int(numbers[2])) >= wanted


# syncfs(2) reports a failed write-back only since Linux 5.8; before, it returned 0 even after an I/O error, so it
# is used only where its answer can be trusted.
_syncfs = getattr(libc, "syncfs", None) if _kernel_at_least(platform.release(), (5, 8)) else None


def fsync_path(path: str | Path, flags: int = 0) -> None:
    """fsync the file (or, with O_DIRECTORY in `flags`, the directory) at `path`."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directory(path: Path) -> None:
    """Make the directory entries of `path` (creations, renames) durable."""
    fsync_path(path, getattr(os, "O_DIRECTORY", 0))


def write_temporary(directory: Path, name: str, data: bytes, sync: bool = True) -> Path:
    """Write `data` to a fresh temporary file in `directory`, fsynced unless `sync` is false; return its path."""
    tmp = directory / f".tmp-{name}-{os.getpid()}-{os.urandom(4).hex()}"
    with open(tmp, "wb") as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    return tmp


def can_sync_filesystem() -> bool:
    return _syncfs is not None


def sync_filesystem(path: Path) -> None:
    """Make everything written on the file system holding `path` durable (Linux syncfs(2)): one flush for a
    whole batch of files instead of one fsync each."""
    if _syncfs is None:
        raise OSError("syncfs is not available")
    fd = os.open(path, os.O_RDONLY)
    try:
        if _syncfs(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno))
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes, mode: int = 0o640) -> None:
    """Atomically replace `path` with `data`, durably (tmp + fsync + rename + directory fsync)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_temporary(path.parent, path.name, data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    fsync_directory(path.parent)

