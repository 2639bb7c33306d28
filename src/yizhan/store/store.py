"""The `Store` facade: one object holding the database, the blob directory and the repositories.

Open it with `await Store.open(...)`, which applies migrations; close it with `await store.close()`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from yizhan.store.blobs import BlobStore
from yizhan.store.db import Database, sqlite_url
from yizhan.store.directory import Directory
from yizhan.store.dkimkeys import DkimKeys
from yizhan.store.folders import Folders
from yizhan.store.ingest import Ingest
from yizhan.store.integrity import CheckReport, check_store
from yizhan.store.messages import Messages
from yizhan.store.outbound import Outbound
from yizhan.store.search import Search


class Store:
    def __init__(self, db: Database, blobs: BlobStore, group_commit_max: int = 256) -> None:
        self.db = db
        self.blobs = blobs
        # Blob names written with `defer=True` become durable before any row naming them commits.
        db.add_commit_barrier(blobs.sync_pending, blobs.has_pending)
        self.directory = Directory(db)
        self.folders = Folders(db)
        self.messages = Messages(db)
        self.ingest = Ingest(db, group_commit_max)
        self.search = Search(db)
        self.outbound = Outbound(db)
        # DKIM signing keys live beside the blobs: DATA/dkim/<domain>/<selector>.pem.
        self.dkim_keys = DkimKeys(blobs.root.parent / "dkim")

    @classmethod
    async def open(cls, database_url: str | None, database_file: Path, blob_root: Path,
                   group_commit_max: int = 256) -> Store:
        """Open (creating and migrating as needed) the store."""
        await asyncio.to_thread(blob_root.mkdir, parents=True, exist_ok=True)
        db = Database(database_url or sqlite_url(database_file))
        await db.migrate()
        return cls(db, BlobStore(blob_root), group_commit_max)

    async def check(self, repair: bool = False, quick: bool = False) -> CheckReport:
        return await check_store(self.db, self.blobs, repair=repair, quick=quick)

    async def close(self) -> None:
        await self.ingest.close()
        await self.db.dispose()
        self.blobs.close()
