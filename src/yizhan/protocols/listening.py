"""What every protocol server is opened with, and the connection limits every listener applies.

`ListenerSpec` and `Endpoint` describe one listener (the app layer's table in app/listeners.py builds them; the
openers of protocols/smtp, pop3 and imap receive them). `ConnectionLimiter` counts the connections open on one
listener, in total and per client address; with several worker processes, the counts of the same listener in the
other workers come over the mesh (`counts`, a `SharedCounts` of util/mesh.py) and count too.

Invariants of `ConnectionLimiter`: `acquire` and `release` are paired by the caller (release exactly once, and only
for a connection that was counted); counts never go negative and an address with no connection left is forgotten,
so the table stays as small as the number of open connections. Single-threaded (the event loop). Across workers a
limit can be passed by at most one connection per other worker, when connections race.
"""

from __future__ import annotations

import ssl
import sys
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
    # Open connections by client address, this process's and (`for_listener`) the other workers'.
    counts: SharedCounts = field(default_factory=lambda: SharedCounts(Peers(), "connections"))

    @classmethod
    def for_listener(cls, peers: Peers, listener: str, max_per_ip: int,
                     max_total: int = sys.maxsize) -> ConnectionLimiter:
        """The limiter of listener `listener`, counting its connections in every worker."""
        return cls(max_per_ip, max_total, SharedCounts(peers, f"connections:{listener}"))

    def acquire(self, client: str) -> Refusal | None:
        """Count a new connection from `client`; returns which limit refuses it (then it is not counted)."""
        if self.counts.total() >= self.max_total:
            return "total"
        if self.counts.count(client) >= self.max_per_ip:
            return "address"
        self.counts.changed(client, 1)
        return None

    def release(self, client: str) -> None:
        self.counts.changed(client, -1)
