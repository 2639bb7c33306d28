"""Personal API tokens: stored by the SHA-256 of the token (the token itself is never stored), with a name,
scopes, creation, last use, expiry and revocation.

Invariants:
- Every method but `by_hash` takes `account_id` and filters by it: another account's token is NotFound.
- A token is never deleted by `revoke`, only marked revoked, so its name and use stay visible in the list;
  `delete_revoked` removes revoked and expired ones.
- The number of live tokens of an account never exceeds the `max_count` given to `create`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.store.directory import _account
from yizhan.store.records import AccountRecord
from yizhan.util.clock import now_seconds
from yizhan.util.errors import NotFound, QuotaExceeded


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    account_id: int
    name: str
    hint: str
    scopes: tuple[str, ...]
    created_at: int
    last_used_at: int | None
    expires_at: int | None
    revoked_at: int | None


def _token(row: Any) -> ApiToken:
    return ApiToken(row.id, row.account_id, row.name, row.hint, tuple(row.scopes.split()), row.created_at,
                    row.last_used_at, row.expires_at, row.revoked_at)


def _live(now: int) -> Any:
    tok = t.api_tokens
    return and_(tok.c.revoked_at.is_(None), or_(tok.c.expires_at.is_(None), tok.c.expires_at > now))


class Tokens:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, account_id: int, name: str, token_hash: str, hint: str, scopes: tuple[str, ...],
                     expires_at: int | None, max_count: int) -> ApiToken:
        now = now_seconds()
        tok = t.api_tokens
        async with self.db.write() as conn:
            live = int(await conn.scalar(select(func.count()).where(tok.c.account_id == account_id, _live(now)))
                       or 0)
            if live >= max_count:
                raise QuotaExceeded(f"an account holds at most {max_count} active API tokens; revoke one first")
            result = await conn.execute(insert(tok).values(
                account_id=account_id, name=name, token_hash=token_hash, hint=hint, scopes=" ".join(scopes),
                created_at=now, last_used_at=None, expires_at=expires_at, revoked_at=None))
        return ApiToken(int(result.inserted_primary_key[0]), account_id, name, hint, scopes, now, None, expires_at,
                        None)

    async def list_tokens(self, account_id: int) -> list[ApiToken]:
        async with self.db.read() as conn:
            rows = (await conn.execute(select(t.api_tokens).where(t.api_tokens.c.account_id == account_id)
                                       .order_by(t.api_tokens.c.id))).all()
        return [_token(r) for r in rows]

    async def get(self, account_id: int, token_id: int) -> ApiToken:
        async with self.db.read() as conn:
            row = (await conn.execute(select(t.api_tokens).where(
                t.api_tokens.c.id == token_id, t.api_tokens.c.account_id == account_id))).first()
        if row is None:
            raise NotFound(f"no API token {token_id}")
        return _token(row)

    async def revoke(self, account_id: int, token_id: int) -> None:
        tok = t.api_tokens
        async with self.db.write() as conn:
            result = await conn.execute(update(tok).where(tok.c.id == token_id, tok.c.account_id == account_id)
                                        .values(revoked_at=func.coalesce(tok.c.revoked_at, now_seconds())))
        if result.rowcount == 0:
            raise NotFound(f"no API token {token_id}")

    async def delete_revoked(self, account_id: int) -> int:
        """Remove the account's revoked and expired tokens; returns how many."""
        tok = t.api_tokens
        now = now_seconds()
        async with self.db.write() as conn:
            result = await conn.execute(delete(tok).where(tok.c.account_id == account_id, ~_live(now)))
        return int(result.rowcount)

    async def by_hash(self, token_hash: str) -> tuple[ApiToken, AccountRecord] | None:
        """The token with this hash and its account, whatever their state (the service decides)."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash))).first()
            if row is None:
                return None
            account = (await conn.execute(select(t.accounts).where(t.accounts.c.id == row.account_id))).first()
        if account is None:
            return None
        return _token(row), _account(account)

    async def touch(self, token_id: int, when: int) -> None:
        """Record a use of the token."""
        async with self.db.write() as conn:
            await conn.execute(update(t.api_tokens).where(t.api_tokens.c.id == token_id).values(last_used_at=when))
