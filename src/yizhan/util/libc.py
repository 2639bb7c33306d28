"""The C library, for the few system calls Python's standard library lacks (syncfs in util/durable.py, prctl in
util/threads.py). `libc` is None where it cannot be loaded; callers then do without."""

from __future__ import annotations

import ctypes
import ctypes.util

try:
    libc: ctypes.CDLL | None = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
except OSError:
    libc = None
