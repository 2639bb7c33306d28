"""Mailbox use cases for IMAP (and later the web): folders, snapshots, fetch data, flags, expunge, append, copy.

Invariants:
- Callers name an account they have authenticated; every folder is looked up within that account, so one
  account can never reach another's mail (a folder id is only accepted after `folder` or `open` returned it).
- Every change goes through the store (one transaction each) and its events are published on the bus only after
  the store returned, i.e. after commit; blobs no message uses any more are removed after that.
- `append` and `copy` return only when the new entries are durable (ingest group commit), so a protocol may then
  acknowledge (IMAP `OK [APPENDUID ...]`).
- Search (`search_matching`, `search_rows`, `text_condition`) reads only the named folder; a text criterion becomes
  an index match that is proven (the query is one word or one CJK run, found in a column that holds exactly the
  text searched) or only a "maybe", so the caller reads a message only when the index cannot decide.
- Folder names use "/" as the hierarchy delimiter; a name with an empty level, a control character, a wildcard
  (`*`, `%`) or more than `MAX_NAME` characters is refused with InvalidInput. Creating or renaming to a name whose
  superiors do not exist creates them (RFC 9051 §6.3.4).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from yizhan.mail.tokens import column_expression, index_tokens
from yizhan.services.bus import EventBus
from yizhan.services.prepare import prepare_and_keep_in_thread, prepare_in_thread
from yizhan.store.events import FlagsChanged, MessagesExpunged
from yizhan.store.folders import canonical_name
from yizhan.store.imapsearch import Cond, Const, ImapSearch, SearchRow, TextMatch
from yizhan.store.ingest import NewEntry
from yizhan.store.mailview import EntryData, EntryState, MailView
from yizhan.store.messages import flag_bits
from yizhan.store.records import FolderRecord, StoredEntry
from yizhan.store.store import Store
from yizhan.util.clock import to_seconds
from yizhan.util.errors import AlreadyExists, InvalidInput, NotFound, YizhanError

log = logging.getLogger(__name__)

DELIMITER = "/"
MAX_NAME = 1000
MAX_DEPTH = 32
SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")
# RFC 6154 §2 attributes ↔ the store's special_use values.
SPECIAL_USES = {"\\Sent": "sent", "\\Drafts": "drafts", "\\Trash": "trash", "\\Junk": "junk",
                "\\Archive": "archive"}
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f*%]")
# Where the index holds each searched field (RFC 9051 §6.4.4), and whether that column holds exactly that field.
_TEXT_COLUMNS: dict[str, tuple[tuple[str, ...], bool]] = {
    "text": (("subject", "sender", "recipients", "body", "attachments"), True),
    "body": (("body", "attachments"), True),
    "subject": (("subject",), True),
    "from": (("sender",), False),
    "to": (("recipients",), False),
    "cc": (("recipients",), False),
    "bcc": (("recipients",), False),
}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A folder as a SELECT sees it: its record and its entries in UID order."""

    folder: FolderRecord
    entries: list[EntryState]


@dataclass(frozen=True, slots=True)
class Appended:
    uidvalidity: int
    uid: int


@dataclass(frozen=True, slots=True)
class Copied:
    """RFC 4315 COPYUID: the destination's UIDVALIDITY and source → destination UIDs, in source order."""

    uidvalidity: int
    source_uids: tuple[int, ...]
    target_uids: tuple[int, ...]


def checked_name(name: str) -> str:
    """The canonical form of a folder name, or InvalidInput."""
    name = canonical_name(name)
    if not name or len(name) > MAX_NAME or _BAD_NAME.search(name):
        raise InvalidInput("invalid folder name")
    levels = name.split(DELIMITER)
    if "" in levels or len(levels) > MAX_DEPTH:
        raise InvalidInput("invalid folder name")
    return name


def single_segment(value: str) -> bool:
    """Whether `value` is one word or one CJK run for the index (`mail.tokens`), so that an index match of it
    proves it is a substring of the indexed text (up to case and NFKC)."""
    norm = unicodedata.normalize("NFKC", value).lower()
    tokens = index_tokens(value)
    if tokens == [norm]:
        return True
    # A CJK run of n characters is indexed as its n - 1 pairs and its last character.
    if len(tokens) < 2 or len(tokens[-1]) != 1 or any(len(token) != 2 for token in tokens[:-1]):
        return False
    return "".join(token[0] for token in tokens[:-1]) + tokens[-1] == norm


def _remove_each(store: Store, names: list[str]) -> None:
    """Remove blobs no message uses any more (blocking: one worker-thread call for all of them)."""
    for name in names:
        try:
            store.blobs.remove(name)
        except OSError as exc:
            log.warning("could not remove blob %s: %s", name[:12], exc)


def _superiors(name: str) -> list[str]:
    levels = name.split(DELIMITER)
    return [DELIMITER.join(levels[:i]) for i in range(1, len(levels))]


class MailboxService:
    def __init__(self, store: Store, bus: EventBus, max_message_size: int = 50 * 1024 * 1024) -> None:
        self.store = store
        self.bus = bus
        self.view = MailView(store.db, store.blobs)
        self.imapsearch = ImapSearch(store.db)
        self.max_message_size = max_message_size

    # --- Folders ---

    async def folders(self, account_id: int) -> list[FolderRecord]:
        return await self.store.folders.of_account(account_id)

    async def folder(self, account_id: int, name: str) -> FolderRecord:
        found = await self.store.folders.get(account_id, canonical_name(name))
        if found is None:
            raise NotFound(f"no folder {name}")
        return found

    async def create(self, account_id: int, name: str, special_use: Iterable[str] = ()) -> FolderRecord:
        """Create a folder (and its missing superiors); `special_use` holds RFC 6154 attributes such as `\\Sent`."""
        name = checked_name(name)
        uses = []
        for attribute in special_use:
            # Attribute names are case-insensitive (RFC 6154 §2, RFC 9051 §7.3.1).
            use = SPECIAL_USES.get("\\" + attribute[1:].capitalize() if attribute.startswith("\\") else attribute)
            if use is None:
                raise InvalidInput(f"special use {attribute} is not supported")
            uses.append(use)
        if len(uses) > 1:
            raise InvalidInput("a folder has at most one special use")
        if name == "INBOX" or await self.store.folders.get(account_id, name) is not None:
            raise AlreadyExists(f"folder {name} already exists")
        await self._create_superiors(account_id, name)
        folder, events = await self.store.folders.create(account_id, name, uses[0] if uses else None)
        self.bus.publish(events)
        return folder

    async def _create_superiors(self, account_id: int, name: str) -> None:
        for superior in _superiors(name):
            if await self.store.folders.get(account_id, superior) is None:
                try:
                    _, events = await self.store.folders.create(account_id, superior)
                except AlreadyExists:
                    continue  # Created meanwhile by another session: what we wanted.
                self.bus.publish(events)

    async def delete(self, account_id: int, name: str) -> None:
        """Delete a folder and its messages (RFC 9051 §6.3.5); its subfolders stay. INBOX cannot be deleted."""
        name = canonical_name(name)
        if name == "INBOX":
            raise InvalidInput("INBOX cannot be deleted")
        events, freed, _ = await self.store.folders.delete(account_id, name)
        self.bus.publish(events)
        await self._remove_blobs(freed)

    async def rename(self, account_id: int, old: str, new: str) -> None:
        """Rename a folder with its subfolders (RFC 9051 §6.3.6); superiors of the new name are created."""
        old = canonical_name(old)
        new = checked_name(new)
        if old == "INBOX" or new == "INBOX":
            raise InvalidInput("renaming to or from INBOX is not supported")
        if new == old or new.startswith(old + DELIMITER):
            raise InvalidInput("a folder cannot be renamed into itself")
        if await self.store.folders.get(account_id, new) is not None:
            raise AlreadyExists(f"folder {new} already exists")
        events = await self.store.folders.rename(account_id, old, new)
        self.bus.publish(events)
        await self._create_superiors(account_id, new)

    async def subscribe(self, account_id: int, name: str, subscribed: bool) -> None:
        await self.store.folders.set_subscribed(account_id, canonical_name(name), subscribed)

    # --- A selected folder ---

    async def open(self, account_id: int, name: str) -> Snapshot:
        """The folder and its entries now. Subscribe to the bus first, so no change falls between."""
        found = await self.view.open(account_id, canonical_name(name))
        if found is None:
            raise NotFound(f"no folder {name}")
        return Snapshot(*found)

    async def refresh(self, folder: FolderRecord) -> Snapshot:
        """A new snapshot of a folder already opened (after the bus overflowed)."""
        current = await self.store.folders.get_by_id(folder.id)
        if current is None or current.account_id != folder.account_id:
            raise NotFound(f"folder {folder.name} no longer exists")
        return Snapshot(current, await self.view.states(folder.id))

    async def fetch_data(self, folder: FolderRecord, uids: Sequence[int], with_raw: bool = False
                         ) -> list[EntryData]:
        """What FETCH may answer of these entries; with `with_raw`, their bytes too (None for one whose blob is
        gone: it was expunged and removed meanwhile)."""
        return await self.view.data(folder.id, uids, with_raw)

    async def search_matching(self, folder: FolderRecord, cond: Cond, min_uid: int = 1,
                              max_uid: int | None = None) -> list[tuple[int, int, bool]]:
        """(UID, MODSEQ, undecided) of the folder's entries that match `cond` or may (see store.imapsearch)."""
        return await self.imapsearch.matching(folder.id, cond, min_uid, max_uid)

    async def search_rows(self, folder: FolderRecord, uids: Sequence[int], with_envelope: bool = False,
                          ) -> list[SearchRow]:
        """What SEARCH's criteria look at for these entries, to decide what SQL could not."""
        return await self.imapsearch.rows(folder.id, uids, with_envelope)

    @staticmethod
    def text_condition(field: str, value: str) -> Cond:
        """The search index's answer to "does `field` contain `value`" as a condition: a match where the index
        holds the field (proven when the value is a single word or CJK run and the column holds exactly that
        field, else "maybe"), or undecided (an unindexed header, a value without a word).

        `field` is "text", "body" or a lower-cased header name. Words match where they start (as the index
        stores words), CJK text anywhere.
        """
        columns = _TEXT_COLUMNS.get(field)
        if columns is None:
            return Const(None)
        expression = column_expression(columns[0], value, prefix=True)
        if expression is None:
            return Const(None)
        return TextMatch(expression, columns[1] and single_segment(value))

    async def vanished(self, folder: FolderRecord, modseq: int) -> list[int]:
        """UIDs expunged from the folder after `modseq` (RFC 7162 §3.2.10 VANISHED (EARLIER))."""
        return await self.view.expunged_since(folder.id, modseq)

    def read_blocking(self, blob: str) -> bytes | None:
        """The raw bytes of a message, or None when gone; blocking: only for worker threads (`asyncio.to_thread`)."""
        try:
            return self.store.blobs.read(blob)
        except FileNotFoundError:
            return None

    async def read(self, blob: str) -> bytes:
        """The raw bytes of a message; NotFound when the blob is gone (expunged and removed meanwhile)."""
        try:
            return await self.store.blobs.aread(blob)
        except FileNotFoundError:
            raise NotFound("the message no longer exists") from None

    async def store_flags(self, folder: FolderRecord, uids: Sequence[int], mode: Literal["replace", "add", "remove"],
                          flags: Sequence[str], unchangedsince: int | None = None,
                          modified: list[int] | None = None) -> dict[int, tuple[int, tuple[str, ...]]]:
        """Change flags; returns {uid: (modseq, flags)} for the entries that changed (RFC 9051 §6.4.6). With
        `unchangedsince`, entries changed after that MODSEQ are left alone and listed in `modified` (RFC 7162)."""
        wanted = [f for f in flags if f != "\\Recent"]
        if mode == "replace":
            # FLAGS replaces: these, and no other system flag or keyword (decided inside the transaction).
            events = await self.store.messages.store_flags(folder.id, list(uids), replace=wanted,
                                                           unchangedsince=unchangedsince, modified=modified)
        else:
            events = await self.store.messages.store_flags(
                folder.id, list(uids), add=wanted if mode == "add" else (),
                remove=wanted if mode == "remove" else (), unchangedsince=unchangedsince, modified=modified)
        self.bus.publish(events)
        return {e.uid: (e.modseq, e.flags) for e in events if isinstance(e, FlagsChanged)}

    async def expunge(self, folder: FolderRecord, uids: Sequence[int] | None = None) -> list[int]:
        """Remove the entries flagged \\Deleted (only among `uids` when given); returns the UIDs removed."""
        return (await self.expunge_modseq(folder, uids))[0]

    async def expunge_modseq(self, folder: FolderRecord, uids: Sequence[int] | None = None,
                             ) -> tuple[list[int], int | None]:
        """`expunge`, with the MODSEQ the removal took (None when nothing was removed)."""
        events, freed = await self.store.messages.expunge(folder.id, None if uids is None else list(uids))
        self.bus.publish(events)
        await self._remove_blobs(freed)
        gone = [e for e in events if isinstance(e, MessagesExpunged)]
        return sorted(uid for e in gone for uid in e.uids), max((e.modseq for e in gone), default=None)

    async def _remove_blobs(self, names: list[str]) -> None:
        if names:
            await asyncio.to_thread(_remove_each, self.store, names)

    # --- New entries ---

    async def append(self, account_id: int, name: str, raw: bytes, flags: Sequence[str] = (),
                     internal_date: datetime.datetime | None = None) -> Appended:
        """File `raw` into a folder (RFC 9051 §6.3.12); returns once durable. NotFound if the folder is missing."""
        uidvalidity, uids = await self.append_many(account_id, name, [(raw, flags, internal_date)])
        return Appended(uidvalidity, uids[0])

    async def append_many(self, account_id: int, name: str,
                          messages: Sequence[tuple[bytes, Sequence[str], datetime.datetime | None]],
                          ) -> tuple[int, list[int]]:
        """File several messages at once, all or nothing (RFC 3502 MULTIAPPEND): (UIDVALIDITY, their UIDs).

        Every size is checked before anything is written; the entries go to the store in one ingest request, and
        if any of them cannot be filed, those that were are expunged again before the error is raised.
        """
        for raw, _, _ in messages:
            if len(raw) > self.max_message_size:
                raise InvalidInput(f"message of {len(raw)} bytes exceeds the limit of {self.max_message_size}")
        folder = await self.folder(account_id, name)
        entries: list[NewEntry] = []
        for raw, flags, internal_date in messages:
            prepared, blob = await prepare_and_keep_in_thread(self.store, raw)
            bits, keywords = flag_bits(f for f in flags if f != "\\Recent")
            entries.append(NewEntry(account_id=account_id, folder_id=folder.id, blob=blob, size=len(raw),
                                    internal_date=to_seconds(internal_date), parsed=prepared.parsed,
                                    thread_subject=prepared.thread_subject, search=prepared.search, flags=bits,
                                    keywords=keywords))
        results, events = await self.store.ingest.add(entries)
        self.bus.publish(events)
        stored = [result for result in results if isinstance(result, StoredEntry)]
        failed = [result for result in results if not isinstance(result, StoredEntry)]
        if failed:
            if stored:
                uids = [entry.uid for entry in stored]
                self.bus.publish(await self.store.messages.store_flags(folder.id, uids, add=["\\Deleted"]))
                await self.expunge(folder, uids)
            raise failed[0]
        return folder.uidvalidity, [entry.uid for entry in stored]

    async def copy(self, account_id: int, source: FolderRecord, uids: Sequence[int], target_name: str) -> Copied:
        """Copy entries, with their flags and internal dates, into another folder of the account (RFC 9051 §6.4.7)."""
        target = await self.folder(account_id, target_name)
        found = await self.view.data(source.id, uids)
        entries: list[NewEntry] = []
        for item in found:
            raw = await self.read(item.blob)
            # Written again (a no-op when present): the blob must be durable before a new row points at it.
            await self.store.blobs.aput(raw)
            prepared = await prepare_in_thread(raw)
            bits, keywords = flag_bits(item.flags)
            entries.append(NewEntry(account_id=account_id, folder_id=target.id, blob=item.blob, size=item.size,
                                    internal_date=item.internal_date, parsed=prepared.parsed,
                                    thread_subject=prepared.thread_subject, search=prepared.search, flags=bits,
                                    keywords=keywords))
        results, events = await self.store.ingest.add(entries)
        self.bus.publish(events)
        errors: list[YizhanError] = [r for r in results if not isinstance(r, StoredEntry)]
        if errors:
            raise errors[0]
        stored = [r for r in results if isinstance(r, StoredEntry)]
        return Copied(target.uidvalidity, tuple(i.uid for i in found), tuple(s.uid for s in stored))
