"""Native names for the server's threads, so `top -H`, `ps -L` and /proc/PID/task/*/comm tell them apart.

Python names its threads only for itself; the operating system sees every thread under the process's name. Each
of our thread pools calls `name_this_thread` as the first thing a new thread does (a `ThreadPoolExecutor`
initializer, or the start of a worker loop), giving the OS thread the Python name cut to 15 bytes (Linux's limit).
Elsewhere, or if the call fails, nothing changes: a name is only a label.
"""

from __future__ import annotations

import ctypes
import sys
import threading

from yizhan.util.libc import libc

_PR_SET_NAME = 15
_libc = libc if sys.platform.startswith("linux") else None


def name_this_thread() -> None:
    """Give the calling OS thread its Python thread's name (Linux; a no-op elsewhere)."""
    if _libc is None:
        return
    name = threading.current_thread().name.encode("ascii", "replace")[:15]
    try:
        _libc.prctl(_PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)
    except (AttributeError, OSError):
        pass
