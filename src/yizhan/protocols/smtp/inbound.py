"""The inbound MX handler (port 2525 here, 25 in production): mail from the world for the domains hosted here.

- RCPT (services.submit.check_recipient): a hosted address, alias or catch-all is accepted; an unknown one gets
  `550 5.1.1`; a full mailbox `452 4.2.2`; any other domain `554 5.7.1` relay denied — unless the session
  authenticated, in which case the whole transaction is a submission (submission.py rules apply).
- DATA: SPF, DKIM and DMARC (authn.inbound.evaluate). A DMARC `p=reject` verdict is refused with `550 5.7.1` and
  the reason when `smtp.dmarc_reject` is on. Otherwise Authentication-Results fields claiming our authserv-id are
  removed (RFC 8601 §5), ours is prepended, then the Received field (RFC 5321 §4.4) on top, and the message is
  filed (services.submit.receive). `250` only after that returned.
- Recipients that fail when filing: when all fail, the reply is their error (over quota: `452 4.2.2`); when only
  some do, the message is accepted and the queue retries them locally (services/submit.py).
"""

from __future__ import annotations

import logging

from aiosmtpd.smtp import Envelope

from yizhan.authn.inbound import evaluate, remove_forged_results
from yizhan.dns.resolver import Resolver
from yizhan.protocols.smtp.handler import declared_size, reverse_path
from yizhan.protocols.smtp.received import received_field
from yizhan.protocols.smtp.replies import clean, reply_for
from yizhan.protocols.smtp.session import SmtpSession, YizhanSMTP
from yizhan.protocols.smtp.submission import SubmissionHandler
from yizhan.services.runtime import Services

log = logging.getLogger(__name__)


class InboundHandler(SubmissionHandler):
    def __init__(self, services: Services, resolver: Resolver) -> None:
        super().__init__(services)
        self.resolver = resolver

    async def check_sender(self, server: YizhanSMTP, session: SmtpSession, mail_from: str) -> str | None:
        if session.authenticated:
            return await super().check_sender(server, session, mail_from)
        return None

    async def accept_recipient(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope,
                               address: str) -> None:
        if session.authenticated:
            await super().accept_recipient(server, session, envelope, address)
            return
        await self.services.submit.check_recipient(address, may_relay=False, size=declared_size(envelope))

    async def receive(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope, raw: bytes) -> str:
        if session.authenticated:
            return await super().receive(server, session, envelope, raw)
        mail_from = reverse_path(envelope.mail_from)
        verdict = await evaluate(raw, client_ip=server.client_ip, helo=session.host_name or "",
                                 mail_from=mail_from, resolver=self.resolver, authserv_id=self.hostname)
        if verdict.dmarc_reject and self.config.dmarc_reject:
            log.info("%s: refused a message from <%s> at %s: %s", server.protocol_name, clean(mail_from, 320),
                     server.client_ip, verdict.rejection_reason)
            return f"550 5.7.1 {verdict.rejection_reason}"
        data = (received_field(self.trace(server, session, envelope))
                + verdict.authentication_results.encode("utf-8", "replace")
                + remove_forged_results(raw, self.hostname))
        # RFC 7489 §6.3: p=quarantine (or a reject sampled down to it) is filed as junk.
        outcomes = await self.services.submit.receive(data, mail_from, list(envelope.rcpt_tos),
                                                      requeue_failures=True, junk=verdict.dmarc_quarantine)
        failed = [o for o in outcomes if not o.ok]
        if failed and len(failed) == len(outcomes):
            reply = reply_for(failed[0].error or Exception("no outcome"), "data")
            log.info("%s: message from <%s> not filed: %s", server.protocol_name, clean(mail_from, 320), reply)
            return reply
        log.info("%s: accepted %d bytes from <%s> at %s for %d recipient(s); %s", server.protocol_name, len(data),
                 clean(mail_from, 320), server.client_ip, len(outcomes),
                 verdict.authentication_results.split(";", 1)[-1].replace("\r\n\t", " ").strip())
        return "250 2.0.0 OK: message accepted"

