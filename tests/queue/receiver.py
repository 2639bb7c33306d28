"""A real SMTP receiver (aiosmtpd) on a loopback address, playing a remote MX or a smarthost in queue tests.

It records every accepted message with its envelope, the client's EHLO name and whether TLS was in use, and can be
told to answer RCPT or DATA with a given reply for some recipients (to test bounces and deferrals).
"""

from __future__ import annotations

import asyncio
import ssl
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from yizhan.util.tls import ensure_self_signed, server_context


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    ehlo: str
    tls: bool
    user: str | None


@dataclass
class Handler:
    messages: list[Received] = field(default_factory=list)
    # Reply to RCPT TO for an address (e.g. "550 5.1.1 no such user"); others are accepted.
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        auth = session.auth_data
        user = auth.login.decode() if isinstance(auth, LoginPassword) else None
        content = envelope.content
        data = content if isinstance(content, bytes) else (content or "").encode()
        implicit = server.transport is not None and server.transport.get_extra_info("sslcontext") is not None
        self.messages.append(Received(
            mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos), data=data,
            ehlo=session.host_name or "", user=user, tls=session.ssl is not None or implicit))
        self.arrived.set()
        return "250 2.0.0 accepted"


class Receiver:
    """`async with Receiver("127.0.0.2") as mx:` an SMTP server on that address; `mx.port` is its port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, tls_dir: Path | None = None,
                 credentials: tuple[str, str] | None = None, require_starttls: bool = False,
                 implicit_tls: bool = False) -> None:
        self.host = host
        self.port = port
        self.handler = Handler()
        self.tls_context: ssl.SSLContext | None = None
        if tls_dir is not None:
            tls_dir.mkdir(parents=True, exist_ok=True)
            self.tls_context = server_context(*ensure_self_signed(tls_dir, "mx.test"))
        self.credentials = credentials
        self.require_starttls = require_starttls
        # Implicit TLS (port 465 style, RFC 8314): the whole connection is TLS, no STARTTLS.
        self.implicit_tls = implicit_tls
        self._server: asyncio.Server | None = None

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (self.credentials is not None and isinstance(auth_data, LoginPassword)
              and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def _protocol(self) -> SMTP:
        kwargs: dict[str, Any] = {}
        if self.credentials is not None:
            # aiosmtpd counts only STARTTLS as TLS for AUTH; with implicit TLS the whole connection is encrypted.
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=not self.implicit_tls)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return SMTP(self.handler, hostname="mx.test", tls_context=None if self.implicit_tls else self.tls_context,
                        require_starttls=self.require_starttls, **kwargs)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port,
                                                ssl=self.tls_context if self.implicit_tls else None)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    async def __aenter__(self) -> Receiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
