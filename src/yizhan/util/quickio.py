"""Small file-system calls that keep the GIL, for threads on the delivery path.

A thread that gives up the GIL around a system call must win it back afterwards, and in a busy server that wait is
longer than the call: measured during bench/smtp.py, a thread woken from a 2 ms sleep waited 0.3 ms for the GIL at
the median and 1.5 ms at the 90th percentile, while creating a 10 KB file in the page cache takes microseconds. Each
message paid that wait at every call its blob took (stat, open, write, close, the SHA-256 of more than 2 KB). These
functions make the same calls through `ctypes.PyDLL`, which keeps the GIL, and hash in pieces below the size from
which hashlib lets it go.

Invariants:
- Only for small data (`SMALL` bytes at most) on a local file system: a call holding the GIL stops every other
  thread. A call slower than `SLOW` (a network or overloaded file system) turns the fast path off for
  `PAUSE` seconds, and `available()` says whether to use it; callers then use the standard calls.
- Failures raise OSError with the errno, as the `os` functions do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import os
import time

# The largest data these functions are for.
SMALL = 64 * 1024
# A call slower than this pauses the fast path for PAUSE seconds.
SLOW = 0.002
PAUSE = 60.0
# hashlib releases the GIL for updates of 2048 bytes or more.
_HASH_PIECE = 2047


def _load() -> ctypes.PyDLL | None:
    try:
        libc = ctypes.PyDLL(ctypes.util.find_library("c") or None, use_errno=True)
        for name, argtypes, restype in (
                ("open", [ctypes.c_char_p, ctypes.c_int, ctypes.c_int], ctypes.c_int),
                ("write", [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t], ctypes.c_ssize_t),
                ("close", [ctypes.c_int], ctypes.c_int),
                ("access", [ctypes.c_char_p, ctypes.c_int], ctypes.c_int),
                ("rename", [ctypes.c_char_p, ctypes.c_char_p], ctypes.c_int)):
            function = getattr(libc, name)
            function.argtypes = argtypes
            function.restype = restype
    except (OSError, AttributeError):
        return None
    return libc


_libc = _load()
_paused_until = 0.0


def available() -> bool:
    """Whether the calls that keep the GIL may be used now."""
    return _libc is not None and time.monotonic() >= _paused_until


def _timed(started: float) -> None:
    global _paused_until
    took = time.monotonic() - started
    if took > SLOW:
        _paused_until = time.monotonic() + PAUSE


def _raise(path: str) -> None:
    number = ctypes.get_errno()
    raise OSError(number, os.strerror(number), path)


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of `data` in hex, computed without giving up the GIL (for `SMALL` data)."""
    if len(data) < _HASH_PIECE:
        return hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    view = memoryview(data)
    for start in range(0, len(data), _HASH_PIECE):
        digest.update(view[start:start + _HASH_PIECE])
    return digest.hexdigest()


def exists(path: str) -> bool:
    """Whether `path` exists (access(2) F_OK)."""
    assert _libc is not None
    started = time.monotonic()
    found = _libc.access(os.fsencode(path), os.F_OK) == 0
    _timed(started)
    return found


def write_new(path: str, data: bytes) -> None:
    """Create `path` (it must not exist: O_EXCL) holding `data`, not synced."""
    assert _libc is not None
    started = time.monotonic()
    encoded = os.fsencode(path)
    while (fd := _libc.open(encoded, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)) < 0:
        if ctypes.get_errno() != errno.EINTR:
            _raise(path)
    try:
        buffer = ctypes.c_char_p(data)
        address = ctypes.cast(buffer, ctypes.c_void_p).value or 0
        done = 0
        while done < len(data):
            written = _libc.write(fd, address + done, len(data) - done)
            if written < 0:
                if ctypes.get_errno() == errno.EINTR:
                    continue
                _raise(path)
            done += written
    finally:
        if _libc.close(fd) != 0 and ctypes.get_errno() != errno.EINTR:
            _raise(path)
    _timed(started)


def rename(source: str, target: str) -> None:
    """rename(2): replace `target` with `source` atomically."""
    assert _libc is not None
    started = time.monotonic()
    if _libc.rename(os.fsencode(source), os.fsencode(target)) != 0:
        _raise(source)
    _timed(started)

