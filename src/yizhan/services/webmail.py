"""The webmail's mailbox use cases (pages and REST API alike): folders by id, sorted and filtered pages of a
folder, search, threads and conversations, and actions on many messages at once.

Build one with `WebmailService.of(services)` (cheap: it holds references only).

Invariants:
- Every call names the signed-in account; a folder id is accepted only after it was looked up within that
  account, and a foreign folder or message is NotFound exactly like a missing one.
- Every change goes through MailboxService or the store's `WebList.move`, and its events are published on the
  bus after commit (IMAP IDLE sessions and open web pages see it).
- Moving is atomic: one transaction moves the entries with their message rows (store/weblist.py), so a crash
  never leaves a message in both folders or in neither. Deleting moves to Trash; in Trash it expunges. Marking as
  spam moves to Junk with `$Junk` set and `$NotJunk` cleared; "not spam" moves to INBOX with `$NotJunk` set and
  `$Junk` cleared. Trash and Junk are created (with their special use) when the account has none.
- Everything has a limit: page sizes 1..MAX_PAGE, at most MAX_ACTION messages per action, cursors are checked.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from yizhan.services.bus import EventBus
from yizhan.services.mailbox import MailboxService
from yizhan.services.search import SearchService
from yizhan.store.records import FolderRecord, MessageSummary
from yizhan.store.weblist import Filter, PageRequest, SortKey, ThreadRow, WebList
from yizhan.util.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from yizhan.services.runtime import Services

Action = Literal["read", "unread", "flag", "unflag", "move", "delete", "spam", "notspam"]
ACTIONS: tuple[str, ...] = get_args(Action)
SORTS: tuple[str, ...] = get_args(SortKey)
FILTERS: tuple[str, ...] = get_args(Filter)
MAX_PAGE = 200
MAX_ACTION = 5000
MAX_OFFSET = 1_000_000
_MAX_CURSOR = 1200
_FLAG_CHANGES: dict[str, tuple[str, str]] = {
    "read": ("add", "\\Seen"), "unread": ("remove", "\\Seen"),
    "flag": ("add", "\\Flagged"), "unflag": ("remove", "\\Flagged"),
}


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message as the web names it: a folder id and a UID ("12:345" in URLs and the API)."""

    folder_id: int
    uid: int

    def __str__(self) -> str:
        return f"{self.folder_id}:{self.uid}"

    @classmethod
    def parse(cls, text: str) -> MessageRef:
        """"folder_id:uid", or InvalidInput."""
        folder, sep, uid = text.strip().partition(":")
        if (not sep or not folder.isdigit() or not uid.isdigit() or len(text) > 40 or not 0 < int(folder) < 1 << 62
                or not 0 < int(uid) < 1 << 32):
            raise InvalidInput(f"message ids look like 12:345 (folder id and UID), not {text[:40]!r}")
        return cls(int(folder), int(uid))


@dataclass(frozen=True, slots=True)
class ListOptions:
    sort: SortKey = "date"
    descending: bool = True
    filter: Filter = "all"
    limit: int = 50
    # An opaque cursor from MessagePage.next_cursor (keyset paging), or an offset.
    cursor: str | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class FolderTotals:
    total: int
    unread: int
    flagged: int


@dataclass(frozen=True, slots=True)
class MessagePage:
    """One page of a folder's list; `next_cursor` is None on the last page; `matching` counts the filter's rows."""

    folder: FolderRecord
    items: list[MessageSummary]
    next_cursor: str | None
    totals: FolderTotals
    matching: int
    offset: int


@dataclass(frozen=True, slots=True)
class ThreadPage:
    """One page of a folder's conversations; `next_cursor` (None on the last page) continues after it."""

    folder: FolderRecord
    threads: list[ThreadRow]
    has_more: bool
    offset: int
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """Search results (newest first) across the account or one folder; `has_more` means another page exists."""

    query: str
    items: list[MessageSummary]
    has_more: bool
    offset: int


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action changed: how many messages, and where moved messages went ({old ref: new ref})."""

    action: str
    changed: int
    moved: dict[MessageRef, MessageRef]
    target_folder_id: int | None = None


def _encode_cursor(sort: str, descending: bool, filter_: str, key: tuple[int | str, int]) -> str:
    data = json.dumps([sort, descending, filter_, key[0], key[1]], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, options: ListOptions) -> tuple[int | str, int]:
    return _decode_key(cursor, options.sort, options.descending, options.filter)


def _decode_key(cursor: str, wanted_sort: str, wanted_descending: bool, wanted_filter: str) -> tuple[int | str, int]:
    problem = InvalidInput("the cursor is not valid for this list: start again from the first page")
    if len(cursor) > _MAX_CURSOR:
        raise problem
    try:
        sort, descending, filter_, key, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise problem from None
    if (sort, descending, filter_) != (wanted_sort, wanted_descending, wanted_filter) or not isinstance(row_id, int):
        raise problem
    if not isinstance(key, str if wanted_sort == "sender" else int) or isinstance(key, bool):
        raise problem
    return key, row_id


class WebmailService:
    def __init__(self, mailbox: MailboxService, search: SearchService, bus: EventBus) -> None:
        self.mailbox = mailbox
        self.searcher = search
        self.bus = bus
        self.lists = WebList(mailbox.store.db)

    @classmethod
    def of(cls, services: Services) -> WebmailService:
        return cls(services.mailbox, services.search, services.bus)

    # --- Folders ---

    async def folders(self, account_id: int) -> list[FolderRecord]:
        return await self.mailbox.folders(account_id)

    async def folder(self, account_id: int, folder_id: int) -> FolderRecord:
        """The account's folder with this id; NotFound for a missing or foreign one."""
        found = await self.mailbox.store.folders.get_by_id(folder_id) if 0 < folder_id < 1 << 62 else None
        if found is None or found.account_id != account_id:
            raise NotFound("no such folder")
        return found

    async def create_folder(self, account_id: int, name: str) -> FolderRecord:
        return await self.mailbox.create(account_id, name.strip())

    async def rename_folder(self, account_id: int, folder_id: int, new_name: str) -> FolderRecord:
        """Rename a folder (with its subfolders); INBOX and the special-use folders keep their names."""
        folder = await self.folder(account_id, folder_id)
        if folder.special_use is not None or folder.name == "INBOX":
            raise InvalidInput("INBOX and the special folders (Sent, Drafts, Trash, Junk, Archive) cannot be renamed")
        await self.mailbox.rename(account_id, folder.name, new_name.strip())
        return await self.folder(account_id, folder_id)

    async def delete_folder(self, account_id: int, folder_id: int) -> None:
        """Delete a folder and its messages; INBOX and the special-use folders stay."""
        folder = await self.folder(account_id, folder_id)
        if folder.special_use is not None or folder.name == "INBOX":
            raise InvalidInput("INBOX and the special folders (Sent, Drafts, Trash, Junk, Archive) cannot be deleted")
        await self.mailbox.delete(account_id, folder.name)

    async def totals(self, folder: FolderRecord) -> FolderTotals:
        return FolderTotals(folder.exists_count, folder.unseen_count, await self.lists.flagged_count(folder.id))

    async def special(self, account_id: int, use: str, name: str) -> FolderRecord:
        """The account's folder with special use `use` (trash, junk, inbox), created as `name` when missing."""
        for folder in await self.mailbox.folders(account_id):
            if (use == "inbox" and folder.name == "INBOX") or folder.special_use == use:
                return folder
        return await self.mailbox.create(account_id, name, ["\\" + name.capitalize()])

    # --- Lists ---

    async def page(self, account_id: int, folder_id: int, options: ListOptions = ListOptions()) -> MessagePage:
        """A page of the folder in the requested order (see store/weblist.py for why it stays fast)."""
        if options.sort not in SORTS or options.filter not in FILTERS:
            raise InvalidInput(f"sort must be one of {', '.join(SORTS)} and filter one of {', '.join(FILTERS)}")
        if not 1 <= options.limit <= MAX_PAGE or not 0 <= options.offset <= MAX_OFFSET:
            raise InvalidInput(f"page size must be 1..{MAX_PAGE} and the offset 0..{MAX_OFFSET}")
        folder = await self.folder(account_id, folder_id)
        after = _decode_cursor(options.cursor, options) if options.cursor else None
        totals = await self.totals(folder)
        matching = {"all": totals.total, "unread": totals.unread, "flagged": totals.flagged}[options.filter]
        account_total = sum(f.exists_count for f in await self.mailbox.folders(account_id))
        rows = await self.lists.page(PageRequest(
            folder_id=folder.id, account_id=account_id, sort=options.sort, descending=options.descending,
            filter=options.filter, limit=options.limit + 1, offset=options.offset, after=after,
            candidates=matching, account_total=account_total), folder.name)
        more = len(rows) > options.limit
        rows = rows[:options.limit]
        cursor = _encode_cursor(options.sort, options.descending, options.filter, rows[-1].key) if more else None
        return MessagePage(folder, [row.summary for row in rows], cursor, totals, matching,
                           0 if after else options.offset)

    async def threads(self, account_id: int, folder_id: int, limit: int = 50, offset: int = 0,
                      cursor: str | None = None) -> ThreadPage:
        """The folder grouped by conversation, newest activity first: from `cursor` (a ThreadPage.next_cursor:
        keyset paging, the same cost at any depth) or from `offset`."""
        if not 1 <= limit <= MAX_PAGE or not 0 <= offset <= MAX_OFFSET:
            raise InvalidInput(f"page size must be 1..{MAX_PAGE} and the offset 0..{MAX_OFFSET}")
        folder = await self.folder(account_id, folder_id)
        after = _decode_key(cursor, "threads", True, "all") if cursor else None
        account_total = sum(f.exists_count for f in await self.mailbox.folders(account_id))
        rows = await self.lists.threads(folder.id, folder.name, limit + 1, 0 if after else offset, account_id,
                                        folder.exists_count, account_total,
                                        (int(after[0]), after[1]) if after else None)
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1].latest if rows else None
        next_cursor = _encode_cursor("threads", True, "all", (last.date, last.thread_id)) if more and last else None
        return ThreadPage(folder, rows, more, 0 if after else offset, next_cursor)

    async def conversation(self, account_id: int, ref: MessageRef) -> list[MessageSummary]:
        """The message's conversation: the account's messages with its thread id, in date order, across folders
        but Trash and Junk (those of the message's own folder are kept)."""
        message = await self.message(account_id, ref)
        names = {f.id: f.name for f in await self.mailbox.folders(account_id)}
        if not message.thread_id:
            return [message]
        return await self.lists.conversation(account_id, message.thread_id, ref.folder_id, names)

    async def message(self, account_id: int, ref: MessageRef) -> MessageSummary:
        """One message's summary; NotFound for a missing or foreign one."""
        try:
            folder = await self.folder(account_id, ref.folder_id)
        except NotFound:
            raise NotFound("no such message") from None
        found = await self.lists.entries(folder.id, [ref.uid], folder.name) if 0 < ref.uid < 1 << 32 else []
        if not found:
            raise NotFound("no such message")
        return found[0]

    async def summaries(self, account_id: int, folder_id: int, uids: Sequence[int]) -> list[MessageSummary]:
        """The summaries of those UIDs that exist in the folder (new rows for an open page)."""
        folder = await self.folder(account_id, folder_id)
        return await self.lists.entries(folder.id, list(uids)[:MAX_PAGE], folder.name)

    async def search(self, account_id: int, query: str, folder_id: int | None = None, limit: int = 50,
                     offset: int = 0) -> SearchPage:
        """The search-box language (mail/searchquery.py) over the account, or one folder."""
        query = query.strip()
        if not query or len(query) > 500:
            raise InvalidInput("type 1 to 500 characters to search")
        if not 1 <= limit <= MAX_PAGE or not 0 <= offset <= 10_000:
            raise InvalidInput(f"page size must be 1..{MAX_PAGE} and the offset 0..10000")
        folder_name = (await self.folder(account_id, folder_id)).name if folder_id is not None else None
        found = await self.searcher.search(account_id, query, folder_name, limit + 1, offset)
        return SearchPage(query, found[:limit], len(found) > limit, offset)

    # --- Actions ---

    async def act(self, account_id: int, refs: Sequence[MessageRef], action: Action,
                  target_folder_id: int | None = None) -> ActionResult:
        """Apply `action` to every message of `refs` (at most MAX_ACTION); a foreign or missing folder → NotFound,
        UIDs no longer there are skipped."""
        if action not in ACTIONS:
            raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}")
        if not refs or len(refs) > MAX_ACTION:
            raise InvalidInput(f"give 1 to {MAX_ACTION} messages")
        by_folder: dict[int, list[int]] = defaultdict(list)
        for ref in refs:
            if not 0 < ref.uid < 1 << 32:
                raise NotFound("no such message")
            by_folder[ref.folder_id].append(ref.uid)
        sources = [await self.folder(account_id, folder_id) for folder_id in sorted(by_folder)]
        changed = 0
        moved: dict[MessageRef, MessageRef] = {}
        target: FolderRecord | None = None
        if action in _FLAG_CHANGES:
            mode, flag = _FLAG_CHANGES[action]
            for folder in sources:
                result = await self.mailbox.store_flags(folder, by_folder[folder.id], mode,  # type: ignore[arg-type]
                                                        [flag])
                changed += len(result)
            return ActionResult(action, changed, moved)
        if action == "move":
            if target_folder_id is None:
                raise InvalidInput("moving needs a target folder")
            target = await self.folder(account_id, target_folder_id)
        elif action == "spam":
            target = await self.special(account_id, "junk", "Junk")
        elif action == "notspam":
            target = await self.special(account_id, "inbox", "INBOX")
        else:
            target = await self.special(account_id, "trash", "Trash")
        add, remove = {"spam": (["$Junk"], ["$NotJunk"]), "notspam": (["$NotJunk"], ["$Junk"])}.get(action, ([], []))
        for folder in sources:
            uids = by_folder[folder.id]
            if folder.id == target.id:
                if action == "delete":
                    changed += len(await self._expunge(folder, uids))
                elif add or remove:
                    changed += len(await self.mailbox.store_flags(folder, uids, "add", add))
                    await self.mailbox.store_flags(folder, uids, "remove", remove)
                continue
            events, pairs = await self.lists.move(account_id, folder.id, uids, target.id, add, remove)
            self.bus.publish(events)
            changed += len(pairs)
            moved.update({MessageRef(folder.id, old): MessageRef(target.id, new) for old, new in pairs.items()})
        return ActionResult(action, changed, moved, target.id)

    async def _expunge(self, folder: FolderRecord, uids: Sequence[int]) -> list[int]:
        await self.mailbox.store_flags(folder, uids, "add", ["\\Deleted"])
        return await self.mailbox.expunge(folder, uids)

    async def delete_message(self, account_id: int, ref: MessageRef) -> ActionResult:
        """Delete one message: to Trash, or for ever when it is in Trash. NotFound when it does not exist."""
        await self.message(account_id, ref)
        return await self.act(account_id, [ref], "delete")

    async def set_flags(self, account_id: int, ref: MessageRef, add: Sequence[str] = (),
                        remove: Sequence[str] = ()) -> MessageSummary:
        """Add and remove flags (system flags other than \\Deleted and \\Recent, or keywords) on one message."""
        for flag in (*add, *remove):
            if flag.lower() in ("\\deleted", "\\recent") or not _valid_flag(flag):
                raise InvalidInput(f"flag {flag[:40]!r} cannot be set here: use \\Seen, \\Flagged, \\Answered, "
                                   "\\Draft or a keyword of letters, digits and $_-.")
        if len(add) + len(remove) > 50:
            raise InvalidInput("at most 50 flags at once")
        message = await self.message(account_id, ref)
        folder = await self.folder(account_id, ref.folder_id)
        if add:
            await self.mailbox.store_flags(folder, [message.uid], "add", list(add))
        if remove:
            await self.mailbox.store_flags(folder, [message.uid], "remove", list(remove))
        return await self.message(account_id, ref)

    async def empty(self, account_id: int, folder_id: int) -> int:
        """Remove every message of Trash or Junk for ever; returns how many. Other folders are refused."""
        folder = await self.folder(account_id, folder_id)
        if folder.special_use not in ("trash", "junk"):
            raise InvalidInput("only Trash and Junk can be emptied")
        uids = await self.mailbox.store.messages.uids(folder.id)
        removed = 0
        for start in range(0, len(uids), MAX_ACTION):
            removed += len(await self._expunge(folder, uids[start:start + MAX_ACTION]))
        return removed


_SYSTEM = {"\\seen", "\\flagged", "\\answered", "\\draft"}


def _valid_flag(flag: str) -> bool:
    if flag.lower() in _SYSTEM:
        return True
    return 0 < len(flag) <= 64 and all(c.isascii() and (c.isalnum() or c in "$_-.") for c in flag)
