"""POP3 replies: status lines, multi-line responses with dot-stuffing, and the ONE mapping from errors to -ERR.

Invariants:
- Every reply line ends with CRLF; reply text never contains CR or LF (they are replaced by spaces).
- A multi-line response is byte-stuffed (RFC 1939 §3): a line beginning with "." gets one more ".", and it ends
  with ".\\r\\n" on a line of its own. Message bytes are otherwise sent exactly as stored, bare LF as CRLF.
- `error_reply` is the only place an exception becomes an -ERR line; response codes follow RFC 2449 §8 and
  RFC 3206 ([AUTH], [SYS/TEMP], [SYS/PERM], [IN-USE]). Our own faults are logged and answered [SYS/TEMP],
  never with their text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from yizhan.protocols.pop3.commands import CommandError
from yizhan.services.maildrop import MaildropInUse, wire_bytes
from yizhan.util.errors import (
    InvalidInput,
    LockedOut,
    NotFound,
    PermissionDenied,
    TemporaryFailure,
    YizhanError,
)

log = logging.getLogger(__name__)

TERMINATOR = b".\r\n"


def _clean(text: str) -> bytes:
    return text.replace("\r", " ").replace("\n", " ").encode("utf-8", "replace")


def ok(text: str = "") -> bytes:
    return b"+OK " + _clean(text) + b"\r\n" if text else b"+OK\r\n"


def err(text: str, code: str | None = None) -> bytes:
    prefix = f"[{code}] " if code else ""
    return b"-ERR " + _clean(prefix + text) + b"\r\n"


def multiline(first: bytes, lines: Iterable[str]) -> bytes:
    """A status line then text lines (listings: LIST, UIDL, CAPA), dot-stuffed and terminated."""
    body = b"".join((b"." if line.startswith(".") else b"") + _clean(line) + b"\r\n" for line in lines)
    return first + body + TERMINATOR


def stuffed(first: bytes, message: bytes) -> bytes:
    """A status line then message bytes (RETR, TOP), already in CRLF form, dot-stuffed and terminated."""
    data = message.replace(b"\r\n.", b"\r\n..")
    if data.startswith(b"."):
        data = b"." + data
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    return b"".join((first, data, TERMINATOR))


def message_reply(first: bytes, raw: bytes) -> bytes:
    """RETR's answer for the stored bytes `raw`."""
    return stuffed(first, wire_bytes(raw))


def error_reply(exc: BaseException) -> bytes:
    """The -ERR line for any failure (the one mapping for POP3)."""
    if isinstance(exc, CommandError):
        return err(str(exc))
    if isinstance(exc, MaildropInUse):
        return err(str(exc), "IN-USE")
    if isinstance(exc, LockedOut):
        return err(str(exc), "SYS/TEMP")
    if isinstance(exc, PermissionDenied):
        return err(str(exc), "AUTH")
    if isinstance(exc, TemporaryFailure):
        return err(str(exc), "SYS/TEMP")
    if isinstance(exc, NotFound | InvalidInput):
        return err(str(exc))
    if isinstance(exc, YizhanError):
        return err(str(exc), "SYS/PERM")
    log.exception("pop3: internal error", exc_info=exc)
    return err("internal error, try again later", "SYS/TEMP")
