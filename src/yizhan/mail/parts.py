"""The parts of a stored message for downloads: part paths, decoded bytes, file names, a zip of attachments.

Part paths are IMAP section numbers (RFC 9051 §6.4.5): "1.2" is the second part of the first part; a message that
is not multipart has one part, "1"; the parts of an attached message/rfc822 at "2" are "2.1", "2.2", … So the web
and IMAP name the same part the same way, and `mail.imapformat.find_section` finds it.

Invariants: pure (the zip is built in memory) and never raises on any message: a path that names no part gives
None. File names that leave here are safe on every common file system: no path separators, control characters,
reserved Windows names or leading dots, at most `MAX_FILENAME_BYTES` bytes of UTF-8; `unique_names` makes them
unique within one zip (case-insensitively, as Windows and macOS compare them).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from yizhan.mail.charsets import decode_header_value
from yizhan.mail.imapformat import MimePart, find_section, parse_params, parse_structure
from yizhan.mail.parse import _decoded_param, decode_body

MAX_FILENAME_BYTES = 200
MAX_PATH_DEPTH = 50
# A zip holds at most this many entries.
MAX_ZIP_ENTRIES = 1000

_PATH = re.compile(r"^[1-9][0-9]{0,4}(?:\.[1-9][0-9]{0,4})*$")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"*/:<>?\\|\u202a-\u202e\u2066-\u2069]')
_RESERVED = re.compile(r"^(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\..*)?$", re.IGNORECASE)
# File name extensions for parts that have no name, by content type (mimetypes would read system files).
_EXTENSIONS = {
    "text/plain": ".txt", "text/html": ".html", "text/calendar": ".ics", "text/csv": ".csv", "image/png": ".png",
    "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "image/bmp": ".bmp", "image/svg+xml": ".svg",
    "application/pdf": ".pdf", "application/zip": ".zip", "message/rfc822": ".eml", "message/global": ".eml",
    "application/msword": ".doc", "application/vnd.ms-excel": ".xls", "audio/mpeg": ".mp3", "video/mp4": ".mp4",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/rfc822-headers": ".txt", "message/delivery-status": ".txt", "application/pgp-signature": ".asc",
}  # fmt: skip
# Already compressed: stored in the zip as they are, not deflated again.
_COMPRESSED = re.compile(r"^(?:image/(?!bmp|svg)|video/|audio/|application/(?:zip|gzip|x-7z|x-rar|pdf|vnd\.open))")


@dataclass(frozen=True, slots=True)
class PartData:
    """One part's decoded bytes, with what a download needs to describe them."""

    path: str
    filename: str
    content_type: str
    # The charset parameter of a text part ("" when none), to label the download.
    charset: str
    data: bytes


def parse_path(path: str) -> tuple[int, ...] | None:
    """"1.2" → (1, 2); None when it is not a part path."""
    if not isinstance(path, str) or not _PATH.match(path) or path.count(".") >= MAX_PATH_DEPTH:
        return None
    return tuple(int(n) for n in path.split("."))


def child_path(prefix: str, index: int) -> str:
    return f"{prefix}.{index}" if prefix else str(index)


def content_type(part: MimePart) -> str:
    return f"{part.maintype}/{part.subtype}"


def disposition(part: MimePart) -> str:
    return parse_params(part.header("content-disposition") or "")[0]


def part_filename(part: MimePart) -> str:
    """The decoded file name (Content-Disposition filename, else Content-Type name; RFC 2047, RFC 2231 and raw
    8-bit), or "" when it has none; for an attached message without a name, its subject."""
    name = ""
    header = part.header("content-disposition")
    if header:
        name = _decoded_param(parse_params(header)[1], "filename") or ""
    if not name:
        name = _decoded_param(part.params, "name") or ""
    if not name and part.message is not None:
        subject = decode_header_value(part.message.header("subject") or "")
        name = (subject.strip() or "message") + ".eml"
    return " ".join(name.split())


def content_id(part: MimePart) -> str:
    value = part.header("content-id") or ""
    return value.strip().strip("<>").strip()


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """A file name safe to write anywhere: one component, printable, not reserved, bounded in UTF-8 bytes."""
    name = unicodedata.normalize("NFC", name or "")
    # Only the last component counts: "../../etc/passwd" → "passwd", "C:\\x\\y.doc" → "y.doc".
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("_", name).strip().strip(".").strip()
    if not name or _RESERVED.match(name):
        name = (fallback + "_" + name) if name else fallback
    data = name.encode("utf-8")
    if len(data) > MAX_FILENAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        ext = (dot + ext) if dot and len(ext.encode()) <= 16 else ""
        stem = stem if dot and ext else name
        budget = MAX_FILENAME_BYTES - len(ext.encode("utf-8"))
        stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore")
        name = stem + ext
    return name


def default_filename(path: str, ctype: str) -> str:
    return f"part-{path}{_EXTENSIONS.get(ctype, '.bin')}"


def unique_names(names: Iterable[str]) -> list[str]:
    """The names made unique, later duplicates becoming "name (2).ext", "name (3).ext", … (case-insensitive)."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate = name
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, dot, ext = name, "", ""
        number = 2
        while candidate.casefold() in seen:
            candidate = f"{stem} ({number}){dot}{ext}"
            number += 1
        seen.add(candidate.casefold())
        out.append(candidate)
    return out


def decoded_size(raw: bytes, part: MimePart) -> int:
    """The size of the part's content once decoded; base64 is counted without decoding it."""
    encoding = (part.header("content-transfer-encoding") or "").strip().lower()
    if encoding == "base64":
        length = part.end - part.body_start
        if length > 64 * 1024:
            body = raw[part.body_start : part.end]
            chars = length - sum(body.count(c) for c in (b"\n", b"\r", b" ", b"\t", b"="))
            return chars * 3 // 4
    if part.message is not None:
        return part.end - part.body_start
    return len(decode_body(raw, part))


def part_bytes(raw: bytes, part: MimePart) -> bytes:
    """The content of a part: transfer encoding undone; an attached message as its bytes."""
    return decode_body(raw, part)


def find_part(raw: bytes, path: str, root: MimePart | None = None) -> MimePart | None:
    section = parse_path(path)
    if section is None:
        return None
    try:
        tree = root if root is not None else parse_structure(raw)
        part = find_section(tree, section)
    except Exception:
        return None
    if part is None or part.parts:
        return None
    return part


def extract_part(raw: bytes, path: str, root: MimePart | None = None) -> PartData | None:
    """The decoded bytes of the leaf part at `path` (e.g. "1.2"), or None when there is no such leaf part."""
    part = find_part(raw, path, root)
    if part is None:
        return None
    try:
        ctype = content_type(part)
        name = safe_filename(part_filename(part), default_filename(path, ctype))
        charset = (part.param("charset") or "") if part.maintype == "text" else ""
        return PartData(path, name, ctype, charset.strip()[:40], part_bytes(raw, part))
    except Exception:
        return None


def attachments_zip(raw: bytes, paths: Sequence[str], max_bytes: int = 200 * 1024 * 1024) -> bytes:
    """A zip of the parts at `paths` with safe, unique UTF-8 names (the zip's UTF-8 flag set for non-ASCII).

    Parts that do not exist are skipped; at most `MAX_ZIP_ENTRIES` parts and `max_bytes` of content go in.
    CPU-heavy: call it in a worker thread.
    """
    root = parse_structure(raw)
    found = [p for p in (extract_part(raw, path, root) for path in paths[:MAX_ZIP_ENTRIES]) if p is not None]
    names = unique_names(p.filename for p in found)
    buffer = io.BytesIO()
    total = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, part in zip(names, found, strict=True):
            total += len(part.data)
            if total > max_bytes:
                break
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if _COMPRESSED.match(part.content_type) else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, part.data)
    return buffer.getvalue()


__all__ = ["PartData", "attachments_zip", "child_path", "content_id", "decoded_size", "default_filename",
           "extract_part", "find_part", "parse_path", "part_filename", "safe_filename", "unique_names"]
