"""Connection limits of one SMTP or LMTP listener: connections open at once, in total and per client address.

Invariants: `acquire` and `release` are paired by the session (release exactly once, also for a connection that
was refused — which never acquired); counts never go negative and a client address with no connection left is
forgotten, so the table stays as small as the number of open connections. Single-threaded (the event loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yizhan.protocols.smtp.replies import TOO_MANY_CONNECTIONS, TOO_MANY_FROM_IP


@dataclass
class ConnectionLimiter:
    max_total: int
    max_per_ip: int
    total: int = 0
    per_ip: dict[str, int] = field(default_factory=dict)

    def acquire(self, client: str) -> str | None:
        """Count a new connection from `client`; returns the refusal reply when it is over a limit (not counted)."""
        if self.total >= self.max_total:
            return TOO_MANY_CONNECTIONS
        if self.per_ip.get(client, 0) >= self.max_per_ip:
            return TOO_MANY_FROM_IP
        self.total += 1
        self.per_ip[client] = self.per_ip.get(client, 0) + 1
        return None

    def release(self, client: str) -> None:
        self.total = max(0, self.total - 1)
        left = self.per_ip.get(client, 0) - 1
        if left > 0:
            self.per_ip[client] = left
        else:
            self.per_ip.pop(client, None)
