"""What every protocol server is opened with, and the connection limits every listener applies.

`ListenerSpec` and `Endpoint` describe one listener (the app layer's table in app/listeners.py builds them; the
openers of protocols/smtp, pop3 and imap receive them). `ConnectionLimiter` counts the connections open on one
listener, in total and per client address; with several worker processes, the counts of the same listener in the
other workers come over the mesh (`shared`, util/mesh.py) and count too.

Invariants of `ConnectionLimiter`: `acquire` and `release` are paired by the caller (release exactly once, and only
for a connection that was counted); counts never go negative and an address with no connection left is forgotten,
so the table stays as small as the number of open connections. Single-threaded (the event loop). Across workers a
limit can be passed by at most one connection per other worker, when connections race.
"""

from __future__ import annotations

import ssl
import sys
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Literal

from yizhan.util.mesh import Peers, SharedCounts


@dataclass(frozen=True)
class ListenerSpec:
    name: str
    kind: str
    tls: str  # "none", "starttls" or "implicit"
    description: str


@dataclass(frozen=True)
class Endpoint:
    """Where and how one listener binds. `tls` is always the server's context: STARTTLS listeners need it too."""

    spec: ListenerSpec
    host: str
    port: int
    tls: ssl.SSLContext
    # Several worker processes listen on the same port (SO_REUSEPORT); the kernel spreads connections among them.
    reuse_port: bool = False


Refusal = Literal["total", "address"]


@dataclass
class ConnectionLimiter:
    max_per_ip: int
    max_total: int = sys.maxsize
    total: int = 0
    per_ip: dict[str, int] = field(default_factory=dict)
    # The other workers' connections on this listener (None: this process is the only one).
    shared: SharedCounts | None = None

    @classmethod
    def for_listener(cls, peers: Peers, listener: str, max_per_ip: int,
                     max_total: int = sys.maxsize) -> ConnectionLimiter:
        limiter = cls(max_per_ip, max_total)
        limiter.shared = SharedCounts(peers, f"connections:{listener}", limiter._table)
        return limiter

    def _table(self) -> dict[Hashable, int]:
        return {client: count for client, count in self.per_ip.items()}

    def acquire(self, client: str) -> Refusal | None:
        """Count a new connection from `client`; returns which limit refuses it (then it is not counted)."""
        shared = self.shared
        if self.total + (shared.others_total() if shared else 0) >= self.max_total:
            return "total"
        if self.per_ip.get(client, 0) + (shared.others(client) if shared else 0) >= self.max_per_ip:
            return "address"
        self.total += 1
        self.per_ip[client] = self.per_ip.get(client, 0) + 1
        if shared:
            shared.changed(client, 1)
        return None

    def release(self, client: str) -> None:
        self.total = max(0, self.total - 1)
        left = self.per_ip.get(client, 0) - 1
        if left > 0:
            self.per_ip[client] = left
        else:
            self.per_ip.pop(client, None)
        if self.shared:
            self.shared.changed(client, -1)
