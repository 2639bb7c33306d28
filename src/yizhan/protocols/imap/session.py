"""One IMAP session without its socket: the state (RFC 9051 §3), running commands from the table it is given
(dispatch.py), and untagged updates.

The connection (server.py) frames and parses commands and calls `handle`; handlers (the `cmd_*` modules) write
untagged responses through `send` and return the tagged result. Then, for a selected mailbox, the updates other
sessions caused (`selected.Selected`) are sent, and last the tagged response.

Invariants:
- A command runs only in the states RFC 9051 §6 allows (else BAD); nothing but CAPABILITY, NOOP, LOGOUT, ID,
  STARTTLS, LOGIN and AUTHENTICATE runs before authentication.
- Credentials are refused before TLS except from loopback when `imap.loopback_insecure_auth` (LOGINDISABLED is
  advertised then, RFC 9051 §6.2.3); logins go through `services.auth.login` (lockout, credential cache).
- Every failure becomes a reply in `replies.error_response` (the one mapping) and the session carries on.
- Updates are sent before the tagged response of every command in the selected state; EXPUNGE is never sent
  during FETCH, STORE, SEARCH, COPY or MOVE by message number (RFC 9051 §7.5.1).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.replies import Bad, error_response
from yizhan.protocols.imap.selected import Selected
from yizhan.services.bus import Subscription
from yizhan.services.runtime import Services
from yizhan.store.events import Event, FolderDeleted, MessagesExpunged
from yizhan.store.records import AccountRecord
from yizhan.util.errors import NotFound

log = logging.getLogger(__name__)

Send = Callable[[bytes], Awaitable[None]]
SERVER_NAME = "Yizhan"


class State(Enum):
    NOT_AUTHENTICATED = "not authenticated"
    AUTHENTICATED = "authenticated"
    SELECTED = "selected"
    LOGOUT = "logout"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the connection does after the tagged response."""

    close: bool = False
    start_tls: bool = False
    # The session waits for DONE (IDLE) or a SASL response line (AUTHENTICATE) instead of a command.
    idle: bool = False
    sasl: bool = False


@dataclass(frozen=True, slots=True)
class Done:
    """A command's tagged OK (or NO without exception when `status` says so), and what follows it."""

    text: str = "done"
    code: r.Code = None
    outcome: Outcome = Outcome()
    status: str = "OK"
    # Set when the command itself sent its tagged response (IDLE and AUTHENTICATE continue later).
    silent: bool = False


Handler = Callable[["Session", Any], Awaitable[Done]]
# Which command type runs in which states, and by which handler (built in dispatch.py).
Handlers = Mapping[type, tuple[frozenset["State"], Handler]]
ANY = frozenset(State) - {State.LOGOUT}
NOT_AUTH = frozenset({State.NOT_AUTHENTICATED})
AUTH = frozenset({State.AUTHENTICATED, State.SELECTED})
SELECTED = frozenset({State.SELECTED})


def is_loopback(client: str) -> bool:
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False


class Session:
    def __init__(self, services: Services, *, client: str, secure: bool, tls_available: bool, send: Send,
                 handlers: Handlers) -> None:
        self.services = services
        self.handlers = handlers
        self.config = services.settings.imap
        self.client = client
        self.secure = secure
        self.tls_available = tls_available
        self.send = send
        self.state = State.NOT_AUTHENTICATED
        self.account: AccountRecord | None = None
        self.selected: Selected | None = None
        self.subscription: Subscription | None = None
        self.utf8 = False
        self.rev2 = False
        # RFC 7162: CONDSTORE is enabled by ENABLE or by the first command using it; QRESYNC only by ENABLE.
        self.condstore = False
        self.qresync = False
        self.failed_logins = 0
        self.commands_before_login = 0
        # The tag of an AUTHENTICATE or IDLE waiting for its continuation.
        self.pending_tag: str | None = None
        # Bus events already taken off the subscription (by the IDLE wait), not yet turned into updates.
        self.taken: list[Event] = []

    # --- Capabilities and state ---

    @property
    def auth_allowed(self) -> bool:
        return self.secure or (self.config.loopback_insecure_auth and is_loopback(self.client))

    def capabilities(self) -> list[str]:
        caps = ["IMAP4rev1", "IMAP4rev2",
                "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE", "NAMESPACE", "UNSELECT", "UIDPLUS",
                "CHILDREN", "SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS", "MOVE", "UTF8=ACCEPT", "STATUS=SIZE",
                "CREATE-SPECIAL-USE", "ESEARCH", "SEARCHRES", "WITHIN", "CONDSTORE", "QRESYNC", "BINARY",
                "MULTIAPPEND",
                "COMPRESS=DEFLATE", f"APPENDLIMIT={self.services.settings.limits.max_message_size}"]
        if self.state is State.NOT_AUTHENTICATED:
            if self.tls_available and not self.secure:
                caps.append("STARTTLS")
            caps.append("AUTH=PLAIN" if self.auth_allowed else "LOGINDISABLED")
        return caps

    def capability_code(self) -> r.ResponseCode:
        return _capability_code(tuple(self.capabilities()))

    def greeting(self) -> bytes:
        return r.untagged_status("OK", f"{SERVER_NAME} IMAP4 ready", self.capability_code())

    def tls_started(self) -> None:
        self.secure = True
        self.tls_available = False

    def logged_in(self, account: AccountRecord) -> None:
        self.account = account
        self.state = State.AUTHENTICATED
        self.subscription = self.services.bus.subscribe(account.id)
        log.info("imap: %s logged in from %s", account.address, self.client)

    def require_account(self) -> AccountRecord:
        if self.account is None:
            raise Bad("not authenticated")
        return self.account

    def enable_condstore(self) -> None:
        """RFC 7162 §3.1: a CONDSTORE enabling command; from now on FETCH responses with FLAGS carry MODSEQ."""
        self.condstore = True
        if self.selected is not None:
            self.selected.condstore = True

    def require_selected(self) -> Selected:
        if self.selected is None:
            raise Bad("no mailbox selected")
        return self.selected

    def close(self) -> None:
        if self.subscription is not None:
            self.subscription.close()
            self.subscription = None
        if self.account is not None and self.state is not State.LOGOUT:
            # The slot taken at login (cmd_auth), given back once however the session ends.
            self.services.sessions.release("imap", self.account.id)
        self.state = State.LOGOUT

    # --- Commands ---

    async def handle(self, command: c.Command) -> Outcome:
        """Run one command: untagged responses, updates, then the tagged response (all through `send`)."""
        entry = self.handlers.get(type(command))
        if self.state is State.NOT_AUTHENTICATED:
            self.commands_before_login += 1
        try:
            if entry is None:
                raise Bad("command not supported")
            states, handler = entry
            if self.state not in states:
                raise Bad(f"command not allowed in the {self.state.value} state")
            if self.selected is not None:
                # Changes known before the command first, so it works on the numbering the client is told.
                owed = await self.updates(command)
                if owed:
                    await self.send(owed)
            done = await handler(self, command)
        except Exception as exc:
            await self.send(await self.updates(command) + error_response(command.tag, exc, self.utf8))
            return Outcome()
        if done.silent:
            return done.outcome
        tagged = r.tagged(command.tag, done.status, done.text, done.code, self.utf8)
        await self.send(await self.updates(command) + tagged)
        return done.outcome

    async def updates(self, command: c.Command | None = None) -> bytes:
        """The untagged updates owed now; EXPUNGE held back during commands by message number."""
        selected = self.selected
        if selected is None or self.subscription is None:
            return b""
        numbered = isinstance(command, c.Fetch | c.Store | c.Search | c.Copy | c.Move)
        by_number = numbered and not command.uid  # type: ignore[union-attr]
        uid_mode = numbered and not by_number
        events = self.taken + self.subscription.pending()
        self.taken = []
        selected.offer(events)
        if any(isinstance(e, FolderDeleted) and e.folder_id == selected.folder.id for e in events):
            # The selected folder is gone: to this session, every message in it is expunged.
            selected.offer([MessagesExpunged(selected.folder.account_id, selected.folder.id,
                                             tuple(selected.uids), selected.highestmodseq)])
        elif self.subscription.overflowed and not by_number:
            # Events were lost: compare with the store instead (services/bus.py).
            self.subscription.overflowed = False
            try:
                snapshot = await self.services.mailbox.refresh(selected.folder)
            except NotFound:
                snapshot = None
            selected.offer(selected.diff(snapshot.entries if snapshot else []))
        return b"".join(selected.updates(allow_expunge=not by_number, uid_mode=uid_mode))


@functools.lru_cache(maxsize=64)
def _capability_code(names: tuple[str, ...]) -> r.ResponseCode:
    # A handful of distinct lists (by state, TLS and limits), asked for at every greeting and login.
    return r.ResponseCode("CAPABILITY", *(r.Atom(name) for name in names))
