"""The submission handler (RFC 6409; ports 2587 with STARTTLS and 2465 with implicit TLS, RFC 8314).

- MAIL before AUTH: `530 5.7.0`. AUTH itself is offered only over TLS (session.py).
- The envelope sender must be an address the account owns (services/senders.py), else `553 5.7.1` at MAIL; the
  From header likewise, checked after DATA.
- Any recipient is accepted (an authenticated user may relay), except an unknown or full mailbox of a domain
  hosted here, refused at RCPT.
- After DATA: Date and Message-ID added when missing (RFC 6409 §8), a Received field prepended, then
  `services.submit.submit` files local recipients and queues the others in one entry; 250 after it returned.
"""

from __future__ import annotations

import logging

from aiosmtpd.smtp import Envelope

from yizhan.mail.addresses import parse_address_list
from yizhan.protocols.smtp.content import complete_submission, header_values
from yizhan.protocols.smtp.handler import BaseHandler, reverse_path
from yizhan.protocols.smtp.received import received_field
from yizhan.protocols.smtp.replies import AUTH_REQUIRED, clean, reply_for
from yizhan.protocols.smtp.session import SmtpSession, YizhanSMTP
from yizhan.services.submit import domain_of
from yizhan.store.records import AccountRecord
from yizhan.util.errors import PermissionDenied

log = logging.getLogger(__name__)


class SubmissionHandler(BaseHandler):
    async def check_sender(self, server: YizhanSMTP, session: SmtpSession, mail_from: str) -> str | None:
        account = _account(session)
        if account is None:
            return AUTH_REQUIRED
        try:
            await self.services.submit.senders.check(account, [mail_from] if mail_from else [])
        except PermissionDenied as exc:
            return reply_for(exc, "mail")
        return None

    async def accept_recipient(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope,
                               address: str) -> None:
        await self.services.submit.check_recipient(address, may_relay=True)

    async def receive(self, server: YizhanSMTP, session: SmtpSession, envelope: Envelope, raw: bytes) -> str:
        account = _account(session)
        if account is None:  # cannot happen: MAIL needs AUTH
            return AUTH_REQUIRED
        senders = [a.addr for value in header_values(raw, "From") for a in parse_address_list(value)]
        try:
            await self.services.submit.senders.check(account, senders)
        except PermissionDenied as exc:
            log.info("%s: From header refused for %s: %s", server.protocol_name, account.address, exc)
            return reply_for(exc, "data")
        mail_from = reverse_path(envelope.mail_from)
        data = complete_submission(raw, domain_of(mail_from or account.address))
        data = received_field(self.trace(server, session, envelope)) + data
        await self.services.submit.submit(account, data, mail_from, list(envelope.rcpt_tos))
        log.info("%s: accepted %d bytes from %s for %d recipient(s)", server.protocol_name, len(data),
                 clean(account.address, 320), len(envelope.rcpt_tos))
        return "250 2.0.0 OK: message accepted"


def _account(session: SmtpSession) -> AccountRecord | None:
    return session.account if session.authenticated else None
