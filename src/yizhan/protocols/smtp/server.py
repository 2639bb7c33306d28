"""The openers of the SMTP-family listeners, called by app/listeners.py: one started `asyncio.Server` each.

- "smtp" (the MX): InboundHandler, STARTTLS offered, AUTH after TLS (an authenticated session may relay).
- "submission" (STARTTLS) and "smtps" (implicit TLS, RFC 8314): SubmissionHandler; on "smtps" the whole
  connection is TLS, so STARTTLS is not offered and AUTH is.
- "lmtp": LmtpHandler over TCP, plus a Unix socket when `smtp.lmtp_socket` is set (both close together).

Invariants: each listener has its own connection limiter; the server runs aiosmtpd's protocol directly on
`loop.create_server` (never aiosmtpd's threaded Controller), so every session lives on the server's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

from yizhan.dns.resolver import Resolver
from yizhan.protocols.listening import ConnectionLimiter, Endpoint
from yizhan.protocols.smtp.handler import BaseHandler
from yizhan.protocols.smtp.inbound import InboundHandler
from yizhan.protocols.smtp.lmtp import LmtpHandler
from yizhan.protocols.smtp.session import YizhanLMTP, YizhanSMTP
from yizhan.protocols.smtp.submission import SubmissionHandler
from yizhan.services.runtime import Services


def _remove_stale_socket(path: Path) -> None:
    """A socket left by an earlier run that did not stop cleanly; anything else at the path is kept (bind fails)."""
    with contextlib.suppress(FileNotFoundError):
        if path.is_socket():
            path.unlink()


def _limiter(services: Services, listener: str) -> ConnectionLimiter:
    config = services.settings.smtp
    return ConnectionLimiter.for_listener(services.peers, listener, config.max_connections_per_ip,
                                          config.max_connections)


async def open_smtp(services: Services, endpoint: Endpoint) -> asyncio.Server:
    """The MX, submission or smtps listener, by `endpoint.spec.name`."""
    loop = asyncio.get_running_loop()
    implicit = endpoint.spec.tls == "implicit"
    handler: BaseHandler
    if endpoint.spec.name == "smtp":
        handler = InboundHandler(services, Resolver.from_settings(services.settings))
    else:
        handler = SubmissionHandler(services)
    limiter = _limiter(services, endpoint.spec.name)

    def factory() -> YizhanSMTP:
        return YizhanSMTP(handler, services=services, limiter=limiter,
                          tls_context=None if implicit else endpoint.tls, implicit_tls=implicit, loop=loop)

    return await loop.create_server(factory, endpoint.host, endpoint.port, ssl=endpoint.tls if implicit else None,
                                    reuse_port=endpoint.reuse_port or None)


class _LmtpServers(asyncio.AbstractServer):
    """The TCP listener and the Unix socket listener of LMTP, opened and closed as one."""

    def __init__(self, tcp: asyncio.Server, unix: asyncio.Server, path: Path) -> None:
        self.tcp = tcp
        self.unix = unix
        self.path = path

    @property
    def sockets(self) -> Any:
        return self.tcp.sockets

    def close(self) -> None:
        self.tcp.close()
        self.unix.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    async def wait_closed(self) -> None:
        await self.tcp.wait_closed()
        await self.unix.wait_closed()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self.tcp.get_loop()

    def is_serving(self) -> bool:
        return self.tcp.is_serving()

    async def start_serving(self) -> None:
        await self.tcp.start_serving()
        await self.unix.start_serving()

    async def serve_forever(self) -> None:
        await asyncio.gather(self.tcp.serve_forever(), self.unix.serve_forever())


async def open_lmtp(services: Services, endpoint: Endpoint) -> asyncio.Server:
    """The LMTP listener on TCP, and on `smtp.lmtp_socket` too when it is set."""
    loop = asyncio.get_running_loop()
    handler = LmtpHandler(services)
    limiter = _limiter(services, endpoint.spec.name)

    def factory() -> YizhanLMTP:
        return YizhanLMTP(handler, services=services, limiter=limiter, tls_context=None, implicit_tls=False,
                          loop=loop)

    tcp = await loop.create_server(factory, endpoint.host, endpoint.port, reuse_port=endpoint.reuse_port or None)
    path_text = services.settings.smtp.lmtp_socket
    if not path_text:
        return tcp
    path = Path(path_text)
    await asyncio.to_thread(_remove_stale_socket, path)
    try:
        unix = await loop.create_unix_server(factory, str(path))
    except OSError:
        tcp.close()
        raise
    return _LmtpServers(tcp, unix, path)  # type: ignore[return-value]
