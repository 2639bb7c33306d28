"""Threads that run blocking functions for the event loop, with a leaner hand-off than `run_in_executor`.

`run_in_executor` (and `asyncio.to_thread`) chain a concurrent.futures.Future to an asyncio one: locks, callbacks
and a copy of the context on every call. `WorkerThreads.run` puts the function on a SimpleQueue; a thread runs it
and settles the caller's asyncio future with one `call_soon_threadsafe`. The store's database threads and the
parsing of new messages (services/prepare.py) use it: both run on every delivery.

Invariants: a function runs on a thread, never on the loop; its exception reaches the awaiting caller; a caller
that was cancelled meanwhile is left alone; after `shutdown` the threads are gone.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from yizhan.util.threads import name_this_thread

T = TypeVar("T")


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return  # The caller was cancelled meanwhile.
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class WorkerThreads:
    """`count` threads named `name`-N that run the functions given to `run` (see the module docstring)."""

    def __init__(self, count: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.AbstractEventLoop, asyncio.Future[Any]] | None]
        self._jobs = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(count)]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        name_this_thread()
        while (job := self._jobs.get()) is not None:
            fn, loop, future = job
            try:
                outcome: tuple[bool, Any] = (True, fn())
            except BaseException as exc:
                outcome = (False, exc)
            try:
                loop.call_soon_threadsafe(_settle, future, *outcome)
            except RuntimeError:
                pass  # The loop is closed: nobody waits any more.

    def run(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, loop, future))
        return future

    def shutdown(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
