"""Temporary upload files of the compose form: DATA/tmp/uploads/<account id>/<upload id>.{bin,json}.

An upload is a file a user attached (or an image pasted into the editor) before the message is sent or saved as a
draft. Its bytes are in `<id>.bin`, its description (name, type, size, time) in `<id>.json`; the JSON is written
after the bytes, so an upload exists only once both are there, and a half-written one (no JSON) is removed by
`sweep` like an expired one.

Invariants:
- Only this module reads or writes these files (services/uploads.py decides ids, limits and expiry).
- Upload ids are checked against `ID_PATTERN` before any path is built, and every path is below the account's own
  directory: an id can never name a file of another account or outside the upload root.
- Files are written to a temporary name, fsynced and renamed, so a reader never sees partial bytes.
The methods block; callers run them in threads (`asyncio.to_thread`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_BIN = ".bin"
_META = ".json"
# A temporary file older than this is left over from a crash.
_STALE_TMP = 3600


@dataclass(frozen=True, slots=True)
class UploadMeta:
    id: str
    account_id: int
    filename: str
    content_type: str
    size: int
    created_at: int
    # Nanoseconds at the upload, to keep the order of uploads made within the same second (0 when unknown).
    created_ns: int = 0


class UploadFiles:
    """The upload directory (blocking calls)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, account_id: int) -> Path:
        if account_id <= 0:
            raise ValueError("invalid account id")
        return self.root / str(int(account_id))

    def _paths(self, account_id: int, upload_id: str) -> tuple[Path, Path] | None:
        if not ID_PATTERN.match(upload_id):
            return None
        folder = self._dir(account_id)
        return folder / (upload_id + _BIN), folder / (upload_id + _META)

    def put(self, meta: UploadMeta, data: bytes) -> None:
        """Store `data` under `meta.id` for `meta.account_id` (bytes first, then the description)."""
        paths = self._paths(meta.account_id, meta.id)
        if paths is None:
            raise ValueError("invalid upload id")
        folder = self._dir(meta.account_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        data_path, meta_path = paths
        description = json.dumps({"id": meta.id, "account_id": meta.account_id, "filename": meta.filename,
                                  "content_type": meta.content_type, "size": meta.size,
                                  "created_at": meta.created_at, "created_ns": meta.created_ns or time.time_ns()},
                                 ensure_ascii=False).encode("utf-8")
        for path, content in ((data_path, data), (meta_path, description)):
            tmp = folder / f".tmp-{path.name}-{os.getpid()}-{os.urandom(4).hex()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(content)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)

    def meta(self, account_id: int, upload_id: str) -> UploadMeta | None:
        paths = self._paths(account_id, upload_id)
        if paths is None:
            return None
        return _read_meta(paths[1], account_id)

    def read(self, account_id: int, upload_id: str) -> tuple[UploadMeta, bytes] | None:
        paths = self._paths(account_id, upload_id)
        if paths is None:
            return None
        found = _read_meta(paths[1], account_id)
        if found is None:
            return None
        try:
            data = paths[0].read_bytes()
        except OSError:
            return None
        return found, data

    def list(self, account_id: int) -> list[UploadMeta]:
        """The account's complete uploads, oldest first."""
        folder = self._dir(account_id)
        try:
            names = os.listdir(folder)
        except OSError:
            return []
        found = []
        for name in names:
            if name.endswith(_META) and ID_PATTERN.match(name[: -len(_META)]):
                meta = _read_meta(folder / name, account_id)
                if meta is not None:
                    found.append(meta)
        return sorted(found, key=lambda m: (m.created_at, m.created_ns, m.id))

    def delete(self, account_id: int, upload_id: str) -> bool:
        paths = self._paths(account_id, upload_id)
        if paths is None:
            return False
        existed = paths[1].exists()
        for path in (paths[1], paths[0]):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        return existed

    def sweep(self, created_before: int, account_id: int | None = None) -> int:
        """Remove uploads created before `created_before` (epoch seconds), half-written ones and stale temporary
        files, of one account or of all; the number of uploads removed."""
        folders = [self._dir(account_id)] if account_id is not None else _subdirectories(self.root)
        removed = 0
        now = time.time()
        for folder in folders:
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            owner = int(folder.name) if folder.name.isdigit() else 0
            for name in names:
                path = folder / name
                if name.startswith(".tmp-"):
                    if _mtime(path) < now - _STALE_TMP:
                        _unlink(path)
                    continue
                stem, ext = os.path.splitext(name)
                if ext == _META:
                    meta = _read_meta(path, owner)
                    if meta is None or meta.created_at < created_before:
                        _unlink(path)
                        _unlink(folder / (stem + _BIN))
                        removed += 1
                elif ext == _BIN and not (folder / (stem + _META)).exists() and _mtime(path) < now - _STALE_TMP:
                    _unlink(path)
            if account_id is None:
                try:
                    folder.rmdir()  # only when empty
                except OSError:
                    pass
        return removed

    def clear(self) -> None:
        """Remove every upload (tests and resets)."""
        shutil.rmtree(self.root, ignore_errors=True)


def _subdirectories(root: Path) -> list[Path]:
    try:
        return [root / name for name in os.listdir(root) if name.isdigit()]
    except OSError:
        return []


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _read_meta(path: Path, account_id: int) -> UploadMeta | None:
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
        meta = UploadMeta(id=str(raw["id"]), account_id=int(raw["account_id"]), filename=str(raw["filename"]),
                          content_type=str(raw["content_type"]), size=int(raw["size"]),
                          created_at=int(raw["created_at"]), created_ns=int(raw.get("created_ns", 0)))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if meta.account_id != account_id or f"{meta.id}{_META}" != path.name:
        return None
    return meta
