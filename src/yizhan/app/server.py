"""The running server: services, TLS, and every listener, started and stopped together.

Start order: configuration validated → data directory, database (migrated), blobs → first domain and
administrator if the store is empty → TLS certificate → listeners. Stop: listeners close first (no new work),
then the store (pending group commits finish), so nothing acknowledged is lost on a clean stop.

A `Server` is the whole server in one process, or one worker of several (`WorkerRole`, app/supervisor.py): a
worker shares its listeners' ports with the other workers (SO_REUSEPORT), tells them its changes over the mesh,
and only worker 0 runs the outbound queue and the housekeeping, so each runs once. The supervisor prepared the
store, the first administrator and the certificate before any worker started.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

from yizhan.app.listeners import LISTENERS, Endpoint, Listener, ListenerSpec, open_listener
from yizhan.config.paths import DataPaths
from yizhan.config.settings import Settings
from yizhan.queue.runner import QueueRunner
from yizhan.services.runtime import Services
from yizhan.util.mesh import Peers
from yizhan.util.tls import ensure_self_signed, server_context

log = logging.getLogger(__name__)

# Seconds before the first housekeeping run, and between runs.
HOUSEKEEPING_FIRST = 60.0
HOUSEKEEPING_EVERY = 86400.0


@dataclass(frozen=True)
class Listening:
    spec: ListenerSpec
    host: str
    port: int
    state: str


@dataclass(frozen=True)
class WorkerRole:
    """This process is worker `index` of several; `peers` is its mesh to the others."""

    index: int
    peers: Peers

    @property
    def runs_singletons(self) -> bool:
        """Whether the queue runner and the housekeeping run here (worker 0 only)."""
        return self.index == 0


def tls_context(settings: Settings, paths: DataPaths) -> ssl.SSLContext:
    """The listeners' TLS context: the configured certificate, else a self-signed one made at the first start."""
    if settings.tls.cert and settings.tls.key:
        cert, key = Path(settings.tls.cert), Path(settings.tls.key)
    else:
        cert, key = ensure_self_signed(paths.tls, settings.server.hostname)
    return server_context(cert, key)


class Server:
    def __init__(self, settings: Settings, paths: DataPaths, role: WorkerRole | None = None) -> None:
        self.settings = settings
        self.paths = paths
        self.role = role
        self.services: Services | None = None
        self.queue: QueueRunner | None = None
        self.listening: list[Listening] = []
        self.first_admin: tuple[str, str] | None = None
        self._servers: list[Listener] = []
        self._housekeeping: asyncio.Task[None] | None = None

    async def start(self) -> None:
        role = self.role
        self.services = await Services.open(self.settings, self.paths, role.peers if role else None)
        if role is None:
            self.first_admin = await self.services.bootstrap()
        tls = tls_context(self.settings, self.paths)
        host = self.settings.server.bind
        for spec in LISTENERS:
            port = getattr(self.settings.listen, spec.name)
            if port < 0:
                continue
            endpoint = Endpoint(spec, host, port, tls, reuse_port=role is not None)
            server, state = await open_listener(self.services, endpoint, self.bound_ports)
            self._servers.append(server)
            bound = server.sockets[0].getsockname()[1]
            self.listening.append(Listening(spec, host, bound, state))
        log.info("listening: %s", ", ".join(f"{item.spec.name}={item.port}" for item in self.listening))
        if role is not None and not role.runs_singletons:
            return
        # The outbound queue starts once the listeners are up, and delivers what an earlier run left queued.
        self.queue = QueueRunner(self.services)
        await self.queue.start()
        self._housekeeping = asyncio.create_task(self._keep_house(), name="housekeeping")

    async def _keep_house(self) -> None:
        """Daily chores: the delivery log keeps `retention_days` (a minute after start, then every day)."""
        await asyncio.sleep(HOUSEKEEPING_FIRST)
        while self.services is not None:
            try:
                removed = await self.services.delivery_log.prune()
                if removed:
                    log.info("delivery log: %d entries past retention removed", removed)
            except Exception:
                log.exception("housekeeping failed; trying again tomorrow")
            await asyncio.sleep(HOUSEKEEPING_EVERY)

    def bound_ports(self) -> dict[str, int]:
        return {item.spec.name: item.port for item in self.listening}

    def port(self, name: str) -> int:
        return next(item.port for item in self.listening if item.spec.name == name)

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            self._housekeeping = None
        for server in self._servers:
            server.close()
        for server in self._servers:
            try:
                await asyncio.wait_for(server.wait_closed(), 5)
            except TimeoutError:
                log.warning("a listener did not close in time")
        self._servers.clear()
        if self.queue is not None:
            await self.queue.stop()
            self.queue = None
        if self.services is not None:
            await self.services.close()
            self.services = None
