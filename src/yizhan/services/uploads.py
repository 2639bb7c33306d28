"""Uploads for the compose form: files attached or images pasted before a message is sent or saved as a draft.

Kept per account in DATA/tmp/uploads (store/uploads.py) until they are sent, removed, or expire.

Invariants:
- Ids are 24 random URL-safe characters (144 bits): they cannot be guessed, and every lookup is scoped by the
  account, so another account's id is NotFound exactly like a missing one.
- Limits: bytes per file, bytes and number of files per account (`UploadLimits`); going over is InvalidInput or
  QuotaExceeded with a message saying what the limit is.
- Expiry: an upload older than `ttl` seconds is gone; expired uploads of an account are removed whenever that
  account uses its uploads, and every account's when the service starts (`sweep`).
- `add` returns only after the bytes are fsynced, so an acknowledged upload is there when the form is sent.
- File names are made safe (one component, printable); content types are checked (type/subtype) or become
  application/octet-stream; `image_type` sniffs the bytes, so an "image" served back to the editor is one.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from yizhan.mail.parts import safe_filename
from yizhan.store.uploads import UploadFiles, UploadMeta
from yizhan.util.clock import now_seconds
from yizhan.util.errors import InvalidInput, NotFound, QuotaExceeded

_CTYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class UploadLimits:
    max_file_bytes: int = 25 * MB
    max_total_bytes: int = 100 * MB
    max_count: int = 100
    ttl: int = 24 * 3600


@dataclass(frozen=True, slots=True)
class Upload:
    id: str
    filename: str
    content_type: str
    size: int
    created_at: int
    expires_at: int


def image_type(data: bytes) -> str | None:
    """The image type the bytes really are (PNG, JPEG, GIF, WebP), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) > 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def checked_content_type(value: str) -> str:
    value = (value or "").split(";", 1)[0].strip().lower()
    return value if _CTYPE.match(value) else "application/octet-stream"


def _mb(size: int) -> str:
    return f"{size / MB:.0f} MB" if size >= MB else f"{max(1, size // 1024)} KB"


class UploadService:
    def __init__(self, root: Path, limits: UploadLimits | None = None) -> None:
        self.files = UploadFiles(root)
        self.limits = limits or UploadLimits()
        self._lock = asyncio.Lock()

    def _upload(self, meta: UploadMeta) -> Upload:
        return Upload(meta.id, meta.filename, meta.content_type, meta.size, meta.created_at,
                      meta.created_at + self.limits.ttl)

    async def sweep(self, account_id: int | None = None) -> int:
        """Remove expired uploads (of one account, or of all); how many."""
        before = now_seconds() - self.limits.ttl
        return await asyncio.to_thread(self.files.sweep, before, account_id)

    async def uploads(self, account_id: int) -> list[Upload]:
        await self.sweep(account_id)
        return [self._upload(m) for m in await asyncio.to_thread(self.files.list, account_id)]

    async def add(self, account_id: int, filename: str, content_type: str, data: bytes, *,
                  max_file_bytes: int | None = None) -> Upload:
        """Keep `data` for the account; `max_file_bytes` raises the per-file limit for files the server itself
        takes from a stored message (a forwarded message), never above the account's total."""
        limit = max_file_bytes or self.limits.max_file_bytes
        if len(data) > limit:
            raise InvalidInput(f"“{safe_filename(filename)[:100]}” is too large: files may be at most {_mb(limit)}")
        name = safe_filename(filename or "", "attachment")
        ctype = checked_content_type(content_type)
        async with self._lock:
            existing = await self.uploads(account_id)
            if len(existing) >= self.limits.max_count:
                raise QuotaExceeded(f"at most {self.limits.max_count} files may wait to be sent: remove some first")
            used = sum(u.size for u in existing)
            if used + len(data) > self.limits.max_total_bytes:
                raise QuotaExceeded(f"uploads waiting to be sent may total at most {_mb(self.limits.max_total_bytes)}"
                                    f" ({_mb(used)} already): remove some first")
            meta = UploadMeta(secrets.token_urlsafe(18), account_id, name, ctype, len(data), now_seconds())
            await asyncio.to_thread(self.files.put, meta, data)
        return self._upload(meta)

    async def get(self, account_id: int, upload_id: str) -> Upload:
        meta = await asyncio.to_thread(self.files.meta, account_id, upload_id)
        if meta is None or meta.created_at < now_seconds() - self.limits.ttl:
            raise NotFound("no such upload (it may have expired: attach the file again)")
        return self._upload(meta)

    async def read(self, account_id: int, upload_id: str) -> tuple[Upload, bytes]:
        found = await asyncio.to_thread(self.files.read, account_id, upload_id)
        if found is None or found[0].created_at < now_seconds() - self.limits.ttl:
            raise NotFound("no such upload (it may have expired: attach the file again)")
        return self._upload(found[0]), found[1]

    async def delete(self, account_id: int, upload_id: str) -> None:
        if not await asyncio.to_thread(self.files.delete, account_id, upload_id):
            raise NotFound("no such upload")

    async def discard(self, account_id: int, upload_ids: list[str]) -> None:
        """Remove uploads that were sent (missing ones are ignored)."""
        for upload_id in upload_ids:
            await asyncio.to_thread(self.files.delete, account_id, upload_id)
