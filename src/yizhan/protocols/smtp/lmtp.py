"""The LMTP handler (RFC 2033; port 2424, optionally a Unix socket) for sites that keep Postfix at the edge.

- RCPT: a hosted address, alias or catch-all is accepted; unknown `550 5.1.1`; a full mailbox `452 4.2.2`; other
  domains `554 5.7.1` (LMTP never relays).
- DATA: one reply per accepted recipient, in RCPT order (RFC 2033 §4.2): `250` once filed for it, `452 4.2.2` over
  quota, `550 5.1.1` no longer there, `451 4.3.0` for a fault of ours. No SPF or DMARC refusal (the edge MTA
  did that), but a Received field is prepended. Each `250` is written only after the filing returned.
"""

from __future__ import annotations

import logging

from aiosmtpd.smtp import Envelope

from yizhan.protocols.smtp.handler import BaseHandler, declared_size, reverse_path
from yizhan.protocols.smtp.received import received_field
from yizhan.protocols.smtp.replies import clean, reply_for
from yizhan.protocols.smtp.session import SmtpSession, YizhanSMTP

log = logging.getLogger(__name__)


class LmtpHandler(BaseHandler):
    lmtp = True

    async def accept_recipient(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope,
                               address: str) -> None:
        await self.services.submit.check_recipient(address, may_relay=False, size=declared_size(envelope))

    async def receive(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope, raw: bytes) -> str:
        data = received_field(self.trace(server, session, envelope)) + raw
        outcomes = await self.services.submit.receive(data, reverse_path(envelope.mail_from),
                                                      list(envelope.rcpt_tos), requeue_failures=False)
        replies = [f"250 2.1.5 <{clean(o.recipient, 320)}> OK" if o.ok
                   else reply_for(o.error or Exception(), "data") for o in outcomes]
        log.info("lmtp: %d bytes for %d recipient(s), %d filed", len(data), len(outcomes),
                 sum(1 for o in outcomes if o.ok))
        return "\r\n".join(replies)

    def data_failure(self, envelope: Envelope, reply: str) -> str:
        return "\r\n".join(reply for _ in envelope.rcpt_tos) or reply
