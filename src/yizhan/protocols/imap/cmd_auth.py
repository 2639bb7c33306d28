"""STARTTLS (RFC 9051 §6.2.1), LOGIN (§6.2.3) and AUTHENTICATE PLAIN (§6.2.2, RFC 4616) with SASL-IR (RFC 4959).

Invariants: credentials are checked only through `services.auth.login` (lockout and credential cache live there)
and only when the session allows them (TLS, or loopback when configured): otherwise `NO [PRIVACYREQUIRED]`.
A PLAIN authorization identity other than the login's own is refused (no proxy logins). Passwords are never logged.
"""

from __future__ import annotations

import logging

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.replies import Bad, Refused, error_response
from yizhan.protocols.imap.session import Done, Outcome, Session
from yizhan.util.errors import AuthenticationFailed, PermissionDenied

log = logging.getLogger(__name__)


async def starttls(session: Session, command: c.StartTls) -> Done:
    if session.secure:
        raise Bad("TLS is already active")
    if not session.tls_available:
        raise Refused("TLS is not available here", "CANNOT")
    return Done("begin TLS negotiation now", outcome=Outcome(start_tls=True))


async def _login(session: Session, address: str, password: str) -> Done:
    if not session.auth_allowed:
        raise Refused("use STARTTLS (or port 993) before logging in", "PRIVACYREQUIRED")
    try:
        account = await session.services.auth.login(address, password, client=session.client, protocol="imap")
    except AuthenticationFailed:
        session.failed_logins += 1
        raise
    limit = session.config.max_connections_per_account
    if not session.services.sessions.acquire("imap", account.id, limit):
        log.warning("imap: %s refused a session from %s: %d already open", account.address, session.client, limit)
        raise Refused(f"too many IMAP sessions for this account ({limit}); close some and try again", "LIMIT")
    session.logged_in(account)
    return Done("logged in", session.capability_code())


async def login(session: Session, command: c.Login) -> Done:
    return await _login(session, command.username, command.password)


async def authenticate(session: Session, command: c.Authenticate) -> Done:
    if command.mechanism != "PLAIN":
        raise Refused(f"mechanism {command.mechanism} is not supported", "CANNOT")
    if not session.auth_allowed:
        raise Refused("use STARTTLS (or port 993) before logging in", "PRIVACYREQUIRED")
    if command.initial_response is None:
        # RFC 9051 §6.2.2: an empty challenge; the client answers on the next line.
        session.pending_tag = command.tag
        await session.send(b"+ \r\n")
        return Done(silent=True, outcome=Outcome(sasl=True))
    return await _plain(session, command.initial_response)


async def _plain(session: Session, message: bytes) -> Done:
    """RFC 4616 §2: [authzid] NUL authcid NUL passwd, UTF-8."""
    parts = message.split(b"\x00")
    if len(parts) != 3:
        raise Bad("malformed PLAIN response")
    try:
        authzid, authcid, password = (part.decode("utf-8") for part in parts)
    except UnicodeDecodeError:
        raise Bad("PLAIN response is not UTF-8") from None
    if authzid and authzid.lower() != authcid.lower():
        raise PermissionDenied("logging in as another user is not allowed")
    return await _login(session, authcid, password)


async def sasl_response(session: Session, response: bytes | None) -> Outcome:
    """The client's line after `+ ` (None: it cancelled with `*`); sends the tagged response."""
    tag = session.pending_tag or "*"
    session.pending_tag = None
    try:
        if response is None:
            raise Bad("authentication cancelled")
        done = await _plain(session, response)
    except Exception as exc:
        await session.send(error_response(tag, exc, session.utf8))
        return Outcome()
    await session.send(r.tagged(tag, "OK", done.text, done.code))
    return Outcome()
