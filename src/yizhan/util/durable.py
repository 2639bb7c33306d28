"""Durable file writes: write to a temporary file, fsync it, rename it into place, fsync the directory.

Invariant: once `write_durably` returns, the file survives a crash with exactly the bytes given, and a reader never
sees a partially written file under the final name. These calls block: run them in a thread from async code.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def fsync_directory(path: Path) -> None:
    """Make the directory entries of `path` (creations, renames) durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_temporary(directory: Path, name: str, data: bytes) -> Path:
    """Write `data` to a fresh temporary file in `directory` and fsync it; return its path."""
    tmp = directory / f".tmp-{name}-{os.getpid()}-{os.urandom(4).hex()}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return tmp


def write_durably(path: Path, data: bytes, mode: int = 0o640) -> None:
    """Atomically replace `path` with `data`, durably (tmp + fsync + rename + directory fsync)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_temporary(path.parent, path.name, data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    fsync_directory(path.parent)


def fsync_directories(paths: Iterable[Path]) -> None:
    """Fsync each distinct directory once."""
    for directory in sorted(set(paths)):
        fsync_directory(directory)
