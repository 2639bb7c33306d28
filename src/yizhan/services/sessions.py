"""Open protocol sessions per account, so that one account cannot hold an unbounded number of connections.

Every front end that logs an account in takes a slot (`acquire`) and gives it back when the session ends
(`release`); the count is per protocol and per account, across all listeners of this process and, with several
worker processes, across all workers (their counts come over the mesh, util/mesh.py `SharedCounts`). Invariants:
a count is never negative, and an account with no open session has no entry (the table stays as small as the
logged-in set). Across workers the limit can be passed by at most one session per other worker, when logins race.
"""

from __future__ import annotations

from yizhan.util.mesh import Peers, SharedCounts


class SessionRegistry:
    def __init__(self, peers: Peers | None = None) -> None:
        # Keys are (protocol, account id).
        self._counts = SharedCounts(peers if peers is not None else Peers(), "sessions")

    def acquire(self, protocol: str, account_id: int, limit: int) -> bool:
        """Take a slot when fewer than `limit` sessions of `protocol` are open for the account."""
        key = (protocol, account_id)
        if self._counts.count(key) >= limit:
            return False
        self._counts.changed(key, 1)
        return True

    def release(self, protocol: str, account_id: int) -> None:
        self._counts.changed((protocol, account_id), -1)

    def count(self, protocol: str, account_id: int) -> int:
        return self._counts.count((protocol, account_id))
