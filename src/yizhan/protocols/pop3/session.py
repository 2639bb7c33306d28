"""The POP3 session state machine: AUTHORIZATION → TRANSACTION → UPDATE (RFC 1939 §3).

A session takes parsed commands and returns an `Outcome` (bytes to send, and what the connection must do next);
it never touches the socket, so the connection (server.py) owns all I/O and limits.

Invariants:
- Credentials (USER, PASS, AUTH) are refused before TLS unless `pop3.allow_insecure_auth` (RFC 2595 §2.4 spirit;
  our rule: credentials only over TLS). Every login goes through `services.auth` (lockout, logging).
- After a login the maildrop is opened, locked and snapshotted; the lock is released by `close`, whatever happens.
- DELE only marks; messages are removed only when QUIT enters the UPDATE state (RFC 1939 §6), which also flags
  the messages retrieved with RETR \\Seen (TOP does not). A session that ends any other way (dropped connection,
  timeout, too many bad commands) deletes and flags nothing.
- Marked messages cannot be read or listed (RFC 1939 §5); RSET unmarks them all.
"""

from __future__ import annotations

import base64
import binascii
import enum
import logging
from dataclasses import dataclass

from yizhan.protocols.pop3 import commands as c
from yizhan.protocols.pop3.replies import err, error_reply, message_reply, multiline, ok, stuffed
from yizhan.services.maildrop import Maildrop, top_lines, wire_bytes
from yizhan.services.runtime import Services
from yizhan.util.errors import AuthenticationFailed, NotFound, YizhanError

log = logging.getLogger(__name__)

IMPLEMENTATION = "Yizhan"
_INSECURE = "plaintext authentication is not allowed before TLS: use STLS or port pop3s"


class State(enum.Enum):
    AUTHORIZATION = "authorization"
    TRANSACTION = "transaction"
    UPDATE = "update"


@dataclass(frozen=True, slots=True)
class Outcome:
    data: bytes
    close: bool = False  # Close the connection after sending.
    start_tls: bool = False  # Begin TLS after sending (STLS).
    continuation: bool = False  # The next line is a SASL response for `sasl_response`, not a command.
    bad: bool = False  # Counts towards the bad-command limit.
    failed_login: bool = False  # Counts towards the failed-login limit of the session.


class Session:
    def __init__(self, services: Services, *, client: str, secure: bool, tls_available: bool) -> None:
        self.services = services
        self.client = client
        self.secure = secure
        self.tls_available = tls_available
        self.state = State.AUTHORIZATION
        self.user: str | None = None
        self.maildrop: Maildrop | None = None
        self.deleted: set[int] = set()
        self.retrieved: set[int] = set()  # RETR'd messages, flagged \Seen at QUIT (not TOP's: a peek)

    # Connection events

    def greeting(self) -> bytes:
        return ok(f"{self.services.settings.server.hostname} Yizhan POP3 ready")

    def tls_started(self) -> None:
        """STLS succeeded: the session starts over in AUTHORIZATION with nothing remembered (RFC 2595 §4)."""
        self.secure = True
        self.user = None

    def close(self) -> None:
        """The connection is gone: release the maildrop, deleting nothing."""
        if self.maildrop is not None:
            self.maildrop.close()
            self.maildrop = None

    # Commands

    async def handle(self, command: c.Command) -> Outcome:
        try:
            if isinstance(command, c.Quit):
                return await self._quit()
            if isinstance(command, c.Capa):
                return Outcome(multiline(ok("capability list follows"), self._capabilities()))
            if self.state is State.AUTHORIZATION:
                return await self._authorization(command)
            return await self._transaction(command)
        except YizhanError as exc:
            return Outcome(error_reply(exc))

    def _capabilities(self) -> list[str]:
        # RFC 2449 §6; USER and SASL only where credentials are accepted (RFC 2595 §2.4 spirit).
        names = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER"]
        if self.state is State.AUTHORIZATION:
            if self._credentials_allowed():
                names += ["USER", "SASL PLAIN"]
            if not self.secure and self.tls_available:
                names.append("STLS")
        names.append(f"IMPLEMENTATION {IMPLEMENTATION}")
        return names

    def _credentials_allowed(self) -> bool:
        return self.secure or self.services.settings.pop3.allow_insecure_auth

    async def _authorization(self, command: c.Command) -> Outcome:
        if isinstance(command, c.Stls):
            if self.secure or not self.tls_available:
                return Outcome(err("TLS is already active" if self.secure else "TLS is not available here"))
            return Outcome(ok("Begin TLS negotiation"), start_tls=True)
        if isinstance(command, c.User | c.Pass | c.Auth) and not self._credentials_allowed():
            return Outcome(err(_INSECURE, "AUTH"), bad=True)
        if isinstance(command, c.User):
            self.user = command.name
            return Outcome(ok("send PASS"))
        if isinstance(command, c.Pass):
            if self.user is None:
                return Outcome(err("send USER first"), bad=True)
            user, self.user = self.user, None
            return await self._login(user, command.password)
        if isinstance(command, c.Auth):
            return await self._auth(command)
        return Outcome(err("not allowed before login"), bad=True)

    async def _auth(self, command: c.Auth) -> Outcome:
        if command.mechanism is None:
            return Outcome(multiline(ok("SASL mechanisms follow"), ["PLAIN"]))
        if command.mechanism != "PLAIN":
            return Outcome(err("unsupported SASL mechanism"), bad=True)
        if command.initial is None:
            return Outcome(b"+ \r\n", continuation=True)  # RFC 5034 §4: an empty challenge.
        return await self._plain(command.initial.encode("ascii", "replace"))

    async def sasl_response(self, line: bytes) -> Outcome:
        """The client's answer to the AUTH PLAIN challenge."""
        if line.strip() == b"*":
            return Outcome(err("authentication cancelled"))  # RFC 5034 §4
        return await self._plain(line.strip())

    async def _plain(self, encoded: bytes) -> Outcome:
        # RFC 4616: [authzid] NUL authcid NUL passwd, base64 encoded; "=" is an empty response (RFC 5034 §4).
        try:
            decoded = b"" if encoded == b"=" else base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return Outcome(err("invalid base64 in SASL response"), bad=True)
        parts = decoded.split(b"\0")
        if len(parts) != 3:
            return Outcome(err("malformed PLAIN response", "AUTH"), failed_login=True)
        authzid, authcid, password = (p.decode("utf-8", "surrogateescape") for p in parts)
        if authzid and authzid.lower() != authcid.lower():
            return Outcome(err("acting as another user is not allowed", "AUTH"), failed_login=True)
        return await self._login(authcid, password)

    async def _login(self, address: str, password: str) -> Outcome:
        try:
            account = await self.services.auth.login(address, password, client=self.client, protocol="pop3")
        except AuthenticationFailed as exc:
            return Outcome(error_reply(exc), failed_login=True)
        except YizhanError as exc:
            return Outcome(error_reply(exc))
        try:
            self.maildrop = await self.services.maildrop.open(account)
        except YizhanError as exc:
            log.info("pop3: maildrop of %s not opened: %s", account.address, exc)
            return Outcome(error_reply(exc))
        self.state = State.TRANSACTION
        log.info("pop3: %s logged in from %s (%d messages)", account.address, self.client,
                 len(self.maildrop.messages))
        return Outcome(ok(self._drop_summary()))

    def _drop_summary(self) -> str:
        count, size = self._totals()
        return f"maildrop has {count} messages ({size} octets)"

    def _totals(self) -> tuple[int, int]:
        assert self.maildrop is not None
        kept = [m for m in self.maildrop.messages if m.number not in self.deleted]
        return len(kept), sum(m.size for m in kept)

    def _live(self, number: int) -> int:
        """`number` if it names a message not marked deleted; NotFound otherwise."""
        assert self.maildrop is not None
        self.maildrop.message(number)
        if number in self.deleted:
            raise NotFound(f"message {number} is deleted")
        return number

    async def _transaction(self, command: c.Command) -> Outcome:
        drop = self.maildrop
        assert drop is not None
        if isinstance(command, c.Retr):
            item = drop.message(self._live(command.number))
            raw = await drop.read(item.number)
            self.retrieved.add(item.number)
            return Outcome(message_reply(ok(f"{item.size} octets"), raw))
        if isinstance(command, c.Top):
            item = drop.message(self._live(command.number))
            raw = await drop.read(item.number)
            return Outcome(stuffed(ok("top of message follows"), top_lines(wire_bytes(raw), command.lines)))
        if isinstance(command, c.Stat):
            count, size = self._totals()
            return Outcome(ok(f"{count} {size}"))
        if isinstance(command, c.List | c.Uidl):
            return self._listing(command)
        if isinstance(command, c.Dele):
            self.deleted.add(self._live(command.number))
            return Outcome(ok(f"message {command.number} deleted"))
        if isinstance(command, c.Noop):
            return Outcome(ok())
        if isinstance(command, c.Rset):
            self.deleted.clear()
            return Outcome(ok(self._drop_summary()))
        return Outcome(err("not allowed after login"), bad=True)

    def _listing(self, command: c.List | c.Uidl) -> Outcome:
        drop = self.maildrop
        assert drop is not None

        def value(number: int) -> str:
            item = drop.message(number)
            return str(item.size) if isinstance(command, c.List) else item.unique_id

        if command.number is not None:
            number = self._live(command.number)
            return Outcome(ok(f"{number} {value(number)}"))
        count, size = self._totals()
        lines = [f"{m.number} {value(m.number)}" for m in drop.messages if m.number not in self.deleted]
        first = ok(f"{count} messages ({size} octets)") if isinstance(command, c.List) else ok("unique-id listing")
        return Outcome(multiline(first, lines))

    async def _quit(self) -> Outcome:
        if self.state is not State.TRANSACTION or self.maildrop is None:
            return Outcome(ok("Yizhan POP3 signing off"), close=True)
        # RFC 1939 §6: the UPDATE state removes the marked messages, then the session ends either way.
        self.state = State.UPDATE
        drop = self.maildrop
        try:
            removed = await drop.commit(self.deleted, self.retrieved)
        except Exception as exc:
            if isinstance(exc, YizhanError | OSError):
                log.warning("pop3: %s: removing marked messages failed: %s", drop.account.address, exc)
            else:
                log.exception("pop3: %s: removing marked messages failed", drop.account.address)
            return Outcome(err("some deleted messages not removed", "SYS/TEMP"), close=True)
        finally:
            self.close()
        return Outcome(ok(f"Yizhan POP3 signing off ({removed} messages deleted)"), close=True)
