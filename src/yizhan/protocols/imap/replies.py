"""The ONE mapping from failures to IMAP tagged responses (RFC 9051 §7.1, response codes of RFC 5530 and §7.1).

Invariants: every exception a command raises becomes exactly one tagged NO or BAD here (or an untagged `* BAD`
when the tag could not be read); syntax errors are BAD, refusals NO with the most specific response code; our own
faults are logged with their traceback and answered `NO [SERVERBUG]` without their text, and never end the session.
"""

from __future__ import annotations

import logging

from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.errors import ParseError
from yizhan.util.errors import (
    AlreadyExists,
    AuthenticationFailed,
    InvalidInput,
    LockedOut,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    TemporaryFailure,
)

log = logging.getLogger(__name__)


class Bad(InvalidInput):
    """A command valid in syntax but not here (wrong state, a message number out of range): tagged BAD."""


class TryCreate(NotFound):
    """APPEND or COPY to a folder that does not exist: `NO [TRYCREATE]` (RFC 9051 §6.3.12)."""


class TooBig(InvalidInput):
    """A message or literal above the limit: `NO [TOOBIG]` (RFC 9051 §7.1)."""


class Refused(PermissionDenied):
    """A command the session refuses with a given response code (e.g. `[PRIVACYREQUIRED]`, `[CANNOT]`)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def error_response(tag: str | None, exc: BaseException, utf8: bool = False) -> bytes:
    """The reply to a command that failed with `exc` (the one place for IMAP)."""
    status, code, text = _classify(exc)
    if tag is None:
        return r.untagged_status("BAD", text, code, utf8)
    return r.tagged(tag, status, text, code, utf8)


def _classify(exc: BaseException) -> tuple[str, str | None, str]:
    text = str(exc)
    if isinstance(exc, ParseError):
        return ("BAD" if exc.bad else "NO"), exc.code, exc.message
    if isinstance(exc, Bad):
        return "BAD", None, text
    if isinstance(exc, TryCreate):
        return "NO", "TRYCREATE", text
    if isinstance(exc, TooBig):
        return "NO", "TOOBIG", text
    if isinstance(exc, Refused):
        return "NO", exc.code, text
    if isinstance(exc, LockedOut):
        return "NO", "UNAVAILABLE", text
    if isinstance(exc, AuthenticationFailed):
        return "NO", "AUTHENTICATIONFAILED", text
    if isinstance(exc, PermissionDenied):
        return "NO", "NOPERM", text
    if isinstance(exc, QuotaExceeded):
        return "NO", "OVERQUOTA", text
    if isinstance(exc, TemporaryFailure):
        return "NO", "UNAVAILABLE", text
    if isinstance(exc, AlreadyExists):
        return "NO", "ALREADYEXISTS", text
    if isinstance(exc, NotFound):
        return "NO", "NONEXISTENT", text
    if isinstance(exc, InvalidInput):
        return "NO", "CANNOT", text
    log.error("imap: command failed", exc_info=exc)
    return "NO", "SERVERBUG", "internal error; the command was not completed"
