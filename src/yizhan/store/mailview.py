"""Reads the IMAP server needs and the general repositories do not offer: a folder's entries with their MODSEQs
(the snapshot a SELECT takes), the per-entry fetch data, including the cached ENVELOPE and BODYSTRUCTURE, and the
UIDs expunged since a MODSEQ (QRESYNC's VANISHED, RFC 7162 §3.2.10).

Invariants: read-only (reader threads, one snapshot per call; never blocks the writer); results are frozen records
ordered by UID; a UID list is queried in chunks so no statement exceeds the database's parameter limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from yizhan.store.blobs import BlobStore
from yizhan.store.db import Database
from yizhan.store.folders import FOLDER_COLUMNS, folder_of
from yizhan.store.messages import flag_names
from yizhan.store.records import FolderRecord
from yizhan.store.sqlrun import Tx, placeholders

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class EntryState:
    """One entry as a SELECT snapshot sees it (RFC 9051 §2.3.1, RFC 7162 §3.1)."""

    uid: int
    modseq: int
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EntryData:
    """What FETCH may return about one entry without reading its blob (RFC 9051 §6.4.5)."""

    uid: int
    modseq: int
    flags: tuple[str, ...]
    blob: str
    size: int
    internal_date: int
    envelope: str
    bodystructure: str
    body: str
    # The message's bytes, when asked for (`MailView.data(..., with_raw=True)`); None when not asked or gone.
    raw: bytes | None = None


def _flags(bits: int, keywords: str) -> tuple[str, ...]:
    return flag_names(bits) + tuple(keywords.split())


class MailView:
    def __init__(self, db: Database, blobs: BlobStore | None = None) -> None:
        self.db = db
        self.blobs = blobs

    def _read_blob(self, name: str) -> bytes | None:
        assert self.blobs is not None, "MailView was built without the blob store"
        try:
            return self.blobs.read(name)
        except FileNotFoundError:
            # Expunged and removed since the row was read.
            return None

    async def states(self, folder_id: int) -> list[EntryState]:
        """Every entry of the folder, in UID order: UID, MODSEQ and flags (system flags then keywords)."""

        def read(tx: Tx) -> list[EntryState]:
            rows = tx.rows("SELECT uid, modseq, flags, keywords FROM entries WHERE folder_id = ? ORDER BY uid",
                           (folder_id,))
            return [EntryState(uid, modseq, _flags(bits, keywords)) for uid, modseq, bits, keywords in rows]

        return await self.db.run_read(read)

    async def open(self, account_id: int, name: str) -> tuple[FolderRecord, list[EntryState]] | None:
        """A folder of the account by name and its entries (as `states`), read in one snapshot; None if missing."""

        def read(tx: Tx) -> tuple[FolderRecord, list[EntryState]] | None:
            row = tx.one(f"SELECT {FOLDER_COLUMNS} FROM folders WHERE account_id = ? AND name = ?", (account_id, name))
            if row is None:
                return None
            folder = folder_of(row)
            rows = tx.rows("SELECT uid, modseq, flags, keywords FROM entries WHERE folder_id = ? ORDER BY uid",
                           (folder.id,))
            return folder, [EntryState(uid, modseq, _flags(bits, keywords)) for uid, modseq, bits, keywords in rows]

        return await self.db.run_read(read)

    async def data(self, folder_id: int, uids: Sequence[int], with_raw: bool = False) -> list[EntryData]:
        """Fetch data of those `uids` that still exist, in UID order; with `with_raw`, each message's bytes too,
        read on the same database thread (one crossing of threads for rows and files)."""
        wanted = sorted(set(uids))

        def read(tx: Tx) -> list[EntryData]:
            out: list[EntryData] = []
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                rows = tx.rows(
                    "SELECT e.uid, e.modseq, e.flags, e.keywords, m.blob, m.size, m.internal_date, m.envelope, "
                    "m.bodystructure, m.body FROM entries e JOIN messages m ON m.id = e.message_id "
                    f"WHERE e.folder_id = ? AND e.uid IN ({placeholders(len(chunk))}) ORDER BY e.uid",
                    (folder_id, *chunk))
                out.extend(EntryData(uid, modseq, _flags(bits, keywords), blob, size, internal_date, envelope,
                                     bodystructure, body, self._read_blob(blob) if with_raw else None)
                           for uid, modseq, bits, keywords, blob, size, internal_date, envelope, bodystructure, body
                           in rows)
            return out

        return await self.db.run_read(read) if wanted else []

    async def expunged_since(self, folder_id: int, modseq: int) -> list[int]:
        """UIDs expunged from the folder with a MODSEQ above `modseq`, ascending."""

        def read(tx: Tx) -> list[int]:
            return [uid for (uid,) in tx.rows(
                "SELECT uid FROM expunged WHERE folder_id = ? AND modseq > ? ORDER BY uid", (folder_id, modseq))]

        return await self.db.run_read(read)
