"""What every Yizhan SMTP/LMTP handler shares: the EHLO extensions, MAIL and RCPT bookkeeping and limits, and DATA
wrapped so that a fault of ours answers `451 4.3.0` and an accepted message is never half-filed.

Subclasses (inbound.py, submission.py, lmtp.py) decide three things: `check_sender` (MAIL), `accept_recipient`
(RCPT, returning nothing or raising a `util/errors.py` error) and `receive` (DATA: returns the reply).

Invariants:
- Every reply is built by replies.py from an error, or is a fixed success line; `250` after DATA is returned only
  after the services call that made the message durable has returned.
- The filing of a received message runs as its own task, shielded: a client vanishing after the end of DATA does
  not cancel a delivery half-way through (it completes; the client, without its 250, may send again).
- Limits: `max_recipients` per message (`452 4.5.3`), `max_messages_per_session` (`421 4.7.0`, then close).
- Message content is normalised to CRLF line endings (content.py) before anything reads it; large contents are
  normalised in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from aiosmtpd.smtp import Envelope

from yizhan.protocols.smtp.content import normalize_newlines
from yizhan.protocols.smtp.received import Trace
from yizhan.protocols.smtp.replies import (
    INTERNAL_ERROR,
    TOO_MANY_MESSAGES,
    TOO_MANY_RECIPIENTS,
    clean,
    reply_for,
)
from yizhan.protocols.smtp.session import SmtpSession, YizhanSMTP
from yizhan.services.runtime import Services
from yizhan.util.errors import YizhanError

log = logging.getLogger(__name__)

_EXTENSIONS = ("PIPELINING", "ENHANCEDSTATUSCODES")
_THREAD_THRESHOLD = 256 * 1024


def reverse_path(address: str | None) -> str:
    """The envelope sender as the services want it: "" for the null reverse-path "<>" (RFC 5321 §4.5.5)."""
    return "" if not address or address == "<>" else address


def declared_size(envelope: Envelope) -> int:
    """The SIZE= the client declared at MAIL (RFC 1870), 0 when none."""
    for option in envelope.mail_options:
        name, _, value = option.partition("=")
        if name.upper() == "SIZE" and value.isdigit():
            return int(value)
    return 0


class BaseHandler:
    lmtp = False

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self.config = services.settings.smtp
        self.hostname = services.settings.server.hostname
        self._tasks: set[asyncio.Task[Any]] = set()

    # aiosmtpd hooks

    async def handle_EHLO(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        last = responses.pop()  # "250 HELP"
        responses.extend(f"250-{name}" for name in _EXTENSIONS)
        responses.append(last)
        return responses

    async def handle_exception(self, error: Exception) -> str:
        log.error("SMTP session fault: %r", error, exc_info=error)
        return INTERNAL_ERROR

    async def handle_MAIL(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        if session.messages >= self.config.max_messages_per_session:
            log.warning("%s: %s sent %d messages in one session; disconnecting", server.protocol_name,
                        server.client_ip, session.messages)
            server.hang_up_after_reply()
            return TOO_MANY_MESSAGES
        refusal = await self.check_sender(server, session, reverse_path(address))
        if refusal is not None:
            log.info("%s: MAIL FROM <%s> refused for %s: %s", server.protocol_name, clean(address, 320),
                     server.client_ip, refusal)
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= self.config.max_recipients:
            log.info("%s: too many recipients from %s", server.protocol_name, server.client_ip)
            return TOO_MANY_RECIPIENTS
        try:
            await self.accept_recipient(server, session, envelope, address)
        except Exception as exc:
            reply = reply_for(exc, "rcpt")
            if isinstance(exc, YizhanError):
                log.info("%s: RCPT TO <%s> refused for %s: %s", server.protocol_name, clean(address, 320),
                         server.client_ip, reply)
            else:
                log.error("%s: fault checking RCPT TO <%s>: %r", server.protocol_name, clean(address, 320), exc,
                          exc_info=exc)
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope) -> str:
        server.set_phase_timeout()
        session.messages += 1
        content = envelope.original_content or b""
        try:
            raw = (await asyncio.to_thread(normalize_newlines, content) if len(content) > _THREAD_THRESHOLD
                   else normalize_newlines(content))
            return await self._shielded(self.receive(server, session, envelope, raw))
        except Exception as exc:
            if not isinstance(exc, YizhanError):
                log.error("%s: fault receiving a message from %s: %r", server.protocol_name, server.client_ip, exc,
                          exc_info=exc)
            return self.data_failure(envelope, reply_for(exc, "data"))

    # For subclasses

    async def check_sender(self, server: YizhanSMTP, session: SmtpSession, mail_from: str) -> str | None:
        """The refusal reply for MAIL FROM, or None to accept it."""
        return None

    async def accept_recipient(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope,
                               address: str) -> None:
        raise NotImplementedError

    async def receive(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope, raw: bytes) -> str:
        raise NotImplementedError

    def data_failure(self, envelope: Envelope, reply: str) -> str:
        """The reply to DATA when receiving failed as a whole (LMTP repeats it for each recipient)."""
        return reply

    # Helpers

    def trace(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope) -> Trace:
        return Trace(helo=session.host_name or "", client_ip=server.client_ip, hostname=self.hostname,
                     lmtp=self.lmtp, extended=session.extended_smtp, utf8=bool(envelope.smtp_utf8),
                     tls=server.tls_description, authenticated=bool(session.authenticated),
                     recipients=tuple(envelope.rcpt_tos))

    async def _shielded(self, work: Coroutine[Any, Any, str]) -> str:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        # A task whose client left is nobody's to await: its failure is logged here.
        if not task.cancelled() and task.exception() is not None:
            log.debug("receiving task ended with %r", task.exception())
