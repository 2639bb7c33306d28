"""The IMAP connection: reading and framing commands under limits, STARTTLS, IDLE, timeouts, and the listener opener.

Invariants:
- Every input has a limit: before login a line, a literal and a whole command are at most a few KiB (so a stranger
  cannot make us buffer much), after it a literal may be `limits.max_message_size` octets (larger ones are refused
  before being read, RFC 9051 §7.1 TOOBIG); `imap.max_bad_commands` syntax errors, `imap.max_auth_failures` failed
  logins and `imap.max_unauthenticated_commands` commands before login per session; `imap.login_timeout` seconds of
  silence before login and `imap.idle_timeout` (30 minutes, RFC 9051 §5.4) after; `imap.max_connections_per_ip`
  open connections per client address on each listener. Reaching one sends `* BYE` and closes.
- Plaintext sent after STARTTLS and before the handshake is discarded, never read as a command (RFC 9051 §6.2.1).
- While IDLE, updates are written as soon as the bus delivers them (RFC 2177); the wait ends at DONE, at the
  idle timeout, or when the client goes away.
- Responses are queued and written in one burst (one write, one deflate sync flush) before the connection waits
  for input or for the bus, or as soon as 64 KiB are queued; the writer is drained when more than 64 KiB are
  buffered, so a client that stops reading stalls only its own session (for at most the idle timeout).
- An idle connection holds little memory (about 16 KiB plaintext, bench/imap_idle.py): no buffer is kept between
  reads, and the 256 KiB read buffer asyncio gives every TLS connection is cut to 16 KiB (`trim_tls_buffer`).
- COMPRESS=DEFLATE (RFC 4978) is handled here, below the session: after its tagged OK every octet both ways goes
  through `compress.Deflate` (octets the client sent after the command are inflated too); a second COMPRESS gets
  `NO [COMPRESSIONACTIVE]`. It works the same over STARTTLS and implicit TLS (it sits above the TLS layer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from typing import Any

from yizhan.protocols.imap import cmd_auth, cmd_select
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.commands import Compress
from yizhan.protocols.imap.commands import Done as DoneCommand
from yizhan.protocols.imap.compress import Deflate
from yizhan.protocols.imap.dispatch import HANDLERS
from yizhan.protocols.imap.errors import ParseError
from yizhan.protocols.imap.parser import parse_command, parse_sasl_response
from yizhan.protocols.imap.reader import CommandFrame, CommandReader, ContinuationNeeded, FramingLimits
from yizhan.protocols.imap.replies import Bad, Refused, TooBig, error_response
from yizhan.protocols.imap.session import Outcome, Session, State
from yizhan.protocols.listening import ConnectionLimiter, Endpoint
from yizhan.services.runtime import Services

log = logging.getLogger(__name__)

# A SEARCH (or UID SEARCH) whose RETURN options name SAVE, recognised even when the rest does not parse.
_SEARCH_SAVE = re.compile(rb"\S+ +(?:UID +)?SEARCH +RETURN *\([^)]*\bSAVE\b", re.IGNORECASE)

_DRAIN_ABOVE = 64 * 1024
_READ_SIZE = 64 * 1024
_TLS_TIMEOUT = 60.0
_BEFORE_LOGIN = FramingLimits(max_line=8192, max_literal=8192, max_command=16384)
# One TLS record is at most 16 KiB (RFC 8446 §5.1); asyncio reads into a 256 KiB buffer per connection.
_TLS_READ_BUFFER = 16 * 1024


def trim_tls_buffer(writer: asyncio.StreamWriter) -> None:
    """Cut asyncio's per-connection TLS read buffer (`SSLProtocol.max_size`, 256 KiB of zeroed memory, resident)
    to one TLS record: 1000 idling TLS clients then cost ~300 MB less. Internals of asyncio.sslproto: when they
    are not there (another Python), nothing is changed."""
    protocol = getattr(writer.transport, "_ssl_protocol", None)
    if protocol is None or not isinstance(getattr(protocol, "_ssl_buffer", None), bytearray):
        return
    protocol.max_size = _TLS_READ_BUFFER
    protocol._ssl_buffer = bytearray(_TLS_READ_BUFFER)
    protocol._ssl_buffer_view = memoryview(protocol._ssl_buffer)


class Connection:
    def __init__(self, services: Services, tls: ssl.SSLContext, implicit_tls: bool,
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.services = services
        self.config = services.settings.imap
        self.tls = tls
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.client = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        self.session = Session(services, client=self.client, secure=implicit_tls, tls_available=not implicit_tls,
                               send=self._send, handlers=HANDLERS)
        self.framer = CommandReader(_BEFORE_LOGIN)
        self.bad_commands = 0
        self.sasl = False
        # Set once COMPRESS DEFLATE succeeded (RFC 4978).
        self.deflate: Deflate | None = None
        # Responses not yet written (see `_flush`).
        self._out: list[bytes] = []
        self._out_size = 0

    async def run(self) -> None:
        try:
            self._write(self.session.greeting())
            await self._loop()
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
            log.debug("imap: connection from %s ended: %r", self.client, exc)
        except Exception:
            log.exception("imap: session with %s failed", self.client)
        finally:
            self.session.close()
            with contextlib.suppress(Exception):
                self._flush()
            self.writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.writer.wait_closed(), 5)

    @property
    def _timeout(self) -> float:
        authenticated = self.session.state in (State.AUTHENTICATED, State.SELECTED)
        return float(self.config.idle_timeout if authenticated else self.config.login_timeout)

    def _write(self, data: bytes) -> None:
        """Queue response octets; `_flush` writes them."""
        self._out.append(data)
        self._out_size += len(data)

    def _flush(self) -> None:
        """Write what is queued as one burst: one write, and one sync flush when COMPRESS is on (RFC 4978 §4)."""
        if not self._out:
            return
        data = self._out[0] if len(self._out) == 1 else b"".join(self._out)
        self._out.clear()
        self._out_size = 0
        self.writer.write(data if self.deflate is None else self.deflate.compress(data))

    async def _send(self, data: bytes) -> None:
        self._write(data)
        if self._out_size > _DRAIN_ABOVE:
            self._flush()
            if self.writer.transport.get_write_buffer_size() > _DRAIN_ABOVE:
                await asyncio.wait_for(self.writer.drain(), self.config.idle_timeout)

    async def _bye(self, text: str) -> None:
        self._write(r.untagged_status("BYE", text))
        self._flush()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.drain(), 10)

    async def _receive(self) -> bytes:
        """The next octets from the client, inflated once COMPRESS is on; b"" when the client closed."""
        while True:
            deflate = self.deflate
            if deflate is not None and deflate.has_input:
                data = deflate.inflate()
                if data:
                    return data
                continue
            data = await self.reader.read(_READ_SIZE)
            if not data or self.deflate is None:
                return data
            self.deflate.feed(data)

    async def _read(self) -> bytes:
        self._flush()
        try:
            async with asyncio.timeout(self._timeout):
                return await self._receive()
        except TimeoutError:
            await self._bye("autologout; idle for too long")
            return b""

    async def _loop(self) -> None:
        while True:
            event = self.framer.next_event()
            if event is None:
                data = await self._read()
                if not data:
                    return
                self.framer.feed(data)
                continue
            if isinstance(event, ContinuationNeeded):
                await self._send(r.continuation("ready for literal data"))
                continue
            if not isinstance(event, CommandFrame):
                if event.fatal:
                    await self._bye(event.message)
                    return
                failure = TooBig(event.message) if event.toobig else Bad(event.message)
                await self._send(error_response(event.tag, failure))
                if not await self._count_bad():
                    return
                continue
            if not await self._command(event.data):
                return

    async def _command(self, data: bytes) -> bool:
        """Run one framed command; False when the connection is to be closed."""
        if self.sasl:
            self.sasl = False
            try:
                response = parse_sasl_response(data)
            except ParseError as exc:
                tag, self.session.pending_tag = self.session.pending_tag, None
                await self._send(error_response(tag or "*", exc))
                self.session.failed_logins += 1
                return await self._check_limits()
            await cmd_auth.sasl_response(self.session, response)
            return await self._check_limits()
        try:
            command = parse_command(data, utf8=self.session.utf8)
        except ParseError as exc:
            # RFC 5182 §2.1: a SEARCH that asked to SAVE and failed, even with BAD, leaves the saved result empty.
            if self.session.selected is not None and _SEARCH_SAVE.match(data):
                self.session.selected.saved = ()
            await self._send(error_response(exc.tag, exc, self.session.utf8))
            return await self._count_bad()
        if isinstance(command, Compress):
            return await self._compress(command)
        if isinstance(command, DoneCommand):
            await self._send(r.untagged_status("BAD", "DONE outside IDLE"))
            return await self._count_bad()
        outcome = await self.session.handle(command)
        return await self._after(outcome)

    async def _compress(self, command: Compress) -> bool:
        """RFC 4978 §3: answer COMPRESS, then deflate everything after the CRLF of the tagged OK, both ways."""
        session = self.session
        failure: Exception | None = None
        if session.state not in (State.AUTHENTICATED, State.SELECTED):
            session.commands_before_login += 1
            failure = Bad("COMPRESS is allowed only after logging in")
        elif self.deflate is not None:
            failure = Refused("DEFLATE compression is already active", "COMPRESSIONACTIVE")
        elif command.mechanism != "DEFLATE":
            failure = Bad(f"unknown compression mechanism {command.mechanism}")
        if failure is not None:
            await self._send(error_response(command.tag, failure, session.utf8))
            return await (self._count_bad() if isinstance(failure, Bad) else self._check_limits())
        await self._send(r.tagged(command.tag, "OK", "DEFLATE active", None, session.utf8))
        # RFC 4978 §3: compression starts after the CRLF of this tagged OK, which itself goes out as it is.
        self._flush()
        self.deflate = Deflate()
        # Whatever the client sent after the command's CRLF is already compressed.
        self.deflate.feed(self.framer.take_buffered())
        return True

    async def _after(self, outcome: Outcome) -> bool:
        if outcome.close:
            self._flush()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.writer.drain(), 10)
            return False
        if outcome.start_tls:
            return await self._start_tls()
        if outcome.sasl:
            self.sasl = True
        if outcome.idle and not await self._idle():
            return False
        return await self._check_limits()

    async def _count_bad(self) -> bool:
        self.bad_commands += 1
        if self.bad_commands >= self.config.max_bad_commands:
            await self._bye("too many bad commands")
            return False
        return await self._check_limits()

    async def _check_limits(self) -> bool:
        session = self.session
        if session.failed_logins >= self.config.max_auth_failures:
            await self._bye("too many failed logins")
            return False
        if session.state is State.NOT_AUTHENTICATED:
            if session.commands_before_login >= self.config.max_unauthenticated_commands:
                await self._bye("too many commands without logging in")
                return False
        elif self.framer.limits is _BEFORE_LOGIN:
            size = self.services.settings.limits.max_message_size
            self.framer.limits = FramingLimits(max_literal=size, max_command=size + 1024 * 1024)
        return True

    async def _start_tls(self) -> bool:
        transport = self.writer.transport
        # Duck-typed: uvloop's transports do not derive from asyncio's classes.
        if hasattr(transport, "pause_reading"):
            transport.pause_reading()
        self._flush()
        await asyncio.wait_for(self.writer.drain(), _TLS_TIMEOUT)
        # RFC 9051 §6.2.1: nothing the client sent after STARTTLS in plaintext is executed.
        buffered = getattr(self.reader, "_buffer", None)
        if isinstance(buffered, bytearray) and buffered:
            log.info("imap: %s sent %d octets after STARTTLS before TLS; discarded", self.client, len(buffered))
            buffered.clear()
        self.framer = CommandReader(_BEFORE_LOGIN)
        try:
            await self.writer.start_tls(self.tls, ssl_handshake_timeout=_TLS_TIMEOUT)
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            log.info("imap: TLS handshake with %s failed: %s", self.client, exc)
            return False
        trim_tls_buffer(self.writer)
        self.session.tls_started()
        return True

    async def _idle(self) -> bool:
        """Wait for DONE, sending updates as they come (RFC 2177). False when the connection is to be closed."""
        subscription = self.session.subscription
        assert subscription is not None
        reading: asyncio.Future[bytes] | None = None
        try:
            while True:
                event = self.framer.next_event()
                if event is not None:
                    if isinstance(event, ContinuationNeeded):
                        self.framer.abort_command()
                    done = isinstance(event, CommandFrame) and event.data.strip().upper() == b"DONE"
                    await cmd_select.idle_done(self.session, done)
                    return True
                if reading is None:
                    reading = asyncio.ensure_future(self._receive())
                self._flush()
                waiting: asyncio.Future[Any] = asyncio.ensure_future(subscription.get())
                pair: set[asyncio.Future[Any]] = {reading, waiting}
                finished, _ = await asyncio.wait(pair, timeout=self.config.idle_timeout,
                                                 return_when=asyncio.FIRST_COMPLETED)
                if waiting in finished:
                    self.session.taken.append(waiting.result())
                    await self._send(await self.session.updates())
                else:
                    waiting.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiting
                if not finished:
                    await self._bye("autologout; idle for too long")
                    return False
                if reading in finished:
                    data = reading.result()
                    reading = None
                    if not data:
                        return False
                    self.framer.feed(data)
        finally:
            if reading is not None and not reading.done():
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reading


async def open_imap(services: Services, endpoint: Endpoint) -> asyncio.Server:
    """The opener for listener kind "imap": STARTTLS on "imap", implicit TLS on "imaps" (RFC 8314 §3.3)."""
    implicit = endpoint.spec.tls == "implicit"
    tls = endpoint.tls
    limit = services.settings.imap.max_connections_per_ip
    # Open connections per client address, on this listener (in every worker).
    limiter = ConnectionLimiter.for_listener(services.peers, endpoint.spec.name, limit)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if implicit:
            trim_tls_buffer(writer)
        connection = Connection(services, tls, implicit, reader, writer)
        client = connection.client
        if limiter.acquire(client) is not None:
            log.warning("imap: refused a connection from %s: %d already open", client, limit)
            writer.write(r.untagged_status("BYE", "too many connections from your address", "UNAVAILABLE"))
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 5)
            return
        try:
            await connection.run()
        finally:
            limiter.release(client)

    return await asyncio.start_server(handle, endpoint.host, endpoint.port, ssl=tls if implicit else None,
                                      reuse_port=endpoint.reuse_port or None)
