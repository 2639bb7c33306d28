"""`yizhan serve` with `server.workers` > 1: a supervisor process and that many worker processes.

Python runs one thread of Python code at a time per process, so one process serves at most about one core. With
workers, each process has its own: they share the listening ports (SO_REUSEPORT, the kernel spreads connections
among them), the database (SQLite writers take turns on a lock file, store/sqlrun.py; or PostgreSQL) and the blob
directory, and tell each other every change over a mesh of Unix sockets (util/mesh.py): store events for IDLE and
open web pages, failed logins for the lockout, connection and session counts for the limits, web sign-outs.

The supervisor:
1. prepares what must exist once before any worker starts: the database migrated, the first domain and
   administrator, the TLS certificate, the web secret;
2. reserves every listener's port (a socket bound with SO_REUSEPORT, never listening, so it takes no connection),
   which also turns port 0 into a real port every worker then binds;
3. starts the workers (`python -m yizhan.app.worker`, fresh interpreters: nothing is inherited from a fork) and
   gives each, over its control channel (app/control.py), the settings and one socket to every other worker;
4. prints the listener table once all of them serve, then waits. A worker that exits unexpectedly is started
   again with new sockets to the others (at most `RESTARTS` times in `RESTART_WINDOW` seconds, else the server
   stops); SIGTERM or SIGINT stops every worker (each stops as a single server does: listeners first, then the
   store, so nothing acknowledged is lost) and then the supervisor.

Only worker 0 runs the outbound queue, the housekeeping and the LMTP Unix socket, so each runs once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from yizhan.app import control
from yizhan.app.banner import print_table
from yizhan.app.listeners import LISTENERS
from yizhan.app.server import Listening, tls_context
from yizhan.cli.common import console
from yizhan.config.paths import DataPaths
from yizhan.config.settings import Settings
from yizhan.services.runtime import Services
from yizhan.util.errors import YizhanError
from yizhan.web.server import secret_path
from yizhan.web.sessions import load_or_create_secret

log = logging.getLogger(__name__)

START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0
RESTARTS = 5
RESTART_WINDOW = 60.0


def supervise(settings: Settings, paths: DataPaths) -> None:
    """Run the server as `settings.server.workers` processes until SIGTERM or SIGINT."""
    first_admin = asyncio.run(_prepare(settings, paths))
    reserved, settings = _reserve_ports(settings)
    try:
        asyncio.run(_Supervisor(settings, paths, first_admin).run())
    finally:
        for sock in reserved:
            sock.close()


async def _prepare(settings: Settings, paths: DataPaths) -> tuple[str, str] | None:
    services = await Services.open(settings, paths)
    try:
        first_admin = await services.bootstrap()
        await asyncio.to_thread(tls_context, settings, paths)
        if settings.listen.http >= 0:
            await asyncio.to_thread(load_or_create_secret, secret_path(services))
    finally:
        await services.close()
    return first_admin


def _reserve_ports(settings: Settings) -> tuple[list[socket.socket], Settings]:
    """A bound, never listening socket per listener; the settings with each port as bound (0 becomes real)."""
    host = settings.server.bind
    reserved: list[socket.socket] = []
    ports: dict[str, int] = {}
    try:
        for spec in LISTENERS:
            port = getattr(settings.listen, spec.name)
            if port < 0:
                continue
            sock = _reserve(host, port, spec.description)
            reserved.append(sock)
            ports[spec.name] = sock.getsockname()[1]
    except BaseException:
        for sock in reserved:
            sock.close()
        raise
    listen = settings.listen.model_copy(update=ports)
    return reserved, settings.model_copy(update={"listen": listen})


def _reserve(host: str, port: int, what: str) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise YizhanError(f"{what}: cannot bind {host}:{port}: {exc.strerror or exc}") from exc
    return sock


@dataclass
class _Worker:
    index: int
    process: asyncio.subprocess.Process
    channel: socket.socket


class _Supervisor:
    def __init__(self, settings: Settings, paths: DataPaths, first_admin: tuple[str, str] | None) -> None:
        self.settings = settings
        self.paths = paths
        self.first_admin = first_admin
        self.count = settings.server.workers
        self.workers: dict[int, _Worker] = {}
        self.restarts: list[float] = []

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            for index in range(self.count):
                await self._start(index)
            await asyncio.wait_for(asyncio.gather(*(self._ready(w) for w in self.workers.values())),
                                   START_TIMEOUT)
            self._print()
            await self._watch(stop)
            console.print("stopping…")
        finally:
            await self._stop_all()
        console.print("stopped cleanly")

    def _worker_settings(self, index: int) -> Settings:
        if index == 0:
            return self.settings
        # The LMTP Unix socket is one path: worker 0 serves it.
        smtp = self.settings.smtp.model_copy(update={"lmtp_socket": ""})
        return self.settings.model_copy(update={"smtp": smtp})

    async def _start(self, index: int) -> _Worker:
        parent, child = control.control_pair()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "yizhan.app.worker", str(index), str(child.fileno()),
                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
                # Its own session: Ctrl-C in a terminal reaches the supervisor only, which then stops the workers
                # in order (a worker whose supervisor is gone stops by itself: its control channel closes).
                start_new_session=True)
        finally:
            child.close()
        worker = _Worker(index, process, parent)
        control.send(parent, ("setup", self._worker_settings(index), self.paths))
        for other in self.workers.values():
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            with ours, theirs:
                control.send(other.channel, ("peer", index), theirs.fileno())
                control.send(parent, ("peer", other.index), ours.fileno())
        control.send(parent, ("start",))
        parent.setblocking(False)
        self.workers[index] = worker
        log.info("worker %d started (pid %d)", index, process.pid)
        return worker

    async def _ready(self, worker: _Worker) -> None:
        data = await asyncio.get_running_loop().sock_recv(worker.channel, control.MAX_MESSAGE)
        if not data:
            code = await worker.process.wait()
            raise YizhanError(f"worker {worker.index} did not start (exit code {code}); its log says why")

    def _print(self) -> None:
        host = self.settings.server.bind
        listening = [Listening(spec, host, getattr(self.settings.listen, spec.name), "ready")
                     for spec in LISTENERS if getattr(self.settings.listen, spec.name) >= 0]
        print_table(self.paths, listening, self.first_admin, f" — {self.count} worker processes")

    async def _watch(self, stop: asyncio.Event) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                exits = {asyncio.ensure_future(w.process.wait()): w for w in self.workers.values()}
                done, _ = await asyncio.wait([stopping, *exits], return_when=asyncio.FIRST_COMPLETED)
                for waiter in exits:
                    if waiter not in done:
                        waiter.cancel()
                if stop.is_set():
                    return
                for waiter in done:
                    worker = exits.get(waiter)
                    if worker is not None:
                        await self._restart(worker)
        finally:
            stopping.cancel()

    async def _restart(self, worker: _Worker) -> None:
        code = worker.process.returncode
        log.error("worker %d (pid %d) exited with code %s: starting it again", worker.index, worker.process.pid,
                  code)
        worker.channel.close()
        del self.workers[worker.index]
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if t > now - RESTART_WINDOW] + [now]
        if len(self.restarts) > RESTARTS:
            raise YizhanError(f"workers exited {len(self.restarts)} times within {RESTART_WINDOW:.0f} s: stopping")
        replacement = await self._start(worker.index)
        try:
            await asyncio.wait_for(self._ready(replacement), START_TIMEOUT)
        except (YizhanError, TimeoutError) as exc:
            log.error("worker %d did not start again: %s", worker.index, exc)

    async def _stop_all(self) -> None:
        workers = list(self.workers.values())
        for worker in workers:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                await asyncio.wait_for(worker.process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                log.error("worker %d did not stop in %.0f s: killed", worker.index, STOP_TIMEOUT)
                worker.process.kill()
                await worker.process.wait()
            worker.channel.close()
        self.workers.clear()
