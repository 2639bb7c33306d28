"""The http listener: the web application served by uvicorn's HTTP/1.1 protocol (h11) on our own asyncio server.

`open_web` binds the socket, builds the app (web/app.py) and returns a started `WebServer`: an
`asyncio.AbstractServer` like every other listener's, so the app layer opens, lists and stops it the same way. It
wraps the server the running loop creates, so asyncio's loop and uvloop serve it alike. uvicorn's own
`Server.serve` is not used: it would take over SIGINT/SIGTERM, which belong to `yizhan serve`.

Invariants:
- `close()` stops accepting at once and asks every open connection to finish: idle keep-alive connections close,
  a connection in the middle of a request closes after its answer. `wait_closed()` waits up to `GRACE` seconds
  for them (under the 5 s the server gives each listener), then cancels what is left, so the store is closed
  only after no request can still use it.
- Request heads are limited by h11 (64 KiB), bodies by `web.max_upload_size` (web/security.py); idle keep-alive
  connections close after 5 s. The client address is the socket's peer (no proxy headers are trusted), so login
  lockout counts the real client.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.server import Server as UvicornServer

from yizhan.services.runtime import Services
from yizhan.web.app import create_app
from yizhan.web.sessions import load_or_create_secret

log = logging.getLogger(__name__)

GRACE = 4.0
MAX_HEAD = 64 * 1024
KEEP_ALIVE = 5
BACKLOG = 100
SECRET_FILE = "web-secret.key"


def secret_path(services: Services) -> Path:
    configured = services.settings.web.secret_file
    return Path(configured).expanduser() if configured else services.paths.root / SECRET_FILE


def _bind(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"error while attempting to bind on address {address!r}: "
                                 f"{(exc.strerror or str(exc)).lower()}") from exc
    return sock


class WebServer(asyncio.AbstractServer):
    """The listening server (the loop's own, asyncio's or uvloop's) plus uvicorn's connection state and tick."""

    def __init__(self, server: asyncio.AbstractServer, uvicorn_server: UvicornServer) -> None:
        self._server = server
        self._uvicorn = uvicorn_server
        # uvicorn's tick keeps the Date header current (and would end on should_exit).
        self._ticker = server.get_loop().create_task(uvicorn_server.main_loop(), name="yizhan-web-ticker")

    @property
    def sockets(self) -> Any:
        return self._server.sockets  # type: ignore[attr-defined]

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._server.get_loop()

    def is_serving(self) -> bool:
        return self._server.is_serving()

    async def start_serving(self) -> None:
        await self._server.start_serving()

    async def serve_forever(self) -> None:
        await self._server.serve_forever()

    def close(self) -> None:
        self._server.close()
        self._uvicorn.should_exit = True
        for connection in list(self._uvicorn.server_state.connections):
            connection.shutdown()

    async def wait_closed(self) -> None:
        state = self._uvicorn.server_state
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GRACE
        # uvicorn's connection set offers no event to wait on: poll it.
        while (state.connections or state.tasks) and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        for task in list(state.tasks):
            task.cancel()
        for connection in list(state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        if state.connections or state.tasks:
            log.warning("web: %d connection(s) did not finish in %.0f s", len(state.connections), GRACE)
        self._uvicorn.should_exit = True
        await asyncio.gather(self._ticker, return_exceptions=True)
        await self._server.wait_closed()


async def open_web(services: Services, host: str, port: int,
                   ports: Callable[[], dict[str, int]] | None = None, reuse_port: bool = False) -> WebServer:
    """Bind `host:port` and serve the web application there; `ports` gives every listener's bound port.
    `reuse_port`: other worker processes serve the same port (SO_REUSEPORT)."""
    secret = await asyncio.to_thread(load_or_create_secret, secret_path(services))
    app = create_app(services, secret, ports or (lambda: {}))
    config = uvicorn.Config(app, http="h11", ws="none", lifespan="off", log_config=None, access_log=False,
                            proxy_headers=False, server_header=False, timeout_keep_alive=KEEP_ALIVE,
                            h11_max_incomplete_event_size=MAX_HEAD)
    config.load()
    uvicorn_server = UvicornServer(config)
    state = uvicorn_server.server_state
    loop = asyncio.get_running_loop()

    def protocol() -> asyncio.Protocol:
        made: asyncio.Protocol = config.http_protocol_class(  # type: ignore[call-arg]
            config=config, server_state=state, app_state={}, _loop=loop)
        return made

    sock = _bind(host, port, reuse_port)
    try:
        server = await loop.create_server(protocol, sock=sock, backlog=BACKLOG)
    except BaseException:
        sock.close()
        raise
    return WebServer(server, uvicorn_server)
