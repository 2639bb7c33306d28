"""Import and export of whole mailboxes: mbox, Maildir (with Maildir++ subfolders) and folders of .eml files.

Invariants:
- Streaming: one batch of messages in memory at a time, whatever the archive's size.
- No message is lost: every message read is imported, or skipped because the same bytes are already in that
  folder (so an interrupted import can simply be run again), or counted as failed with its reason.
- Bytes are imported exactly as the archive holds them (after the format's own escaping is undone); flags and
  keywords come along; malformed mail is kept and counted.
- Parsing runs in worker processes so an import uses every core; the store writes each batch in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from yizhan.services.archive import (
    ArchivedMessage,
    ArchiveReader,
    detect_format,
    list_maildir_folders,
    open_archive,
    read_maildir,
    write_maildir,
    write_mbox,
)
from yizhan.services.bus import EventBus
from yizhan.services.prepare import PreparedMessage, prepare_many, unpack
from yizhan.store.folders import canonical_name
from yizhan.store.ingest import NewEntry
from yizhan.store.messages import flag_bits
from yizhan.store.records import AccountRecord, FolderRecord, StoredEntry
from yizhan.store.store import Store
from yizhan.util.clock import from_seconds, to_seconds
from yizhan.util.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)

# A batch is filed in one transaction: larger batches touch each index page (and write it to the WAL) once for
# more messages, and give the search index larger segments to merge. Bytes bound the memory a batch holds
# (the producer runs one batch ahead) when messages are large.
BATCH = 1000
BATCH_BYTES = 32 * 2**20
# Progress callback: (units done, units in all or None, unit name).
Progress = Callable[[int, int | None, str], None]


@dataclass
class ImportSummary:
    read: int = 0
    imported: int = 0
    skipped: int = 0
    malformed: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    folders: dict[str, int] = field(default_factory=dict)


@dataclass
class ExportSummary:
    exported: int = 0
    folders: dict[str, int] = field(default_factory=dict)


def _folder_file_name(name: str) -> str:
    return name.replace("/", ".")


class TransferService:
    def __init__(self, store: Store, bus: EventBus) -> None:
        self.store = store
        self.bus = bus

    async def _account(self, address: str) -> AccountRecord:
        account = await self.store.directory.get_account(address.strip().lower())
        if account is None:
            raise NotFound(f"no account {address}")
        return account

    async def _folder(self, account: AccountRecord, name: str) -> FolderRecord:
        name = canonical_name(name)
        if not name:
            raise InvalidInput("empty folder name")
        folder = await self.store.folders.get(account.id, name)
        if folder is None:
            folder, events = await self.store.folders.create(account.id, name)
            self.bus.publish(events)
        return folder

    # Import

    async def import_path(self, address: str, path: Path, folder: str | None = None,
                          progress: Progress | None = None) -> ImportSummary:
        """Import the archive at `path` into `folder` (INBOX by default; Maildir++ subfolders by name)."""
        account = await self._account(address)
        if not await asyncio.to_thread(path.exists):
            raise InvalidInput(f"{path} does not exist")
        kind = await asyncio.to_thread(detect_format, path)
        plan: list[tuple[str, ArchiveReader]] = []
        if kind == "maildir" and folder is None:
            for name, sub in await asyncio.to_thread(list_maildir_folders, path):
                plan.append((name, read_maildir(sub)))
        else:
            plan.append((folder or "INBOX", open_archive(path)))
        summary = ImportSummary()
        workers = max(1, min(os.cpu_count() or 1, 4))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for name, reader in plan:
                target = await self._folder(account, name)
                before = summary.imported
                try:
                    await self._import_one(account, target, reader, pool, workers, summary, progress)
                finally:
                    reader.close()
                summary.folders[target.name] = summary.imported - before
        return summary

    async def _import_one(self, account: AccountRecord, folder: FolderRecord, reader: ArchiveReader,
                          pool: Executor, workers: int, summary: ImportSummary, progress: Progress | None) -> None:
        loop = asyncio.get_running_loop()
        batches: asyncio.Queue[tuple[list[ArchivedMessage], list[PreparedMessage], list[str]] | None] = (
            # One batch waits while the consumer files another and the producer prepares a third: enough to keep
            # both sides busy; a deeper queue only holds more batches in memory.
            asyncio.Queue(1))

        async def produce() -> None:
            try:
                while True:
                    batch = await asyncio.to_thread(_take, reader, BATCH, BATCH_BYTES)
                    if not batch:
                        return
                    # Parsing (worker processes) and blob writing (a thread) run ahead of the consumer, which
                    # files the previous batch meanwhile. Blobs are durable before any row points at them.
                    # The batch is cut in one slice per worker, so every worker parses at once.
                    raws = [m.raw for m in batch]
                    step = -(-len(raws) // workers)
                    parsing = [loop.run_in_executor(pool, prepare_many, raws[i : i + step])
                               for i in range(0, len(raws), step)]
                    names, packed = await asyncio.gather(self.store.blobs.aput_many(raws), asyncio.gather(*parsing))
                    await batches.put((batch, [unpack(p) for part in packed for p in part], names))
            finally:
                await batches.put(None)

        producer = asyncio.create_task(produce())
        try:
            while (item := await batches.get()) is not None:
                await self._file_batch(account, folder, *item, summary)
                if progress:
                    progress(reader.progress, reader.total, reader.unit)
        except BaseException:
            producer.cancel()
            await asyncio.gather(producer, return_exceptions=True)
            raise
        # Re-raises a failure to read or parse the archive.
        await producer

    async def _file_batch(self, account: AccountRecord, folder: FolderRecord, batch: list[ArchivedMessage],
                          prepared: list[PreparedMessage], names: list[str], summary: ImportSummary) -> None:
        """File one batch whose blobs (named `names`, in order) are already durable."""
        summary.read += len(batch)
        present = await self.store.ingest.filed_blobs(folder.id, names)
        todo = []
        for message, info, name in zip(batch, prepared, names, strict=True):
            if name in present:
                summary.skipped += 1
                continue
            present.add(name)
            todo.append((message, info, name))
        if not todo:
            return
        entries = []
        for message, info, name in todo:
            bits, keywords = flag_bits([*message.flags, *message.keywords])
            entries.append(NewEntry(
                account_id=account.id, folder_id=folder.id, blob=name,
                size=len(message.raw), internal_date=to_seconds(message.internal_date or info.parsed.date),
                parsed=info.parsed, thread_subject=info.thread_subject, search=info.search, flags=bits,
                keywords=keywords, enforce_quota=False))
        results, events = await self.store.ingest.add(entries)
        self.bus.publish(events)
        for (message, info, _), result in zip(todo, results, strict=True):
            if isinstance(result, StoredEntry):
                summary.imported += 1
                if message.malformed or info.parsed.defects:
                    summary.malformed += 1
            else:
                summary.failed += 1
                summary.failures.append(f"{message.source}: {result}")

    # Export

    async def export(self, address: str, path: Path, fmt: Literal["mbox", "maildir"], folder: str | None = None,
                     progress: Progress | None = None) -> ExportSummary:
        """Write one folder (or all of them) to `path`. Several folders: a directory of mbox files, or Maildir++."""
        account = await self._account(address)
        if folder is not None:
            record = await self.store.folders.get(account.id, canonical_name(folder))
            if record is None:
                raise NotFound(f"no folder {folder}")
            targets = [(record, path)]
        else:
            targets = []
            for record in await self.store.folders.of_account(account.id):
                if fmt == "mbox":
                    targets.append((record, path / f"{_folder_file_name(record.name)}.mbox"))
                else:
                    sub = path if record.special_use == "inbox" else path / f".{_folder_file_name(record.name)}"
                    targets.append((record, sub))
            await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
        summary = ExportSummary()
        total = sum(t.exists_count for t, _ in targets)
        for record, target in targets:
            count = await self._export_folder(record, target, fmt, summary, total, progress)
            summary.folders[record.name] = count
        return summary

    async def _export_folder(self, folder: FolderRecord, target: Path, fmt: str, summary: ExportSummary,
                             total: int, progress: Progress | None) -> int:
        channel: queue.Queue[ArchivedMessage | None] = queue.Queue(maxsize=64)
        writer = write_mbox if fmt == "mbox" else write_maildir
        outcome: list[int | BaseException] = []

        def run_writer() -> None:
            try:
                outcome.append(writer(target, _drain(channel)))
            except BaseException as exc:
                outcome.append(exc)
                while channel.get() is not None:
                    pass

        thread = threading.Thread(target=run_writer, name="export-writer", daemon=True)
        thread.start()
        pool = ThreadPoolExecutor(max_workers=1)
        loop = asyncio.get_running_loop()
        try:
            async for item in self.store.messages.stream(folder.id):
                raw = await self.store.blobs.aread(item.blob)
                message = ArchivedMessage(
                    raw=raw, flags=frozenset(item.flags), keywords=frozenset(item.keywords),
                    internal_date=from_seconds(item.internal_date), source=f"{folder.name}#{item.uid}")
                await loop.run_in_executor(pool, channel.put, message)
                summary.exported += 1
                if progress and summary.exported % 100 == 0:
                    progress(summary.exported, total, "messages")
        finally:
            await loop.run_in_executor(pool, channel.put, None)
            await asyncio.to_thread(thread.join)
            pool.shutdown()
        if progress:
            progress(summary.exported, total, "messages")
        result = outcome[0] if outcome else RuntimeError("export writer did not finish")
        if isinstance(result, BaseException):
            raise result
        return result


def _take(reader: Iterator[ArchivedMessage], count: int, size: int) -> list[ArchivedMessage]:
    """The next messages of `reader`: `count` of them, or fewer once they hold `size` bytes (at least one)."""
    batch = []
    held = 0
    for message in reader:
        batch.append(message)
        held += len(message.raw)
        if len(batch) >= count or held >= size:
            break
    return batch


def _drain(channel: queue.Queue[ArchivedMessage | None]) -> Iterator[ArchivedMessage]:
    while (item := channel.get()) is not None:
        yield item
