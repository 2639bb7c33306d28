"""Integrity checks of the store, reporting and optionally repairing.

What is checked:
- every message's blob exists, and (unless quick) its bytes hash to its name;
- each folder's counters (messages, unseen, bytes) equal the sums over its entries, UIDNEXT is above every UID
  and HIGHESTMODSEQ at or above every MODSEQ; each account's usage equals the sum over its entries;
- message rows no entry refers to, and blob files no message and no queued outbound message refers to.
Repairs recompute counters, raise UIDNEXT/HIGHESTMODSEQ (never lower them: UIDs must not be reused), delete
orphan message rows, and delete unreferenced blob files older than an hour (younger ones may belong to a
delivery that has not committed yet). A missing or corrupt blob cannot be repaired; it is reported.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, update

from yizhan.store import schema as t
from yizhan.store.blobs import BlobStore
from yizhan.store.db import Database
from yizhan.store.messages import delete_orphans_in

_ORPHAN_BLOB_AGE = 3600


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    detail: str
    repaired: bool


@dataclass(frozen=True, slots=True)
class CheckReport:
    messages: int
    blobs_checked: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not any(not p.repaired for p in self.problems)


async def check_store(db: Database, blobs: BlobStore, repair: bool = False, quick: bool = False,
                      progress: Callable[[int, int], None] | None = None) -> CheckReport:
    problems: list[Problem] = []
    async with db.read() as conn:
        names = list((await conn.execute(select(t.messages.c.blob).distinct())).scalars())
        n_messages = int(await conn.scalar(select(func.count()).select_from(t.messages)) or 0)

    # Blobs, checked in threads because hashing is I/O and CPU.
    def verify(name: str) -> bool:
        return blobs.exists(name) if quick else blobs.verify(name)

    for start in range(0, len(names), 256):
        chunk = names[start:start + 256]
        results = await asyncio.gather(*(asyncio.to_thread(verify, n) for n in chunk))
        for name, ok in zip(chunk, results, strict=True):
            if not ok:
                kind = "blob missing" if not blobs.exists(name) else "blob corrupt"
                problems.append(Problem(kind, f"blob {name} (its messages cannot be read)", False))
        if progress:
            progress(min(start + 256, len(names)), len(names))

    problems += await _check_folders(db, repair)
    problems += await _check_accounts(db, repair)

    async with db.write() if repair else db.read() as conn:
        orphans = list((await conn.execute(select(t.messages.c.id).where(~select(t.entries.c.message_id).where(
            t.entries.c.message_id == t.messages.c.id).exists()))).scalars())
        if orphans:
            if repair:
                await delete_orphans_in(conn, orphans)
            problems.append(Problem("orphan messages", f"{len(orphans)} message rows in no folder", repair))

    referenced = set(names) if not orphans else set(await _all_blob_names(db))
    # The outbound queue holds blobs too (store/outbound.py): they are referenced as much as messages' blobs.
    referenced |= await _queued_blob_names(db)
    now = time.time()
    stray = []
    for name in await asyncio.to_thread(lambda: list(blobs.names())):
        if name not in referenced:
            try:
                age = now - os.stat(blobs.path(name)).st_mtime
            except FileNotFoundError:
                continue
            if age > _ORPHAN_BLOB_AGE:
                stray.append(name)
    if stray:
        if repair:
            for name in stray:
                blobs.remove(name)
        problems.append(Problem("unreferenced blobs", f"{len(stray)} blob files no message uses", repair))
    leftovers = await asyncio.to_thread(blobs.stale_temporaries, now - _ORPHAN_BLOB_AGE)
    if leftovers:
        if repair:
            for path in leftovers:
                path.unlink(missing_ok=True)
        problems.append(Problem("temporary files", f"{len(leftovers)} blob writes interrupted by a crash", repair))
    return CheckReport(n_messages, len(names), tuple(problems))


async def _all_blob_names(db: Database) -> list[str]:
    async with db.read() as conn:
        return list((await conn.execute(select(t.messages.c.blob).distinct())).scalars())


async def _queued_blob_names(db: Database) -> set[str]:
    async with db.read() as conn:
        return set((await conn.execute(select(t.queue_messages.c.blob).distinct())).scalars())


async def _check_folders(db: Database, repair: bool) -> list[Problem]:
    problems = []
    seen_bit = t.entries.c.flags.op("&")(t.SEEN)
    sums = (
        select(
            t.entries.c.folder_id,
            func.count().label("n"),
            func.sum(func.coalesce((seen_bit == 0).cast(t.entries.c.flags.type), 0)).label("unseen"),
            func.sum(t.messages.c.size).label("size"),
            func.max(t.entries.c.uid).label("max_uid"),
            func.max(t.entries.c.modseq).label("max_modseq"),
        ).join(t.messages, t.messages.c.id == t.entries.c.message_id).group_by(t.entries.c.folder_id)
    )
    async with db.read() as conn:
        actual = {r.folder_id: r for r in (await conn.execute(sums)).all()}
        folders = (await conn.execute(select(t.folders))).all()
    for folder in folders:
        row = actual.get(folder.id)
        n, unseen, size = (row.n, int(row.unseen or 0), int(row.size or 0)) if row else (0, 0, 0)
        max_uid = row.max_uid if row else 0
        max_modseq = row.max_modseq if row else 0
        fixes: dict[str, int] = {}
        if (folder.exists_count, folder.unseen_count, folder.size_bytes) != (n, unseen, size):
            fixes.update(exists_count=n, unseen_count=unseen, size_bytes=size)
        if folder.uidnext <= max_uid:
            fixes["uidnext"] = max_uid + 1
        if folder.highestmodseq < max_modseq:
            fixes["highestmodseq"] = max_modseq
        if fixes:
            detail = f"folder {folder.name!r} of account {folder.account_id}: " + ", ".join(
                f"{k} {getattr(folder, k)} → {v}" for k, v in fixes.items())
            if repair:
                async with db.write() as conn:
                    await conn.execute(update(t.folders).where(t.folders.c.id == folder.id).values(**fixes))
            problems.append(Problem("folder counters", detail, repair))
    return problems


async def _check_accounts(db: Database, repair: bool) -> list[Problem]:
    problems = []
    usage = select(t.folders.c.account_id, func.sum(t.messages.c.size).label("used")).select_from(
        t.entries.join(t.messages, t.messages.c.id == t.entries.c.message_id)
        .join(t.folders, t.folders.c.id == t.entries.c.folder_id)).group_by(t.folders.c.account_id)
    async with db.read() as conn:
        actual = {r.account_id: int(r.used or 0) for r in (await conn.execute(usage)).all()}
        accounts = (await conn.execute(select(t.accounts.c.id, t.accounts.c.address, t.accounts.c.used_bytes))).all()
    for account in accounts:
        used = actual.get(account.id, 0)
        if account.used_bytes != used:
            if repair:
                async with db.write() as conn:
                    await conn.execute(update(t.accounts).where(t.accounts.c.id == account.id).values(used_bytes=used))
            problems.append(Problem("account usage", f"{account.address}: {account.used_bytes} → {used} bytes",
                                    repair))
    return problems
