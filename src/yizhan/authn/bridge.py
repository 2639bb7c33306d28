"""Blocking DNS lookups for the libraries that only know blocking calls (pyspf, dkimpy), routed to our `Resolver`.

pyspf and dkimpy run in a worker thread (they are blocking and CPU-bound); when they need DNS, `BlockingLookups`
submits the lookup to the event loop that owns the `Resolver` and waits for it, so every lookup goes to the
configured name servers (`dns.nameservers`) with the resolver's timeout. It must never be called on the loop's own
thread (it would deadlock): only from inside `asyncio.to_thread`.

Invariants: a lookup returns the resolver's answer or raises `TemporaryFailure`; a whole evaluation makes at most
`max_lookups` lookups and stops at `deadline` seconds (both then raise `TemporaryFailure`), so a hostile record
cannot keep a thread busy. The checks run in their own small thread pool (`run_blocking`), apart from the default
executor the store's fsyncs use.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from yizhan.dns.resolver import Resolver
from yizhan.util.errors import TemporaryFailure
from yizhan.util.threads import name_this_thread

T = TypeVar("T")

# The checks wait on DNS for seconds at a time: they get their own threads, so they never hold up the default
# executor's threads, which the store uses for fsync (acknowledging mail must not wait behind a slow DNS server).
_EXECUTOR = ThreadPoolExecutor(max_workers=8, thread_name_prefix="authn", initializer=name_this_thread)


async def run_blocking(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking check (pyspf, dkimpy) in the authentication threads."""
    return await asyncio.get_running_loop().run_in_executor(_EXECUTOR, functools.partial(function, *args))


class BlockingLookups:
    def __init__(self, resolver: Resolver, loop: asyncio.AbstractEventLoop, deadline: float = 20.0,
                 max_lookups: int = 40) -> None:
        self.resolver = resolver
        self.loop = loop
        self.expires = time.monotonic() + deadline
        self.remaining = max_lookups
        # The shortest time any answer given so far may be kept: how long a conclusion drawn from them holds.
        self.min_ttl: float = float("inf")

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        left = self.expires - time.monotonic()
        if left <= 0 or self.remaining <= 0:
            coroutine.close()
            raise TemporaryFailure("DNS lookups took too long or too many")
        self.remaining -= 1
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout=left)
        except TimeoutError as exc:
            future.cancel()
            raise TemporaryFailure("DNS lookups took too long") from exc

    def query(self, name: str, rtype: str) -> list[Any]:
        """Raw dnspython rdata of `rtype` at `name`."""
        records, ttl = self._run(self.resolver.query_with_ttl(name, rtype))
        self.min_ttl = min(self.min_ttl, ttl)
        return records

    def txt(self, name: str) -> list[str]:
        return [b"".join(r.strings).decode("utf-8", "replace") for r in self.query(name, "TXT")]
