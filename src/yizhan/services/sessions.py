"""Open protocol sessions per account, so that one account cannot hold an unbounded number of connections.

Every front end that logs an account in takes a slot (`acquire`) and gives it back when the session ends
(`release`); the count is per protocol and per account, across all listeners of this process and, with several
worker processes, across all workers (their counts come over the mesh, util/mesh.py `SharedCounts`). Invariants:
a count is never negative, and an account with no open session has no entry (the table stays as small as the
logged-in set). Across workers the limit can be passed by at most one session per other worker, when logins race.
"""

from __future__ import annotations

from collections.abc import Hashable

from yizhan.util.mesh import Peers, SharedCounts


class SessionRegistry:
    def __init__(self, peers: Peers | None = None) -> None:
        self._open: dict[tuple[str, int], int] = {}
        self._others = SharedCounts(peers if peers is not None else Peers(), "sessions", self._table)

    def _table(self) -> dict[Hashable, int]:
        return dict(self._open)

    def acquire(self, protocol: str, account_id: int, limit: int) -> bool:
        """Take a slot when fewer than `limit` sessions of `protocol` are open for the account."""
        key = (protocol, account_id)
        count = self._open.get(key, 0)
        if count + self._others.others(key) >= limit:
            return False
        self._open[key] = count + 1
        self._others.changed(key, 1)
        return True

    def release(self, protocol: str, account_id: int) -> None:
        key = (protocol, account_id)
        if key not in self._open:
            return
        count = self._open[key] - 1
        if count > 0:
            self._open[key] = count
        else:
            del self._open[key]
        self._others.changed(key, -1)

    def count(self, protocol: str, account_id: int) -> int:
        key = (protocol, account_id)
        return self._open.get(key, 0) + self._others.others(key)
