"""The one exception tree for expected outcomes. Each protocol maps these to its replies in one place
(SMTP codes, IMAP NO/BAD, POP3 -ERR, HTTP status, CLI exit codes); anything else is a fault of ours.

    YizhanError
    ├── NotFound          a domain, account, alias, folder or message that does not exist
    ├── AlreadyExists     creating what is already there
    ├── InvalidInput      a malformed address, name, value or request
    ├── PermissionDenied  the caller may not do this
    │   └── AuthenticationFailed  wrong address or password (or a disabled account)
    ├── QuotaExceeded     the account is full (temporary for delivery)
    └── TemporaryFailure  try again later (storage busy, shutting down)
        └── LockedOut     too many failed logins: this account or address waits
"""

from __future__ import annotations


class YizhanError(Exception):
    """Base of all expected failures; the message is safe to show to the user."""


class NotFound(YizhanError):
    pass


class AlreadyExists(YizhanError):
    pass


class InvalidInput(YizhanError):
    pass


class PermissionDenied(YizhanError):
    pass


class AuthenticationFailed(PermissionDenied):
    pass


class QuotaExceeded(YizhanError):
    pass


class TemporaryFailure(YizhanError):
    pass


class LockedOut(TemporaryFailure):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
