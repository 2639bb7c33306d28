"""The event loop `yizhan serve` runs on: uvloop when it is installed (the default), else asyncio's own.

uvloop runs the same asyncio code (streams, protocols, TLS, signals) with its transports and scheduler in C; the
IMAP bench serves about 15% more commands per second on it. `server.event_loop` chooses: "auto" takes uvloop when
it can be imported, "uvloop" insists on it (a clear start-up error if it is missing), "asyncio" never uses it.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from yizhan.util.errors import YizhanError
from yizhan.util.threads import name_this_thread

log = logging.getLogger(__name__)

T = TypeVar("T")
LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(choice: str) -> tuple[str, LoopFactory]:
    """The loop's name and a factory for it, for `asyncio.Runner(loop_factory=...)`."""
    if choice == "asyncio":
        return "asyncio", asyncio.new_event_loop
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError as exc:
        if choice == "uvloop":
            raise YizhanError("server.event_loop is \"uvloop\" but uvloop is not installed "
                              "(pip install uvloop)") from exc
        return "asyncio", asyncio.new_event_loop
    factory: LoopFactory = uvloop.new_event_loop
    return "uvloop", factory


def run_server(choice: str, main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to the end on the loop `choice` names (the server's, a worker's)."""
    name, factory = loop_factory(choice)
    log.info("event loop: %s", name)
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def serving_loop() -> asyncio.Event:
    """Set up the running loop for a server process: asyncio's own threads (parsing, file reads) under a name
    `top -H` shows (util/threads.py), and SIGINT/SIGTERM setting the returned event, on which the server stops."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="asyncio", initializer=name_this_thread))
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
