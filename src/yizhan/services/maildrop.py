"""POP3 maildrops: a session's snapshot of an account's INBOX, reading its messages, and deleting at the end.

Invariants:
- A maildrop is a snapshot taken when it is opened (RFC 1939 §4): message numbers 1..n map to the INBOX entries
  that existed then, in UID order. Mail arriving later is shown only by the next maildrop.
- The unique-id of a message (RFC 1939 §7, UIDL) is f"{uidvalidity}.{uid}": printable ASCII, at most 70
  characters, the same in every session while the INBOX keeps its UIDVALIDITY, never given to another message.
- Only one maildrop per account is open at a time in this process (RFC 1939 §8: the exclusive-access lock);
  a second `open` raises `MaildropInUse` until the first is closed.
- Nothing is changed before `commit` (the UPDATE state, RFC 1939 §6): a session that ends any other way deletes
  nothing and flags nothing. `commit` flags retrieved messages \\Seen, flags the marked entries \\Deleted and
  expunges exactly those UIDs through the store, then publishes the change events on the bus (after the store
  committed) and removes blobs no message uses any more.
- Sizes are the stored octet counts of the messages (RFC 1939 §11); `wire_bytes` is what a client receives:
  the stored bytes with bare LF sent as CRLF, never otherwise changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

from yizhan.services.bus import EventBus
from yizhan.store.records import AccountRecord
from yizhan.store.store import Store
from yizhan.util.errors import InvalidInput, NotFound, TemporaryFailure

log = logging.getLogger(__name__)


_AHEAD_COUNT = 16
_AHEAD_BYTES = 256 * 1024


def _read_blobs(read: Callable[[str], bytes], names: list[str]) -> list[bytes | None]:
    """Each blob's bytes, None for one that no longer exists (runs in a thread)."""
    contents: list[bytes | None] = []
    for name in names:
        try:
            contents.append(read(name))
        except FileNotFoundError:
            contents.append(None)
    return contents


class MaildropInUse(TemporaryFailure):
    """Another session holds this account's maildrop (POP3 [IN-USE], RFC 2449 §8.1.2)."""


@dataclass(frozen=True, slots=True)
class DropMessage:
    number: int
    uid: int
    size: int
    blob: str
    unique_id: str


def wire_bytes(raw: bytes) -> bytes:
    """`raw` with every line ending as CRLF (bare LF → CRLF), the form RFC 1939 §3 transmits; else unchanged."""
    if raw.count(b"\n") != raw.count(b"\r\n"):
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return raw


def top_lines(message: bytes, lines: int) -> bytes:
    """The header, the blank line after it, and the first `lines` lines of the body (RFC 1939 §7 TOP).

    `message` must already end its lines with CRLF (see `wire_bytes`).
    """
    end = message.find(b"\r\n\r\n")
    if message.startswith(b"\r\n"):
        end = -2
    elif end < 0:
        return message  # No body: the whole message is header.
    head_end = end + 4
    if lines == 0:
        return message[:head_end]
    position = head_end
    for _ in range(lines):
        found = message.find(b"\r\n", position)
        if found < 0:
            return message
        position = found + 2
    return message[:position]


class Maildrop:
    """One session's snapshot of an INBOX. Numbers given to its methods are 1-based message numbers."""

    def __init__(self, service: MaildropService, account: AccountRecord, folder_id: int,
                 messages: tuple[DropMessage, ...]) -> None:
        self._service = service
        self.account = account
        self.folder_id = folder_id
        self.messages = messages
        self._closed = False
        self._last = 0  # The message read last, to notice a client reading in order.
        self._ahead: dict[int, bytes | None] = {}  # Messages read ahead, by number; None: the blob is gone.

    def message(self, number: int) -> DropMessage:
        if not 1 <= number <= len(self.messages):
            raise NotFound(f"no message {number}")
        return self.messages[number - 1]

    async def read(self, number: int) -> bytes:
        """The message's stored bytes as they are (callers convert with `wire_bytes` to send them).

        A client reading messages in order (RETR 1, 2, 3, ...) gets the following ones read ahead, in the same
        trip to a thread (at most `_AHEAD_COUNT` messages and `_AHEAD_BYTES` octets held per session).
        """
        item = self.message(number)
        if number in self._ahead:
            data = self._ahead.pop(number)
        else:
            sequential = number == self._last + 1
            self._ahead.clear()
            batch = [item]
            if sequential:
                budget = _AHEAD_BYTES - item.size
                for following in self.messages[number : number + _AHEAD_COUNT]:
                    if following.size > budget:
                        break
                    budget -= following.size
                    batch.append(following)
            blobs = self._service.store.blobs
            contents = await asyncio.to_thread(_read_blobs, blobs.read, [m.blob for m in batch])
            data = contents[0]
            self._ahead.update((m.number, content) for m, content in zip(batch[1:], contents[1:], strict=True))
        self._last = number
        if data is None:
            # Removed by another client (IMAP EXPUNGE) since the snapshot, and no other message shares it.
            raise NotFound(f"message {number} was removed by another session")
        return data

    async def commit(self, deleted: set[int], retrieved: Collection[int] = ()) -> int:
        """The UPDATE state: flag the `retrieved` messages \\Seen (as Dovecot does, so IMAP shows them read) and
        remove the `deleted` ones; returns how many were marked for removal.

        Messages already removed by another session count as removed.
        """
        if self._closed:
            raise InvalidInput("the maildrop is closed")
        store = self._service.store
        seen = sorted(self.message(n).uid for n in set(retrieved) - deleted)
        if seen:
            self._service.bus.publish(await store.messages.store_flags(self.folder_id, seen, add=["\\Seen"]))
        uids = sorted(self.message(n).uid for n in deleted)
        if not uids:
            return 0
        flag_events = await store.messages.store_flags(self.folder_id, uids, add=["\\Deleted"])
        self._service.bus.publish(flag_events)
        events, freed = await store.messages.expunge(self.folder_id, uids)
        self._service.bus.publish(events)
        for name in freed:
            await asyncio.to_thread(store.blobs.remove, name)
        removed = sum(len(getattr(event, "uids", ())) for event in events)
        log.info("pop3: %s removed %d of %d messages marked", self.account.address, removed, len(uids))
        return len(uids)

    def close(self) -> None:
        """Release the lock; idempotent. Deletes nothing."""
        if not self._closed:
            self._closed = True
            self._service._release(self.account.id, self)


class MaildropService:
    def __init__(self, store: Store, bus: EventBus) -> None:
        self.store = store
        self.bus = bus
        self._holders: dict[int, Maildrop] = {}

    async def open(self, account: AccountRecord) -> Maildrop:
        """Lock and snapshot the account's INBOX. MaildropInUse when another session holds it."""
        if account.id in self._holders:
            raise MaildropInUse("another session is using this mailbox; try again later")
        # Reserve before the first await, so two logins at once cannot both get the lock.
        placeholder = Maildrop(self, account, 0, ())
        self._holders[account.id] = placeholder
        try:
            inbox = (await self.store.folders.by_special_use([account.id], "inbox")).get(account.id)
            if inbox is None:
                raise NotFound("this account has no INBOX")
            messages: list[DropMessage] = []
            async for entry in self.store.messages.stream(inbox.id):
                messages.append(DropMessage(len(messages) + 1, entry.uid, entry.size, entry.blob,
                                            f"{inbox.uidvalidity}.{entry.uid}"))
        except BaseException:
            self._release(account.id, placeholder)
            raise
        drop = Maildrop(self, account, inbox.id, tuple(messages))
        self._holders[account.id] = drop
        return drop

    def _release(self, account_id: int, drop: Maildrop) -> None:
        if self._holders.get(account_id) is drop:
            del self._holders[account_id]
