"""SMTP replies: the ONE place where outcomes and errors become reply lines, and enhanced status codes are added.

- `reply_for(error, phase)` maps the `util/errors.py` tree to a reply for the command phase it happened in
  (RFC 5321 §4.2.2, RFC 3463 codes). Anything that is not a `YizhanError` is a fault of ours: `451 4.3.0`, a
  temporary failure, so the client retries and never bounces because of our bug.
- `with_enhanced_code(line)` gives every 2xx/4xx/5xx reply line an enhanced status code (RFC 2034 §3), adding a
  default for its basic code when the line (often one of aiosmtpd's own) has none. 3xx replies have none.

Invariants: a reply is one line of printable ASCII text (CR, LF and controls removed) and never longer than the
512 octets of RFC 5321 §4.5.3.1.5; no secret ever goes into one.
"""

from __future__ import annotations

import re
from typing import Literal

from yizhan.util.errors import (
    AuthenticationFailed,
    InvalidInput,
    LockedOut,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    TemporaryFailure,
    YizhanError,
)

Phase = Literal["auth", "mail", "rcpt", "data"]

INTERNAL_ERROR = "451 4.3.0 Internal error, please try again later"
TOO_MANY_ERRORS = "421 4.7.0 Too many errors, closing the connection"
TOO_MANY_CONNECTIONS = "421 4.7.0 Too many connections, try again later"
TOO_MANY_FROM_IP = "421 4.7.0 Too many connections from your address, try again later"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
TOO_MANY_MESSAGES = "421 4.7.0 Too many messages in one session, closing the connection"
AUTH_REQUIRED = "530 5.7.0 Authentication required"
AUTH_OK = "235 2.7.0 Authentication successful"

# RFC 3463 defaults for replies that come without an enhanced code.
_DEFAULTS = {
    211: "2.0.0", 214: "2.0.0", 220: "2.0.0", 221: "2.0.0", 235: "2.7.0", 250: "2.0.0", 251: "2.1.5",
    252: "2.5.0", 421: "4.7.0", 450: "4.2.0", 451: "4.3.0", 452: "4.3.1", 454: "4.7.0", 455: "4.5.4",
    500: "5.5.2", 501: "5.5.4", 502: "5.5.1", 503: "5.5.1", 504: "5.5.4", 530: "5.7.0", 534: "5.7.9",
    535: "5.7.8", 538: "5.7.11", 550: "5.0.0", 551: "5.1.6", 552: "5.3.4", 553: "5.1.3", 554: "5.0.0",
    555: "5.5.4",
}
_REPLY = re.compile(r"^([245]\d\d)([ -])(.*)$", re.DOTALL)
_HAS_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}(?: |$)")
# Basic codes of replies that answer a command the client got wrong (RFC 5321 §4.2.4): counted against
# the session's budget of bad commands.
BAD_COMMAND_CODES = frozenset({500, 501, 502, 503, 504, 555})


def clean(text: str, limit: int = 400) -> str:
    """Text safe inside a reply: printable ASCII on one line."""
    return "".join(ch if " " <= ch <= "~" else "?" for ch in text)[:limit]


def with_enhanced_code(line: str) -> str:
    """`line` with an enhanced status code after the basic one, unless it has one or is not 2xx/4xx/5xx."""
    match = _REPLY.match(line)
    if match is None:
        return line
    code, sep, text = match.groups()
    if _HAS_ENHANCED.match(text):
        return line
    default = _DEFAULTS.get(int(code), f"{code[0]}.0.0")
    return f"{code}{sep}{default} {text}" if text else f"{code}{sep}{default}"


def basic_code(line: str) -> int:
    """The basic code of a reply line, 0 when it does not start with one."""
    return int(line[:3]) if len(line) >= 3 and line[:3].isdigit() else 0


def reply_for(error: BaseException, phase: Phase) -> str:
    """The reply for `error` raised while handling a command of `phase`."""
    if not isinstance(error, YizhanError):
        return INTERNAL_ERROR
    text = clean(str(error))
    if isinstance(error, LockedOut):
        return f"454 4.7.0 Too many failed logins, try again in {error.retry_after} seconds"
    if isinstance(error, AuthenticationFailed):
        return "535 5.7.8 Authentication credentials invalid"
    if isinstance(error, QuotaExceeded):
        # RFC 3463 §3.3: mailbox full, temporary by default so the sender retries.
        return f"452 4.2.2 {text}"
    if isinstance(error, TemporaryFailure):
        return f"451 4.3.0 {text}"
    if isinstance(error, NotFound):
        return f"550 5.1.1 {text}"
    if isinstance(error, PermissionDenied):
        if phase == "rcpt":
            return f"554 5.7.1 {text}"  # relay access denied
        return f"553 5.7.1 {text}"  # sending as an address the account does not own
    if isinstance(error, InvalidInput):
        if phase == "rcpt":
            return f"501 5.1.3 {text}"
        if phase == "mail":
            return f"501 5.1.7 {text}"
        return f"554 5.6.0 {text}"
    return f"554 5.0.0 {text}"
