"""The directory (domains, accounts, aliases, inboxes) held in memory for the hot path of mail: RCPT checks,
recipient resolution and filing, without SQL round trips per recipient.

`DirectoryCache.get()` returns a `DirectorySnapshot` (store/directory.py) that is never stale by more than `max_age`
seconds for changes made by other processes (the CLI), and never stale at all for changes made by this process:
- this process's writes go through `store.directory`, whose `changes` counter tells the cache to reload;
- another process's writes bump the `directory_version` row in their transaction; the cache reads that one row
  at most every `max_age` seconds, and reloads the whole directory (one read transaction) when it moved;
- `get(fresh=True)` checks the version whatever its age: callers use it before giving a negative answer (an
  unknown recipient, a domain not hosted), so an account or domain just added by the CLI is found at once.
Concurrent callers share one check: a caller waits for a check that began after it asked, never reuses an older one.

`expand` is the pure recipient rule on a snapshot: aliases followed up to `MAX_ALIAS_DEPTH` deep, loops ignored,
the catch-all "@domain" only for an address that is neither an account nor an alias, disabled accounts receive
nothing, alias targets of domains not hosted here are forwards (mail leaves for them).

Invariants: snapshots are immutable (a reload builds a new one); account usage (`used_bytes`) in a snapshot is only
as fresh as the snapshot: quota decisions read it with `store.directory.usage`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from yizhan.store.directory import Directory, DirectorySnapshot
from yizhan.store.records import AccountRecord

MAX_ALIAS_DEPTH = 5
# How old a check of the directory version may be before the next use checks again (seconds).
DEFAULT_MAX_AGE = 0.25


class DirectoryCache:
    def __init__(self, directory: Directory, max_age: float = DEFAULT_MAX_AGE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.directory = directory
        self.max_age = max_age
        self.clock = clock
        self._snapshot: DirectorySnapshot | None = None
        self._changes = -1  # `directory.changes` when the snapshot was read
        self._checked = float("-inf")  # when the last completed check began (clock)
        self._begun = 0  # checks begun so far
        self._completed = 0  # the number (1, 2, ...) of the last completed check
        self._lock = asyncio.Lock()
        self.reloads = 0

    def _usable(self, ticket: int | None) -> DirectorySnapshot | None:
        """The snapshot when no check is needed: none of our own writes since it, and checked recently enough
        (for a fresh answer: by a check begun after the caller asked, i.e. numbered above `ticket`)."""
        snapshot = self._snapshot
        if snapshot is None or self._changes != self.directory.changes:
            return None
        if ticket is not None:
            return snapshot if self._completed > ticket else None
        return snapshot if self.clock() - self._checked < self.max_age else None

    async def get(self, *, fresh: bool = False) -> DirectorySnapshot:
        ticket = self._begun if fresh else None
        snapshot = self._usable(ticket)
        if snapshot is not None:
            return snapshot
        async with self._lock:
            snapshot = self._usable(ticket)
            if snapshot is not None:
                return snapshot
            self._begun += 1
            number = self._begun
            changes = self.directory.changes
            began = self.clock()
            current = self._snapshot
            if current is None or changes != self._changes or await self.directory.version() != current.version:
                current = await self.directory.snapshot()
                self.reloads += 1
            self._snapshot, self._changes, self._checked, self._completed = current, changes, began, number
            return current


def expand(snapshot: DirectorySnapshot, address: str) -> tuple[list[AccountRecord], list[str]]:
    """The local accounts and outside addresses mail for the normalised `address` goes to (both empty: unknown)."""
    accounts: dict[int, AccountRecord] = {}
    forwards: list[str] = []
    seen = {address}
    frontier = [address]
    for depth in range(MAX_ALIAS_DEPTH + 1):
        if not frontier:
            break
        next_frontier = []
        for item in frontier:
            account = snapshot.accounts.get(item)
            if account is not None:
                if not account.disabled:
                    accounts[account.id] = account
                continue
            domain = item.rsplit("@", 1)[1]
            targets = snapshot.aliases.get(item)
            if targets is None and depth == 0:
                targets = snapshot.aliases.get("@" + domain)
            if targets is None and depth > 0 and domain not in snapshot.domains:
                # An alias target that is neither an account nor an alias: mail leaves for it when its domain is
                # not ours, and is dropped (unknown) when it is.
                forwards.append(item)
            for target in targets or ():
                if target not in seen:
                    seen.add(target)
                    next_frontier.append(target)
        frontier = next_frontier
    return list(accounts.values()), forwards
