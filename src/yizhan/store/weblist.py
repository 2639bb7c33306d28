"""Reads and one write the webmail needs beyond the general repositories: a folder's messages as a sorted, filtered
page (keyset or offset), threads of a folder, the conversation of a message, and an atomic move between folders.

Invariants:
- Read functions run on reader threads over one snapshot; every query names the folder (or the account), so a
  caller that looked the folder up within its account can never see another account's rows.
- A page stays fast at 100,000 messages: when the folder holds most of the candidates of its account, the scan is
  driven by an index of `messages` in sort order — (account_id, date), (account_id, from_addr) or
  (account_id, size, id) — and stops after `limit` rows; otherwise it reads the folder's entries (all of them, or
  only the unread or flagged ones through the partial indexes of migration 0005) and sorts those. SQLite takes
  the join order as written after CROSS JOIN; PostgreSQL plans on its own statistics. Each message's entry is
  then found through (message_id): the folder test is written `+e.folder_id` so that SQLite, which has no
  statistics, cannot pick the (folder_id, modseq) index instead and walk the whole folder once per message (2 s
  a page at 100,000 messages; unary plus is plain SQL on PostgreSQL too). The keyset condition is
  "key <= k AND (key < k OR id < i)" so that its first term is an index range on both databases.
- A large folder's thread list is read the same way: its messages newest first through (account_id, date), until
  the page's threads are known, then counts and newest rows per thread through (account_id, thread_id); grouping
  the whole folder is kept for small folders (0.85 s for 100,000 messages). Thread pages continue from a keyset
  (newest date, thread id) too, so a deep page costs what the first does.
- `move` is one transaction: the entries get the target folder's next UIDs and MODSEQs with the same message rows
  (so threads, the search index and usage are unchanged), the source UIDs go to `expunged` (RFC 7162 VANISHED),
  both folders' counters change, and the events of both sides are returned for publishing after commit.
- SQL is plain text with `?` placeholders and runs on SQLite and PostgreSQL (store/sqlrun.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from yizhan.store.db import Database
from yizhan.store.events import Event, MessageAdded, MessagesExpunged
from yizhan.store.messages import flag_bits, flag_names
from yizhan.store.records import MessageSummary
from yizhan.store.sqlrun import Tx, placeholders
from yizhan.util.errors import InvalidInput, NotFound

SortKey = Literal["date", "sender", "size"]
Filter = Literal["all", "unread", "flagged"]

_CHUNK = 500
_SORT_COLUMNS: dict[str, str] = {"date": "m.date", "sender": "m.from_addr", "size": "m.size"}
# Written exactly as the partial indexes' conditions (migration 0005_web_indexes).
_FILTERS: dict[str, str] = {"all": "", "unread": " AND (e.flags & 1) = 0", "flagged": " AND (e.flags & 4) != 0"}
# Below this many candidates a folder's entries are read and sorted; above, an index in sort order drives the scan
# when the folder holds at least 1/_SHARE of its account's messages.
_SMALL = 2000
_SHARE = 10
_COLUMNS = ("e.folder_id, e.uid, e.message_id, m.blob, m.size, m.internal_date, m.date, m.subject, m.from_addr, "
            "m.from_name, m.to_text, e.flags, e.keywords, m.thread_id, m.has_attachments, m.preview, m.id")
MAX_CONVERSATION = 500


# A thread's messages (account, thread id, account, the asking message's folder, limit). `+m.date`: the thread's few
# rows come from (account_id, thread_id) and are sorted; SQLite would otherwise walk (account_id, date) over the
# whole account to avoid the sort (0.4 s at 100,000 messages). Public so tests can EXPLAIN it.
CONVERSATION_SQL = (
    f"SELECT {_COLUMNS} FROM messages m JOIN entries e ON e.message_id = m.id JOIN folders f ON f.id = e.folder_id "
    "WHERE m.account_id = ? AND m.thread_id = ? AND f.account_id = ? "
    "AND (f.special_use IS NULL OR f.special_use NOT IN ('trash', 'junk') OR f.id = ?) "
    "ORDER BY +m.date, m.id LIMIT ?")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page of a folder: sort, filter, and where to start (a keyset `after` or an `offset`)."""

    folder_id: int
    account_id: int
    sort: SortKey = "date"
    descending: bool = True
    filter: Filter = "all"
    limit: int = 50
    offset: int = 0
    # The sort key and message row id of the last row of the previous page.
    after: tuple[int | str, int] | None = None
    # How many entries the filter can match, and how many messages the account has (they choose the plan).
    candidates: int = 0
    account_total: int = 0


@dataclass(frozen=True, slots=True)
class ListedRow:
    """A listed message and its keyset position (sort key, message row id)."""

    summary: MessageSummary
    key: tuple[int | str, int]


@dataclass(frozen=True, slots=True)
class ThreadRow:
    """A thread as a folder's thread-grouped list shows it: its newest message there, and counts there."""

    latest: MessageSummary
    count: int
    unread: int


def _summary(row: Sequence[Any], folder_names: dict[int, str]) -> MessageSummary:
    (folder_id, uid, message_id, blob, size, internal_date, date, subject, from_addr, from_name, to_text, bits,
     keywords, thread_id, has_attachments, preview) = row[:16]
    return MessageSummary(folder_id=folder_id, folder=folder_names.get(folder_id, ""), uid=uid, message_id=message_id,
                          blob=blob, size=size, internal_date=internal_date, date=date, subject=subject,
                          from_addr=from_addr, from_name=from_name, to_text=to_text, flags=flag_names(bits),
                          keywords=tuple(keywords.split()), thread_id=thread_id,
                          has_attachments=bool(has_attachments), preview=preview)


def page_sql(request: PageRequest, dialect_sqlite: bool = True) -> tuple[str, list[Any]]:
    """The statement and parameters of one page (public so tests can EXPLAIN it)."""
    column = _SORT_COLUMNS[request.sort]
    direction = "DESC" if request.descending else "ASC"
    compare = "<" if request.descending else ">"
    params: list[Any] = []
    driven_by_index = (request.candidates > _SMALL and request.candidates * _SHARE >= request.account_total)
    if driven_by_index:
        sql = (f"SELECT {_COLUMNS} FROM messages m CROSS JOIN entries e "
               "WHERE m.account_id = ? AND e.message_id = m.id AND +e.folder_id = ?")
        params += [request.account_id, request.folder_id]
    else:
        sql = f"SELECT {_COLUMNS} FROM entries e CROSS JOIN messages m WHERE e.folder_id = ? AND m.id = e.message_id"
        params.append(request.folder_id)
    sql += _FILTERS[request.filter]
    if request.after is not None:
        key, row_id = request.after
        sql += f" AND {column} {compare}= ? AND ({column} {compare} ? OR m.id {compare} ?)"
        params += [key, key, row_id]
    sql += f" ORDER BY {column} {direction}, m.id {direction} LIMIT ?"
    params.append(request.limit)
    if request.after is None and request.offset:
        sql += " OFFSET ?"
        params.append(request.offset)
    return sql, params


# A large folder's messages newest first (account, folder), for `_newest_threads`; public so tests can EXPLAIN it.
THREAD_WALK_SQL = ("SELECT m.thread_id, m.date, m.id FROM messages m CROSS JOIN entries e "
                   "WHERE m.account_id = ? AND e.message_id = m.id AND +e.folder_id = ?")


def _newest_threads(tx: Tx, account_id: int, folder_id: int, need: int,
                    after: tuple[int, int] | None = None) -> list[tuple[int, int]]:
    """The first `need` threads of the folder as (thread id, date of its newest message there), ordered by that
    date and then thread id, both descending — what "GROUP BY thread ORDER BY max(date) DESC" gives, without
    reading the whole folder: the folder's messages are walked newest first through (account_id, date) in chunks
    (keyset), a thread's first message met being its newest, until `need` threads are known and the date has
    moved past the last of them (so ties on that date are all seen).

    With `after` (newest date, thread id of the previous page's last thread) the walk starts at that date, and a
    thread met there counts only when its newest message (looked up through (account_id, thread_id)) places it
    after `after`: a thread with a newer message was on an earlier page."""
    found: dict[int, int] = {}
    rejected: set[int] = set()
    boundary: int | None = None
    position: tuple[int, int] | None = None
    chunk = max(_CHUNK, 2 * need)

    def ordered() -> list[tuple[int, int]]:
        return sorted(found.items(), key=lambda item: (item[1], item[0]), reverse=True)

    while True:
        sql, params = THREAD_WALK_SQL, [account_id, folder_id]
        if position is not None:
            sql += " AND m.date <= ? AND (m.date < ? OR m.id < ?)"
            params += [position[0], position[0], position[1]]
        elif after is not None:
            sql += " AND m.date <= ?"
            params.append(after[0])
        rows = tx.rows(sql + " ORDER BY m.date DESC, m.id DESC LIMIT ?", [*params, chunk])
        newest: dict[int, int] = {}
        if after is not None:
            fresh = sorted({row[0] for row in rows} - found.keys() - rejected)
            for start in range(0, len(fresh), _CHUNK):
                part = fresh[start:start + _CHUNK]
                newest.update((row[0], row[1]) for row in tx.rows(
                    "SELECT m.thread_id, max(m.date) FROM messages m JOIN entries e ON e.message_id = m.id "
                    f"WHERE m.account_id = ? AND m.thread_id IN ({placeholders(len(part))}) AND +e.folder_id = ? "
                    "GROUP BY m.thread_id", (account_id, *part, folder_id)))
        for thread_id, date, _ in rows:
            if boundary is not None and date < boundary:
                return ordered()
            if thread_id in found or thread_id in rejected:
                continue
            if after is not None and (newest.get(thread_id, date), thread_id) >= after:
                rejected.add(thread_id)
                continue
            found[thread_id] = date
            if len(found) == need:
                boundary = date
        if len(rows) < chunk:
            return ordered()
        position = (rows[-1][1], rows[-1][2])


class WebList:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def page(self, request: PageRequest, folder_name: str) -> list[ListedRow]:
        """One page of the folder's entries in the requested order."""
        if request.sort not in _SORT_COLUMNS or request.filter not in _FILTERS:
            raise InvalidInput("unknown sort or filter")
        sql, params = page_sql(request)
        names = {request.folder_id: folder_name}
        position = {"date": 6, "sender": 8, "size": 4}[request.sort]

        def read(tx: Tx) -> list[ListedRow]:
            return [ListedRow(_summary(row, names), (row[position], row[16])) for row in tx.rows(sql, params)]

        return await self.db.run_read(read)

    async def flagged_count(self, folder_id: int) -> int:
        def read(tx: Tx) -> int:
            row = tx.one("SELECT count(*) FROM entries e WHERE e.folder_id = ?" + _FILTERS["flagged"], (folder_id,))
            return int(row[0]) if row else 0

        return await self.db.run_read(read)

    async def entries(self, folder_id: int, uids: Sequence[int], folder_name: str) -> list[MessageSummary]:
        """The summaries of those `uids` that exist in the folder, in UID order."""
        wanted = sorted(set(uids))
        names = {folder_id: folder_name}

        def read(tx: Tx) -> list[MessageSummary]:
            out: list[MessageSummary] = []
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                out += [_summary(row, names) for row in tx.rows(
                    f"SELECT {_COLUMNS} FROM entries e JOIN messages m ON m.id = e.message_id "
                    f"WHERE e.folder_id = ? AND e.uid IN ({placeholders(len(chunk))}) ORDER BY e.uid",
                    (folder_id, *chunk))]
            return out

        return await self.db.run_read(read) if wanted else []

    async def threads(self, folder_id: int, folder_name: str, limit: int, offset: int, account_id: int = 0,
                      folder_total: int = 0, account_total: int = 0,
                      after: tuple[int, int] | None = None) -> list[ThreadRow]:
        """The folder's threads, the one with the newest message first (ties: larger thread id first), each with
        its newest message there and its counts there; with `after` (newest date, thread id of the last thread of
        the previous page) those that come after it (keyset paging). With the account and the folder's and
        account's sizes, a large folder is read newest first from an index (see `_newest_threads`) instead of
        grouping all of it."""
        names = {folder_id: folder_name}
        driven = account_id > 0 and folder_total > _SMALL and folder_total * _SHARE >= account_total

        def read(tx: Tx) -> list[ThreadRow]:
            if driven:
                newest = _newest_threads(tx, account_id, folder_id, offset + limit, after)[offset:offset + limit]
                ids = [tid for tid, _ in newest]
                counts = {row[0]: row[1:] for row in tx.rows(
                    "SELECT m.thread_id, count(*), sum(CASE WHEN (e.flags & 1) = 0 THEN 1 ELSE 0 END) "
                    "FROM messages m JOIN entries e ON e.message_id = m.id "
                    f"WHERE m.account_id = ? AND m.thread_id IN ({placeholders(len(ids))}) AND +e.folder_id = ? "
                    "GROUP BY m.thread_id", (account_id, *ids, folder_id))} if ids else {}
                groups = [(tid, date, *counts[tid]) for tid, date in newest if tid in counts]
            else:
                having = " HAVING max(m.date) < ? OR (max(m.date) = ? AND m.thread_id < ?)" if after else ""
                groups = tx.rows(
                    "SELECT m.thread_id, max(m.date) AS newest, count(*), "
                    "sum(CASE WHEN (e.flags & 1) = 0 THEN 1 ELSE 0 END) "
                    "FROM entries e JOIN messages m ON m.id = e.message_id WHERE e.folder_id = ? "
                    f"GROUP BY m.thread_id{having} ORDER BY newest DESC, m.thread_id DESC LIMIT ? OFFSET ?",
                    (folder_id, *((after[0], after[0], after[1]) if after else ()), limit, offset))
            if not groups:
                return []
            ids = [group[0] for group in groups]
            marks = placeholders(len(ids))
            # The threads' messages in the folder, newest first: in a large folder from the threads' own rows.
            sql, params = ((f"SELECT {_COLUMNS} FROM messages m JOIN entries e ON e.message_id = m.id "
                            f"WHERE m.account_id = ? AND m.thread_id IN ({marks}) AND +e.folder_id = ? "
                            "ORDER BY +m.date DESC, m.id DESC", (account_id, *ids, folder_id)) if driven else
                           (f"SELECT {_COLUMNS} FROM entries e JOIN messages m ON m.id = e.message_id "
                            f"WHERE e.folder_id = ? AND m.thread_id IN ({marks}) "
                            "ORDER BY m.date DESC, m.id DESC", (folder_id, *ids)))
            latest: dict[int, MessageSummary] = {}
            for row in tx.rows(sql, params):
                latest.setdefault(row[13], _summary(row, names))
            return [ThreadRow(latest[tid], int(count), int(unread or 0)) for tid, _, count, unread in groups
                    if tid in latest]

        return await self.db.run_read(read)

    async def conversation(self, account_id: int, thread_id: int, also_folder_id: int,
                           folder_names: dict[int, str]) -> list[MessageSummary]:
        """The account's messages of the thread in date order, outside Trash and Junk (but in `also_folder_id`)."""

        def read(tx: Tx) -> list[MessageSummary]:
            rows = tx.rows(CONVERSATION_SQL, (account_id, thread_id, account_id, also_folder_id, MAX_CONVERSATION))
            return [_summary(row, folder_names) for row in rows]

        return await self.db.run_read(read)

    async def move(self, account_id: int, source_id: int, uids: Sequence[int], target_id: int,
                   add: Sequence[str] = (), remove: Sequence[str] = ()) -> tuple[list[Event], dict[int, int]]:
        """Move entries to another folder of the same account in one transaction, adding and removing flags on
        the way; returns the events and {source UID: target UID} of what moved."""
        if source_id == target_id:
            raise InvalidInput("the messages are already in that folder")
        wanted = sorted(set(uids))
        add_bits, add_keywords = flag_bits(add)
        remove_bits, remove_keywords = flag_bits(remove)

        def write(tx: Tx) -> tuple[list[Event], dict[int, int]]:
            folders = {row[0]: row for row in tx.rows(
                "SELECT id, account_id, uidnext, highestmodseq FROM folders WHERE id IN (?, ?) "
                f"ORDER BY id{tx.for_update}", (min(source_id, target_id), max(source_id, target_id)))}
            if any(fid not in folders or folders[fid][1] != account_id for fid in (source_id, target_id)):
                raise NotFound("no such folder")
            rows: list[tuple[Any, ...]] = []
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                rows += tx.rows(
                    "SELECT e.uid, e.message_id, e.flags, e.keywords, m.size FROM entries e "
                    f"JOIN messages m ON m.id = e.message_id WHERE e.folder_id = ? AND e.uid IN "
                    f"({placeholders(len(chunk))}) ORDER BY e.uid", (source_id, *chunk))
            if not rows:
                return [], {}
            next_uid, target_modseq = int(folders[target_id][2]), int(folders[target_id][3])
            source_modseq = int(folders[source_id][3]) + 1
            moved: dict[int, int] = {}
            inserts: list[tuple[Any, ...]] = []
            events: list[Event] = []
            size = unseen_before = unseen_after = 0
            for uid, message_id, bits, keywords, message_size in rows:
                new_bits = (bits | add_bits) & ~remove_bits
                kept = [k for k in keywords.split() if k not in remove_keywords]
                kept += [k for k in add_keywords if k not in kept]
                target_modseq += 1
                inserts.append((target_id, next_uid, message_id, target_modseq, new_bits, " ".join(kept)))
                events.append(MessageAdded(account_id, target_id, next_uid, target_modseq))
                moved[uid] = next_uid
                next_uid += 1
                size += message_size
                unseen_before += 0 if bits & 1 else 1
                unseen_after += 0 if new_bits & 1 else 1
            tx.many("INSERT INTO entries (folder_id, uid, message_id, modseq, flags, keywords) "
                    "VALUES (?, ?, ?, ?, ?, ?)", inserts)
            tx.many("DELETE FROM entries WHERE folder_id = ? AND uid = ?", [(source_id, uid) for uid in moved])
            tx.many("INSERT INTO expunged (folder_id, uid, modseq) VALUES (?, ?, ?)",
                    [(source_id, uid, source_modseq) for uid in moved])
            tx.run("UPDATE folders SET highestmodseq = ?, exists_count = exists_count - ?, "
                   "unseen_count = unseen_count - ?, size_bytes = size_bytes - ? WHERE id = ?",
                   (source_modseq, len(moved), unseen_before, size, source_id))
            tx.run("UPDATE folders SET uidnext = ?, highestmodseq = ?, exists_count = exists_count + ?, "
                   "unseen_count = unseen_count + ?, size_bytes = size_bytes + ? WHERE id = ?",
                   (next_uid, target_modseq, len(moved), unseen_after, size, target_id))
            events.insert(0, MessagesExpunged(account_id, source_id, tuple(sorted(moved)), source_modseq))
            return events, moved

        return await self.db.run_write(write)
