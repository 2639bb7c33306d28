"""Personal API tokens: an account creates named tokens with scopes and an optional expiry, sees them listed
(never the secret again), revokes them; the API authenticates a request with one.

Rules kept here:
- A token is "yzt_" + 43 URL-safe characters (32 random bytes from `secrets`). Only its SHA-256 is stored: being
  high-entropy, it needs no slow hash. The secret is returned once, by `create`.
- `authenticate` refuses (AuthenticationFailed, with one message for every cause) an unknown, revoked or expired
  token and a token of a disabled account. It records the use at most once a minute per token.
- Scopes are from SCOPES; "admin" is granted only to accounts whose role is admin or domain-admin, and the role is
  checked again at every authentication (a demoted account's admin token keeps only its other scopes).
- Every call but `authenticate` names the account; another account's token is NotFound.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

from yizhan.store.records import AccountRecord
from yizhan.store.store import Store
from yizhan.store.tokens import ApiToken, Tokens
from yizhan.util.clock import now_seconds
from yizhan.util.errors import AuthenticationFailed, InvalidInput, PermissionDenied

PREFIX = "yzt_"
SCOPES = ("read", "write", "admin")
ADMIN_ROLES = ("admin", "domain-admin")
_TOUCH_EVERY = 60


@dataclass(frozen=True, slots=True)
class TokenLimits:
    max_tokens: int = 50
    max_name: int = 100
    # The longest lifetime a token may be given, in days (0: no limit, tokens may also never expire).
    max_days: int = 0


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just created: `secret` is shown to the user this once and never stored."""

    token: ApiToken
    secret: str


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class TokenService:
    def __init__(self, store: Store, limits: TokenLimits | None = None) -> None:
        self.tokens = Tokens(store.db)
        self.limits = limits or TokenLimits()

    async def create(self, account: AccountRecord, name: str, scopes: list[str] | tuple[str, ...],
                     expires_in_days: int | None = None) -> NewToken:
        cleaned = " ".join("".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in name).split())
        if not cleaned or len(cleaned) > self.limits.max_name:
            raise InvalidInput(f"a token needs a name of 1 to {self.limits.max_name} characters")
        wanted = tuple(dict.fromkeys(scopes))
        if not wanted or any(s not in SCOPES for s in wanted):
            raise InvalidInput(f"scopes must be one or more of {', '.join(SCOPES)}")
        if "admin" in wanted and account.role not in ADMIN_ROLES:
            raise PermissionDenied("only administrators can create tokens with the admin scope")
        expires_at = None
        if expires_in_days is not None:
            if expires_in_days < 1 or (self.limits.max_days and expires_in_days > self.limits.max_days):
                top = self.limits.max_days or 36500
                raise InvalidInput(f"a token expires in 1 to {top} days")
            expires_at = now_seconds() + min(expires_in_days, 36500) * 86400
        elif self.limits.max_days:
            raise InvalidInput(f"give the token an expiry of at most {self.limits.max_days} days")
        secret = PREFIX + secrets.token_urlsafe(32)
        token = await self.tokens.create(account.id, cleaned, token_hash(secret), secret[:len(PREFIX) + 4],
                                         wanted, expires_at, self.limits.max_tokens)
        return NewToken(token, secret)

    async def list_tokens(self, account_id: int) -> list[ApiToken]:
        return await self.tokens.list_tokens(account_id)

    async def revoke(self, account_id: int, token_id: int) -> None:
        await self.tokens.revoke(account_id, token_id)

    async def delete_revoked(self, account_id: int) -> int:
        return await self.tokens.delete_revoked(account_id)

    async def authenticate(self, secret: str) -> tuple[AccountRecord, tuple[str, ...]]:
        """The account and scopes a token grants; AuthenticationFailed when it grants nothing."""
        refused = AuthenticationFailed("the API token is not valid (unknown, revoked or expired)")
        if not secret.startswith(PREFIX) or len(secret) > 200:
            raise refused
        found = await self.tokens.by_hash(token_hash(secret))
        if found is None:
            raise refused
        token, account = found
        now = now_seconds()
        if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
            raise refused
        if account.disabled:
            raise AuthenticationFailed("the account of this API token is disabled")
        scopes = tuple(s for s in token.scopes if s != "admin" or account.role in ADMIN_ROLES)
        if token.last_used_at is None or now - token.last_used_at >= _TOUCH_EVERY:
            await self.tokens.touch(token.id, now)
        return account, scopes
