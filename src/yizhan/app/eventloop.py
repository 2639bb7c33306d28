"""The event loop `yizhan serve` runs on: uvloop when it is installed (the default), else asyncio's own.

uvloop runs the same asyncio code (streams, protocols, TLS, signals) with its transports and scheduler in C; the
IMAP bench serves about 15% more commands per second on it. `server.event_loop` chooses: "auto" takes uvloop when
it can be imported, "uvloop" insists on it (a clear start-up error if it is missing), "asyncio" never uses it.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable

from yizhan.util.errors import YizhanError

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
