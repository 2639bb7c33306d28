"""Server totals for the admin console's status page: domains, accounts, aliases, messages, bytes, queue size,
and the free space of the file system holding the data.

Invariants: read-only (one read snapshot on a database thread, plain SQL that SQLite and PostgreSQL both run);
nothing here changes a row or a file. Counting is done by the database, so the page costs one query per table
whatever the store's size (the distinct-blob sum scans `messages` once).
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

from yizhan.store.db import Database
from yizhan.store.sqlrun import Tx


@dataclass(frozen=True, slots=True)
class StoreTotals:
    domains: int
    accounts: int
    disabled_accounts: int
    aliases: int
    # Rows of `messages` (one per account that holds a copy) and of `entries` (a message in a folder).
    messages: int
    entries: int
    # Bytes of every account's messages (what quotas count), and of the distinct blobs on disk.
    message_bytes: int
    blob_bytes: int
    queued_messages: int
    queued_recipients: int


@dataclass(frozen=True, slots=True)
class DiskSpace:
    total: int
    used: int
    free: int


def _count(tx: Tx, sql: str) -> int:
    row = tx.one(sql)
    return int(row[0] or 0) if row else 0


class StoreStats:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def totals(self) -> StoreTotals:
        def read(tx: Tx) -> StoreTotals:
            return StoreTotals(
                domains=_count(tx, "SELECT COUNT(*) FROM domains"),
                accounts=_count(tx, "SELECT COUNT(*) FROM accounts"),
                disabled_accounts=_count(tx, "SELECT COUNT(*) FROM accounts WHERE disabled = TRUE"),
                aliases=_count(tx, "SELECT COUNT(*) FROM aliases"),
                messages=_count(tx, "SELECT COUNT(*) FROM messages"),
                entries=_count(tx, "SELECT COUNT(*) FROM entries"),
                message_bytes=_count(tx, "SELECT COALESCE(SUM(size), 0) FROM messages"),
                blob_bytes=_count(tx, "SELECT COALESCE(SUM(size), 0) FROM "
                                      "(SELECT blob, MAX(size) AS size FROM messages GROUP BY blob) AS distinct_blobs"),
                queued_messages=_count(tx, "SELECT COUNT(*) FROM queue_messages"),
                queued_recipients=_count(tx, "SELECT COUNT(*) FROM queue_recipients WHERE status = 'pending'"),
            )

        return await self.db.run_read(read)

    @staticmethod
    async def disk_space(path: Path) -> DiskSpace | None:
        """Space of the file system holding `path`, or None when it cannot be read."""
        try:
            usage = await asyncio.to_thread(shutil.disk_usage, path)
        except OSError:
            return None
        return DiskSpace(usage.total, usage.used, usage.free)
