"""The listeners the server opens, and how each protocol opens its own.

Every protocol package offers an opener: given the services, the listener's spec, where to bind and the TLS
context, it returns a started `asyncio.Server`. The server calls the opener for each enabled listener and knows
nothing else about the protocol. A kind with no opener yet gets the placeholder (app/placeholders.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from yizhan.app.placeholders import greeting_handler
from yizhan.protocols.listening import Endpoint, ListenerSpec
from yizhan.services.runtime import Services

LISTENERS = (
    ListenerSpec("smtp", "smtp", "starttls", "SMTP (inbound MX)"),
    ListenerSpec("submission", "smtp", "starttls", "Submission"),
    ListenerSpec("smtps", "smtp", "implicit", "Submission over TLS"),
    ListenerSpec("lmtp", "lmtp", "none", "LMTP"),
    ListenerSpec("imap", "imap", "starttls", "IMAP"),
    ListenerSpec("imaps", "imap", "implicit", "IMAP over TLS"),
    ListenerSpec("pop3", "pop3", "starttls", "POP3"),
    ListenerSpec("pop3s", "pop3", "implicit", "POP3 over TLS"),
    ListenerSpec("http", "http", "none", "Web (webmail, admin, API)"),
)


class Listener(Protocol):
    """What the server needs of an opened listener: asyncio's `Server`, or a wrapper like the web's."""

    @property
    def sockets(self) -> Any: ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


Opener = Callable[[Services, Endpoint], Awaitable[Listener]]
# The bound port of each listener opened so far, by name (the web's autoconfig describes them).
Ports = Callable[[], dict[str, int]]


def openers(ports: Ports | None = None) -> dict[str, Opener]:
    """Each protocol's opener by listener kind. Protocol packages are imported here, on first use."""
    from yizhan.protocols.imap.server import open_imap
    from yizhan.protocols.pop3.server import open_pop3
    from yizhan.protocols.smtp.server import open_lmtp, open_smtp
    from yizhan.web.server import open_web

    async def open_http(services: Services, endpoint: Endpoint) -> Listener:
        return await open_web(services, endpoint.host, endpoint.port, ports, endpoint.reuse_port)

    return {"pop3": open_pop3, "smtp": open_smtp, "lmtp": open_lmtp, "imap": open_imap, "http": open_http}


async def open_placeholder(services: Services, endpoint: Endpoint) -> asyncio.Server:
    spec = endpoint.spec
    handler = greeting_handler(spec.kind, services.settings.server.hostname)
    return await asyncio.start_server(handler, endpoint.host, endpoint.port,
                                      ssl=endpoint.tls if spec.tls == "implicit" else None,
                                      reuse_port=endpoint.reuse_port or None)


async def open_listener(services: Services, endpoint: Endpoint,
                        ports: Ports | None = None) -> tuple[Listener, str]:
    """Open one listener; returns the server and its state for the table ("ready" or "placeholder")."""
    opener = openers(ports).get(endpoint.spec.kind)
    if opener is None:
        return await open_placeholder(services, endpoint), "placeholder"
    return await opener(services, endpoint), "ready"
