"""Archive format detection for `yizhan import`.

Invariant: `detect_format` only looks at directory entries and the first 64 KiB of a file, and it raises
`ArchiveError` with a message a user can act on rather than guessing when a file is neither an mbox nor a
single message.
"""

from __future__ import annotations

import re
from pathlib import Path

from yizhan.services.archive.model import ArchiveError, ArchiveFormat

_HEAD = 64 * 1024
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ": "xz",
    b"PK\x03\x04": "zip",
    b"(\xb5/\xfd": "zstd",
}


def detect_format(path: Path) -> ArchiveFormat:
    """The format of the archive at `path`: a folder with cur/ or new/ is a Maildir, any other folder a folder
    of .eml files, a file starting with a From_ line an mbox, and a file starting with a header a single
    message (read as an "emldir" of one file)."""
    path = Path(path)
    if path.is_dir():
        return "maildir" if (path / "cur").is_dir() or (path / "new").is_dir() else "emldir"
    if not path.exists():
        raise ArchiveError(f"{path}: no such file or folder")
    if not path.is_file():
        raise ArchiveError(f"{path}: not a regular file or folder")
    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD)
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read: {exc}") from exc
    for magic, kind in _COMPRESSED.items():
        if head.startswith(magic):
            raise ArchiveError(f"{path}: this is a {kind} compressed file; decompress it before importing")
    content = head.lstrip(b"\r\n")
    if not content or content.startswith(b"From "):
        return "mbox"
    if _HEADER_LINE.match(content):
        return "emldir"
    # An mbox whose first lines are damaged: the reader keeps them as a malformed message.
    if re.search(rb"\n\r?\nFrom \S+ .*\d\d:\d\d", content):
        return "mbox"
    raise ArchiveError(
        f"{path}: not a recognised archive: an mbox file must start with a 'From ' line and a single "
        "message with a header line; give a Maildir folder or a folder of .eml files instead"
    )
