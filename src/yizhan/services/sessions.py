"""Open protocol sessions per account, so that one account cannot hold an unbounded number of connections.

Every front end that logs an account in takes a slot (`acquire`) and gives it back when the session ends
(`release`); the count is per protocol and per account, across all listeners of this process. Invariants: a count is
never negative, and an account with no open session has no entry (the table stays as small as the logged-in set).
"""

from __future__ import annotations


class SessionRegistry:
    def __init__(self) -> None:
        self._open: dict[tuple[str, int], int] = {}

    def acquire(self, protocol: str, account_id: int, limit: int) -> bool:
        """Take a slot when fewer than `limit` sessions of `protocol` are open for the account."""
        key = (protocol, account_id)
        count = self._open.get(key, 0)
        if count >= limit:
            return False
        self._open[key] = count + 1
        return True

    def release(self, protocol: str, account_id: int) -> None:
        key = (protocol, account_id)
        count = self._open.get(key, 0) - 1
        if count > 0:
            self._open[key] = count
        else:
            self._open.pop(key, None)

    def count(self, protocol: str, account_id: int) -> int:
        return self._open.get((protocol, account_id), 0)
