"""Folders (IMAP mailboxes) of an account: create, list, rename, delete, subscribe.

Names are hierarchical with "/" as the delimiter and stored in UTF-8; "INBOX" is special and case-insensitive
(RFC 9051 §5.1). A new folder gets a fresh UIDVALIDITY larger than any other of the account's, so a folder
deleted and created again under the same name never presents old UIDs as valid.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.store.events import Event, FolderCreated, FolderDeleted, FolderRenamed
from yizhan.store.messages import delete_orphans_in, non_negative
from yizhan.store.records import FolderRecord
from yizhan.store.sqlrun import Tx, placeholders
from yizhan.util.clock import now_seconds
from yizhan.util.errors import AlreadyExists, InvalidInput, NotFound


def canonical_name(name: str) -> str:
    """A folder name as stored: INBOX in any case is "INBOX" (RFC 9051 §5.1); no leading or trailing "/"."""
    name = name.strip("/")
    return "INBOX" if name.upper() == "INBOX" else name


def folder_record(row: Any) -> FolderRecord:
    return FolderRecord(
        id=row.id, account_id=row.account_id, name=row.name, special_use=row.special_use,
        subscribed=bool(row.subscribed), uidvalidity=row.uidvalidity, uidnext=row.uidnext,
        highestmodseq=row.highestmodseq, exists_count=row.exists_count, unseen_count=row.unseen_count,
        size_bytes=row.size_bytes,
    )


# The columns of a FolderRecord, in its field order.
FOLDER_COLUMNS = ("id, account_id, name, special_use, subscribed, uidvalidity, uidnext, highestmodseq, exists_count, "
            "unseen_count, size_bytes")


def folder_of(row: tuple[Any, ...]) -> FolderRecord:
    (id_, account_id, name, special_use, subscribed, uidvalidity, uidnext, highestmodseq, exists_count,
     unseen_count, size_bytes) = row
    return FolderRecord(id_, account_id, name, special_use, bool(subscribed), uidvalidity, uidnext, highestmodseq,
                        exists_count, unseen_count, size_bytes)


async def insert_folder(
    conn: AsyncConnection, account_id: int, name: str, special_use: str | None = None, subscribed: bool = True
) -> FolderRecord:
    """Insert a folder row inside the caller's write transaction."""
    highest = await conn.scalar(select(func.max(t.folders.c.uidvalidity)).where(
        t.folders.c.account_id == account_id))
    uidvalidity = max(now_seconds(), int(highest or 0) + 1) & 0xFFFFFFFF
    values = dict(account_id=account_id, name=name, special_use=special_use, subscribed=subscribed,
                  uidvalidity=uidvalidity, uidnext=1, highestmodseq=1, exists_count=0, unseen_count=0,
                  size_bytes=0, created_at=now_seconds())
    result = await conn.execute(insert(t.folders).values(**values))
    values.pop("created_at")
    return FolderRecord(id=result.inserted_primary_key[0], **values)  # type: ignore[arg-type,index]


class Folders:
    """Folder reads and writes, each in its own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def of_account(self, account_id: int) -> list[FolderRecord]:
        return await self.db.run_read(lambda tx: [folder_of(row) for row in tx.rows(
            f"SELECT {FOLDER_COLUMNS} FROM folders WHERE account_id = ? ORDER BY name", (account_id,))])

    async def get(self, account_id: int, name: str) -> FolderRecord | None:
        def read(tx: Tx) -> FolderRecord | None:
            row = tx.one(f"SELECT {FOLDER_COLUMNS} FROM folders WHERE account_id = ? AND name = ?", (account_id, name))
            return folder_of(row) if row else None

        return await self.db.run_read(read)

    async def get_by_id(self, folder_id: int) -> FolderRecord | None:
        def read(tx: Tx) -> FolderRecord | None:
            row = tx.one(f"SELECT {FOLDER_COLUMNS} FROM folders WHERE id = ?", (folder_id,))
            return folder_of(row) if row else None

        return await self.db.run_read(read)

    async def by_special_use(self, account_ids: list[int], special_use: str) -> dict[int, FolderRecord]:
        """The folder with `special_use` of each account (e.g. every recipient's inbox)."""
        wanted = sorted(set(account_ids))

        def read(tx: Tx) -> dict[int, FolderRecord]:
            found: dict[int, FolderRecord] = {}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                for row in tx.rows(f"SELECT {FOLDER_COLUMNS} FROM folders WHERE account_id IN "
                                   f"({placeholders(len(chunk))}) AND special_use = ?", (*chunk, special_use)):
                    record = folder_of(row)
                    found[record.account_id] = record
            return found

        return await self.db.run_read(read) if wanted else {}

    async def create(self, account_id: int, name: str, special_use: str | None = None
                     ) -> tuple[FolderRecord, list[Event]]:
        try:
            async with self.db.write() as conn:
                folder = await insert_folder(conn, account_id, name, special_use)
        except IntegrityError as exc:
            raise AlreadyExists(f"folder {name} already exists") from exc
        return folder, [FolderCreated(account_id, folder.id, name)]

    async def rename(self, account_id: int, old: str, new: str) -> list[Event]:
        """Rename a folder and its children (RFC 9051 §6.3.6)."""
        if canonical_name(old) == "INBOX":
            raise InvalidInput("renaming INBOX is not supported")
        events: list[Event] = []
        try:
            async with self.db.write() as conn:
                rows = (await conn.execute(select(t.folders).where(
                    t.folders.c.account_id == account_id,
                    (t.folders.c.name == old) | t.folders.c.name.startswith(old + "/", autoescape=True),
                ))).all()
                if not rows:
                    raise NotFound(f"no folder {old}")
                for row in rows:
                    renamed = new + row.name[len(old):]
                    await conn.execute(update(t.folders).where(t.folders.c.id == row.id).values(name=renamed))
                    events.append(FolderRenamed(account_id, row.id, row.name, renamed))
        except IntegrityError as exc:
            raise AlreadyExists(f"folder {new} already exists") from exc
        return events

    async def delete(self, account_id: int, name: str) -> tuple[list[Event], list[str], int]:
        """Delete a folder and its entries. Returns events, blobs no longer referenced, and bytes freed."""
        async with self.db.write() as conn:
            row = (await conn.execute(select(t.folders).where(
                t.folders.c.account_id == account_id, t.folders.c.name == name))).first()
            if row is None:
                raise NotFound(f"no folder {name}")
            if row.special_use == "inbox":
                raise InvalidInput("INBOX cannot be deleted")
            message_ids = (await conn.execute(select(t.entries.c.message_id).where(
                t.entries.c.folder_id == row.id))).scalars().all()
            await conn.execute(delete(t.entries).where(t.entries.c.folder_id == row.id))
            await conn.execute(delete(t.expunged).where(t.expunged.c.folder_id == row.id))
            await conn.execute(delete(t.folders).where(t.folders.c.id == row.id))
            await conn.execute(update(t.accounts).where(t.accounts.c.id == account_id).values(
                used_bytes=non_negative(t.accounts.c.used_bytes - row.size_bytes)))
            freed_blobs = await delete_orphans_in(conn, list(set(message_ids)))
        return [FolderDeleted(account_id, row.id, name)], freed_blobs, row.size_bytes

    async def set_subscribed(self, account_id: int, name: str, subscribed: bool) -> None:
        async with self.db.write() as conn:
            result = await conn.execute(update(t.folders).where(
                t.folders.c.account_id == account_id, t.folders.c.name == name).values(subscribed=subscribed))
        if result.rowcount == 0:
            raise NotFound(f"no folder {name}")
