"""The POP3 connection: reading lines under limits, STLS, writing replies, and the listener opener.

Invariants:
- Every input has a limit: a command line is at most 255 octets with its CRLF (RFC 2449 §4; longer lines are
  answered -ERR and skipped), a SASL response at most `_MAX_BUFFER` octets, `pop3.max_bad_commands` bad commands
  and `pop3.max_auth_failures` failed logins per session, `pop3.idle_timeout` seconds of silence (RFC 1939 §3
  asks for at least 10 minutes; that is the default), and `pop3.max_connections_per_ip` open connections per
  client address on each listener. Reaching a limit closes the connection, deleting nothing.
- Plaintext sent after STLS and before the handshake is discarded, never read as a command (RFC 2595 §4).
- Replies are written as soon as they are ready; the writer is drained only when more than 64 KiB are buffered,
  so pipelined commands (RFC 2449 §6.6) flow without a round trip each, and a client that stops reading stalls
  only its own session (for at most the idle timeout).
- Any exception from a command is answered with an -ERR (replies.error_reply) and the session goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable

from yizhan.protocols.listening import ConnectionLimiter, Endpoint
from yizhan.protocols.pop3.commands import CommandError, parse_command
from yizhan.protocols.pop3.replies import err, error_reply
from yizhan.protocols.pop3.session import Outcome, Session
from yizhan.services.runtime import Services

log = logging.getLogger(__name__)

MAX_COMMAND_LINE = 255  # RFC 2449 §4, CRLF included
_MAX_BUFFER = 8192  # The stream's line limit: room for a SASL response (RFC 5034 §4 lifts the 255 octets).
_MAX_SKIPPED = 1 << 20  # Octets of an over-long line skipped before giving up on the client.
_DRAIN_ABOVE = 64 * 1024
_TLS_TIMEOUT = 60.0


class _LineTooLong(Exception):
    pass


class Connection:
    def __init__(self, services: Services, tls: ssl.SSLContext, implicit_tls: bool,
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.services = services
        self.config = services.settings.pop3
        self.tls = tls
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.client = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        self.session = Session(services, client=self.client, secure=implicit_tls, tls_available=not implicit_tls)
        self.bad_commands = 0
        self.failed_logins = 0

    async def run(self) -> None:
        try:
            self.writer.write(self.session.greeting())
            while await self._step():
                pass
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
            log.debug("pop3: connection from %s ended: %r", self.client, exc)
        except _LineTooLong:
            log.info("pop3: %s sent an endless line; closing", self.client)
        except Exception:
            log.exception("pop3: session with %s failed", self.client)
        finally:
            self.session.close()
            self.writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.writer.wait_closed(), 5)

    async def _step(self) -> bool:
        """Read and answer one command; False when the connection is to be closed."""
        line = await self._read_line()
        if line is None:
            return False
        if len(line) > MAX_COMMAND_LINE:
            return await self._send(Outcome(err("line too long"), bad=True))
        try:
            command = parse_command(line.rstrip(b"\r\n"))
        except CommandError as exc:
            return await self._send(Outcome(error_reply(exc), bad=True))
        outcome = await self._call(self.session.handle(command))
        if outcome.continuation:
            await self._send(outcome)
            response = await self._read_line()
            if response is None:
                return False
            outcome = await self._call(self.session.sasl_response(response))
        return await self._send(outcome)

    async def _call(self, pending: Awaitable[Outcome]) -> Outcome:
        try:
            return await pending
        except Exception as exc:
            return Outcome(error_reply(exc))

    async def _send(self, outcome: Outcome) -> bool:
        if outcome.start_tls:
            # Stop reading before the client can see "+OK": its TLS ClientHello must stay in the socket for
            # the TLS layer, not land in the plaintext buffer.
            transport = self.writer.transport
            # Duck-typed: uvloop's transports do not derive from asyncio's classes.
            if hasattr(transport, "pause_reading"):
                transport.pause_reading()
        self.writer.write(outcome.data)
        if self.writer.transport.get_write_buffer_size() > _DRAIN_ABOVE or outcome.close or outcome.start_tls:
            await asyncio.wait_for(self.writer.drain(), self.config.idle_timeout)
        if outcome.close:
            return False
        if outcome.start_tls:
            return await self._start_tls()
        self.bad_commands += outcome.bad
        self.failed_logins += outcome.failed_login
        if self.bad_commands >= self.config.max_bad_commands:
            self.writer.write(err("too many bad commands; closing"))
            return False
        if self.failed_logins >= self.config.max_auth_failures:
            self.writer.write(err("too many failed logins; closing", "AUTH"))
            return False
        return True

    async def _start_tls(self) -> bool:
        # RFC 2595 §4: anything the client sent after STLS in plaintext is discarded, never executed.
        buffered = getattr(self.reader, "_buffer", None)
        if isinstance(buffered, bytearray) and buffered:
            log.info("pop3: %s sent %d octets after STLS before TLS; discarded", self.client, len(buffered))
            buffered.clear()
        try:
            await self.writer.start_tls(self.tls, ssl_handshake_timeout=_TLS_TIMEOUT)
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            log.info("pop3: TLS handshake with %s failed: %s", self.client, exc)
            return False
        self.session.tls_started()
        return True

    async def _read_line(self) -> bytes | None:
        """The next line with its line end; None at end of input. Over-long lines come back truncated to
        MAX_COMMAND_LINE + 1 octets (so they are refused), the rest skipped."""
        try:
            async with asyncio.timeout(self.config.idle_timeout):
                return await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                log.debug("pop3: %s closed with an unterminated line", self.client)
            return None
        except asyncio.LimitOverrunError as exc:
            await self._skip_line(exc.consumed)
            return b"x" * (MAX_COMMAND_LINE + 1)

    async def _skip_line(self, consumed: int) -> None:
        skipped = 0
        while True:
            await asyncio.wait_for(self.reader.readexactly(consumed), self.config.idle_timeout)
            skipped += consumed
            if skipped > _MAX_SKIPPED:
                raise _LineTooLong
            try:
                await asyncio.wait_for(self.reader.readuntil(b"\n"), self.config.idle_timeout)
                return
            except asyncio.LimitOverrunError as exc:
                consumed = exc.consumed


async def open_pop3(services: Services, endpoint: Endpoint) -> asyncio.Server:
    """The opener for listener kind "pop3": STLS on "pop3", implicit TLS on "pop3s" (RFC 8314 §3.3)."""
    implicit = endpoint.spec.tls == "implicit"
    tls = endpoint.tls
    limit = services.settings.pop3.max_connections_per_ip
    # Open connections per client address, on this listener (in every worker).
    limiter = ConnectionLimiter.for_listener(services.peers, endpoint.spec.name, limit)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(services, tls, implicit, reader, writer)
        client = connection.client
        if limiter.acquire(client) is not None:
            log.warning("pop3: refused a connection from %s: %d already open", client, limit)
            writer.write(err("too many connections from your address", "SYS/TEMP"))
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 5)
            return
        try:
            await connection.run()
        finally:
            limiter.release(client)

    return await asyncio.start_server(handle, endpoint.host, endpoint.port, ssl=tls if implicit else None,
                                      limit=_MAX_BUFFER, reuse_port=endpoint.reuse_port or None)
