"""One SMTP (or LMTP) connection: aiosmtpd's protocol, with Yizhan's limits, replies and logins.

What this subclass of `aiosmtpd.smtp.SMTP` adds (the handlers in inbound.py, submission.py and lmtp.py decide what
to do with a transaction; this module keeps the connection sane):
- Connection limits (protocols/listening.py, one limiter per listener): over them, the client gets `421 4.7.0`
  and the connection is closed at once.
- Every 2xx/4xx/5xx reply carries an enhanced status code (RFC 2034 §3), except the greeting and the EHLO/HELO/LHLO
  answer; replies.py supplies defaults for aiosmtpd's own replies.
- Erroneous commands (syntax, sequence, unknown, overlong) are counted; at `max_bad_commands` the client gets
  `421 4.7.0` and is disconnected (aiosmtpd's own counter of unknown commands is bypassed for ours).
- PIPELINING (RFC 2920 §3.2): while the client's next command is already buffered, a reply to MAIL, RCPT, RSET or
  NOOP (or a refusal) waits and goes out with the next one, so a group of commands is answered in one write.
- A timeout per phase: `command_timeout` waiting for each command, `data_timeout` for the whole DATA transfer.
- AUTH PLAIN and LOGIN (RFC 4616, draft-murchison-sasl-login) through `services.auth.login`, which counts failures
  and locks out; aiosmtpd offers AUTH only after TLS (implicit TLS listeners count as TLS).

Invariants: a connection releases its limiter slot exactly once; the AUTH exchange is never logged; no reply is
written after the connection is closed on purpose.
"""

from __future__ import annotations

import asyncio
import binascii
import functools
import logging
from base64 import b64decode
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Session, syntax

from yizhan.protocols.listening import ConnectionLimiter
from yizhan.protocols.smtp.dataread import read_data
from yizhan.protocols.smtp.paths import simple_path
from yizhan.protocols.smtp.replies import (
    AUTH_OK,
    BAD_COMMAND_CODES,
    TOO_MANY_CONNECTIONS,
    TOO_MANY_ERRORS,
    TOO_MANY_FROM_IP,
    basic_code,
    clean,
    reply_for,
    with_enhanced_code,
)
from yizhan.services.runtime import Services
from yizhan.store.records import AccountRecord
from yizhan.util.errors import YizhanError

log = logging.getLogger(__name__)

# Replies that may wait for the next one (`_may_hold`): MAIL, RCPT, RSET and NOOP accepted, and refusals except 421.
_HOLDABLE_CODES = frozenset({250, 251, 252, 450, 451, 452, 455, 500, 501, 502, 503, 504, 550, 551, 552, 553, 554,
                             555})
# At most this many bytes of replies wait: past it they are written.
_MAX_HELD = 4096


class SmtpSession(Session):
    """aiosmtpd's session with what Yizhan keeps per connection (renewed after STARTTLS, RFC 3207 §4.2)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.account: AccountRecord | None = None
        self.messages = 0

    # aiosmtpd sets this legacy attribute after every AUTH; the base class logs a deprecation warning each time.
    @property
    def login_data(self) -> Any:
        return self._login_data

    @login_data.setter
    def login_data(self, value: Any) -> None:
        self._login_data = value


class _Commands(dict[str, Any]):
    """aiosmtpd's table of command methods; an unknown command gets our handler instead of aiosmtpd's."""

    def __init__(self, methods: dict[str, Any], unknown: Callable[[str, str | None], Awaitable[None]]) -> None:
        super().__init__(methods)
        self._unknown = unknown

    def get(self, key: str, default: Any = None) -> Any:
        found = super().get(key)
        return found if found is not None else functools.partial(self._unknown, key)


class YizhanSMTP(SMTP):
    protocol_name = "smtp"

    def __init__(self, handler: Any, *, services: Services, limiter: ConnectionLimiter,
                 tls_context: Any, implicit_tls: bool, loop: asyncio.AbstractEventLoop) -> None:
        settings = services.settings
        super().__init__(
            handler, data_size_limit=settings.limits.max_message_size, enable_SMTPUTF8=True, decode_data=False,
            hostname=settings.server.hostname, ident="Yizhan LMTP" if self.protocol_name == "lmtp" else "Yizhan ESMTP",
            tls_context=tls_context, timeout=settings.smtp.command_timeout, auth_require_tls=not implicit_tls,
            loop=loop)
        self.services = services
        self.config = settings.smtp
        self.limiter = limiter
        self.implicit_tls = implicit_tls
        self._smtp_methods = _Commands(self._smtp_methods, self._unknown_command)
        self._bad_commands = 0
        self._greeted = False
        self._plain_replies = False
        self._hang_up = False
        # Replies written with the next one (`_may_hold`).
        self._held = b""
        self._client: str | None = None
        self._refused = False

    # Connection and limits

    def _create_session(self) -> SmtpSession:
        return SmtpSession(self.loop)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._client is None and self.transport is None:
            peer = transport.get_extra_info("peername")
            self._client = str(peer[0]) if isinstance(peer, tuple) and peer else "unix"
            limit = self.limiter.acquire(self._client)
            if limit is not None:
                refusal = TOO_MANY_CONNECTIONS if limit == "total" else TOO_MANY_FROM_IP
                log.warning("%s: refused a connection from %s: %s", self.protocol_name, self._client, refusal)
                self._refused = True
                # Duck-typed: uvloop's transports do not derive from asyncio's classes.
                transport.write(refusal.encode() + b"\r\n")  # type: ignore[attr-defined]
                transport.close()
                return
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        if self._client is not None:
            self.limiter.release(self._client)
            self._client = None
        if self._timeout_handle is None or self._handler_coroutine is None:
            return
        super().connection_lost(error)

    def eof_received(self) -> bool | None:
        if self._refused or self._handler_coroutine is None:
            return False
        return super().eof_received()

    @property
    def client_ip(self) -> str:
        peer = self.session.peer if self.session is not None else None
        return str(peer[0]) if isinstance(peer, tuple) and peer else "unix"

    def set_phase_timeout(self, seconds: float | None = None) -> None:
        """Restart the inactivity timer: `seconds`, or the command timeout."""
        if self.transport is not None:
            self._reset_timeout(seconds)

    def hang_up_after_reply(self) -> None:
        """Close the connection once the next reply is written."""
        self._hang_up = True

    @property
    def tls_description(self) -> str:
        """"TLSv1.3 TLS_AES_256_GCM_SHA384 256 bits", or "" when the connection is not encrypted."""
        ssl_object = self.transport.get_extra_info("ssl_object") if self.transport is not None else None
        if ssl_object is None:
            return ""
        cipher = ssl_object.cipher()
        if not cipher:
            return str(ssl_object.version() or "TLS")
        name, _protocol, bits = cipher
        return f"{ssl_object.version()} {name} {bits} bits"

    # Replies

    async def push(self, status: Any) -> None:
        if isinstance(status, bytes):  # AUTH challenges ("334 ..."), written as they are
            await self._send(status)
            return
        if not self._greeted:  # RFC 2034 §3: the greeting has no enhanced code
            self._greeted = True
            await self._send(status)
            return
        # RFC 2034 §3: the EHLO/HELO/LHLO answer has no enhanced codes either.
        lines = [line if self._plain_replies and basic_code(line) == 250 else with_enhanced_code(line)
                 for line in str(status).split("\r\n")]
        if self.transport is None or self.transport.is_closing():
            return
        if self._may_hold(basic_code(lines[-1])):
            self._held += self._encode("\r\n".join(lines))
        else:
            await self._send("\r\n".join(lines))
        if any(basic_code(line) in BAD_COMMAND_CODES for line in lines):
            self._bad_commands += 1
            if self._bad_commands >= self.config.max_bad_commands:
                log.warning("%s: %s sent %d erroneous commands; disconnecting", self.protocol_name,
                            self.client_ip, self._bad_commands)
                await self._send(TOO_MANY_ERRORS)
                self._hang_up = True
        if self._hang_up and self.transport is not None:
            self.transport.close()

    def _may_hold(self, code: int) -> bool:
        """Whether this reply may wait to go out with the next: RFC 2920 §3.2 (a server SHOULD send the replies to
        a group of pipelined commands as a unit), so a group costs one write, not one per command.

        Only while the client's next command is already here (a whole line waits in the reader's buffer, so the
        loop reads it without waiting), and only the replies to MAIL, RCPT, RSET and NOOP and refusals: never
        354 (the client waits for it before the data), 220 (STARTTLS switches to TLS after it), 221 or 421 (the
        connection closes), nor when the connection is to be closed.
        """
        if code not in _HOLDABLE_CODES or self._hang_up or len(self._held) >= _MAX_HELD:
            return False
        # aiosmtpd's StreamReader: its buffer is read as aiosmtpd itself reads it (for STARTTLS).
        return b"\n" in self._reader._buffer  # type: ignore[attr-defined]

    def _encode(self, status: str | bytes) -> bytes:
        if isinstance(status, bytes):
            return status + b"\r\n"
        return status.encode("utf-8" if self.enable_SMTPUTF8 else "ascii") + b"\r\n"

    async def _send(self, status: str | bytes) -> None:
        """Write the replies held back (`_may_hold`) and this one, in one write, as aiosmtpd's push does."""
        response = self._held + self._encode(status) if self._held else self._encode(status)
        self._held = b""
        self._writer.write(response)
        await self._writer.drain()

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's reading of a MAIL/RCPT path, with a fast path for the plain form (paths.py)."""
        simple = simple_path(arg)
        if simple is None:
            return super()._getaddr(arg)
        address, rest = simple
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, rest

    async def _unknown_command(self, command: str, arg: str | None) -> None:
        log.info("%s: unknown command from %s: %s", self.protocol_name, self.client_ip, clean(command, 40))
        await self.push(f'500 5.5.2 Error: command "{clean(command, 40)}" not recognized')

    async def smtp_EHLO(self, hostname: str) -> None:
        self._plain_replies = True
        try:
            await super().smtp_EHLO(hostname)
        finally:
            self._plain_replies = False

    async def smtp_HELO(self, hostname: str) -> None:
        self._plain_replies = True
        try:
            await super().smtp_HELO(hostname)
        finally:
            self._plain_replies = False

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd's DATA, with the data read in chunks (dataread.py) instead of an await per line."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        # The whole transfer gets `data_timeout`; the command timeout comes back once it is received.
        self.set_phase_timeout(self.config.data_timeout)
        try:
            received = await read_data(self._reader, self.data_size_limit, self.line_length_limit)
        except asyncio.CancelledError:
            log.info("%s: connection lost during DATA from %s", self.protocol_name, self.client_ip)
            self._writer.close()
            raise
        finally:
            self.set_phase_timeout()
        if received is None:
            return
        if received.content is None:
            await self.push("552 Error: Too much mail data" if received.too_big
                            else "500 Line too long (see RFC5321 4.5.3.1.6)")
            self._set_post_data_state()
            return
        self.envelope.content = received.content
        self.envelope.original_content = received.content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    # AUTH (RFC 4954)

    async def auth_PLAIN(self, _: Any, args: list[str]) -> AuthResult:
        if len(args) == 1:
            blob = await self.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                blob = b64decode(args[1].encode(), validate=True)
            except (binascii.Error, ValueError):
                await self.push("501 5.5.2 Cannot decode base64")
                return AuthResult(success=False, handled=True)
        assert isinstance(blob, bytes)
        parts = blob.split(b"\x00")
        if len(parts) != 3:  # RFC 4616 §2: [authzid] NUL authcid NUL passwd
            await self.push("501 5.5.2 Cannot split the AUTH PLAIN value")
            return AuthResult(success=False, handled=True)
        return await self._login(parts[1], parts[2])

    async def auth_LOGIN(self, _: Any, args: list[str]) -> AuthResult:
        if len(args) == 1:
            login = await self.challenge_auth(self.AuthLoginUsernameChallenge)
        else:
            try:
                login = b64decode(args[1].encode(), validate=True)
            except (binascii.Error, ValueError):
                await self.push("501 5.5.2 Cannot decode base64")
                return AuthResult(success=False, handled=True)
        if login is MISSING:
            return AuthResult(success=False, handled=True)
        password = await self.challenge_auth(self.AuthLoginPasswordChallenge)
        if password is MISSING:
            return AuthResult(success=False, handled=True)
        assert isinstance(login, bytes) and isinstance(password, bytes)
        return await self._login(login, password)

    async def _login(self, login: bytes, password: bytes) -> AuthResult:
        assert self.session is not None
        address = login.decode("utf-8", "replace")
        try:
            account = await self.services.auth.login(address, password.decode("utf-8", "surrogateescape"),
                                                     client=self.client_ip, protocol=self.protocol_name)
        except YizhanError as exc:
            return AuthResult(success=False, handled=False, message=with_enhanced_code(reply_for(exc, "auth")))
        assert isinstance(self.session, SmtpSession)
        self.session.account = account
        log.info("%s: %s authenticated from %s", self.protocol_name, account.address, self.client_ip)
        return AuthResult(success=True, handled=False, auth_data=account, message=AUTH_OK)


class YizhanLMTP(YizhanSMTP, LMTP):
    """LMTP (RFC 2033): LHLO instead of EHLO; the handler answers DATA once per accepted recipient."""

    protocol_name = "lmtp"

    async def smtp_LHLO(self, arg: str) -> None:
        self._plain_replies = True
        try:
            await SMTP.smtp_EHLO(self, arg)
        finally:
            self._plain_replies = False

    async def smtp_EHLO(self, hostname: str) -> None:
        await self.push('500 5.5.1 Error: command "EHLO" not recognized, use LHLO')

    async def smtp_HELO(self, hostname: str) -> None:
        await self.push('500 5.5.1 Error: command "HELO" not recognized, use LHLO')
