"""Account settings (name → JSON value), signatures, and senders whose remote images an account always shows.

Invariants:
- Every method takes `account_id` and every statement filters by it: another account's signature is NotFound.
- The store keeps values as given; services/settings.py validates them and supplies defaults for missing names.
- Exactly one signature of an account that has any is the default: the first one added is, setting another
  clears the others, and deleting the default promotes the oldest remaining one, each in one transaction.
- Counts are bounded by the `max_count` given to the creating calls, checked in the writing transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.util.clock import now_seconds
from yizhan.util.errors import NotFound, QuotaExceeded


@dataclass(frozen=True, slots=True)
class Signature:
    id: int
    name: str
    body: str
    format: str
    is_default: bool
    created_at: int
    updated_at: int


def _signature(row: Any) -> Signature:
    return Signature(row.id, row.name, row.body, row.format, bool(row.is_default), row.created_at, row.updated_at)


class AccountSettingsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Name → value

    async def values(self, account_id: int) -> dict[str, Any]:
        """Every stored setting of the account, JSON-decoded (unreadable values are left out)."""
        s = t.account_settings
        async with self.db.read() as conn:
            rows = (await conn.execute(select(s.c.name, s.c.value).where(s.c.account_id == account_id))).all()
        out: dict[str, Any] = {}
        for name, value in rows:
            try:
                out[name] = json.loads(value)
            except ValueError:
                continue
        return out

    async def put(self, account_id: int, values: Mapping[str, Any]) -> None:
        """Store the values (JSON-encoded) in one transaction; a value None removes the setting."""
        s = t.account_settings
        async with self.db.write() as conn:
            for name, value in values.items():
                await conn.execute(delete(s).where(s.c.account_id == account_id, s.c.name == name))
                if value is not None:
                    await conn.execute(insert(s).values(account_id=account_id, name=name,
                                                        value=json.dumps(value, ensure_ascii=False)))

    # Signatures

    async def signatures(self, account_id: int) -> list[Signature]:
        async with self.db.read() as conn:
            rows = (await conn.execute(select(t.signatures).where(t.signatures.c.account_id == account_id)
                                       .order_by(t.signatures.c.id))).all()
        return [_signature(r) for r in rows]

    async def add_signature(self, account_id: int, name: str, body: str, format: str, is_default: bool,
                            max_count: int) -> Signature:
        now = now_seconds()
        async with self.db.write() as conn:
            have = int(await conn.scalar(select(func.count()).where(t.signatures.c.account_id == account_id)) or 0)
            if have >= max_count:
                raise QuotaExceeded(f"an account holds at most {max_count} signatures")
            # The first signature is the default one.
            is_default = is_default or have == 0
            if is_default:
                await _clear_default(conn, account_id)
            result = await conn.execute(insert(t.signatures).values(
                account_id=account_id, name=name, body=body, format=format, is_default=is_default, created_at=now,
                updated_at=now))
        return Signature(int(result.inserted_primary_key[0]), name, body, format, is_default, now, now)

    async def update_signature(self, account_id: int, signature_id: int, **changes: Any) -> Signature:
        """Change name, body, format and/or is_default (True makes it the only default)."""
        sig = t.signatures
        async with self.db.write() as conn:
            owned = await conn.scalar(select(sig.c.id).where(sig.c.id == signature_id,
                                                              sig.c.account_id == account_id))
            if owned is None:
                raise NotFound(f"no signature {signature_id}")
            if changes.get("is_default"):
                await _clear_default(conn, account_id)
            elif "is_default" in changes:
                # A default is replaced by making another one the default, never just cleared.
                changes = {k: v for k, v in changes.items() if k != "is_default"}
            await conn.execute(update(sig).where(sig.c.id == signature_id, sig.c.account_id == account_id)
                               .values(updated_at=now_seconds(), **changes))
            row = (await conn.execute(select(sig).where(sig.c.id == signature_id))).one()
        return _signature(row)

    async def delete_signature(self, account_id: int, signature_id: int) -> None:
        sig = t.signatures
        async with self.db.write() as conn:
            was_default = await conn.scalar(select(sig.c.is_default).where(sig.c.id == signature_id,
                                                                            sig.c.account_id == account_id))
            if was_default is None:
                raise NotFound(f"no signature {signature_id}")
            await conn.execute(delete(sig).where(sig.c.id == signature_id, sig.c.account_id == account_id))
            if was_default:
                # The oldest remaining signature becomes the default, so an account with signatures has one.
                oldest = await conn.scalar(select(func.min(sig.c.id)).where(sig.c.account_id == account_id))
                if oldest is not None:
                    await conn.execute(update(sig).where(sig.c.id == oldest).values(is_default=True))

    # Senders whose remote images are always shown

    async def image_senders(self, account_id: int) -> list[str]:
        s = t.image_senders
        async with self.db.read() as conn:
            return list((await conn.execute(select(s.c.sender).where(s.c.account_id == account_id)
                                            .order_by(s.c.sender))).scalars())

    async def has_image_sender(self, account_id: int, candidates: list[str]) -> bool:
        """Whether any of `candidates` (an address and its "@domain") is on the account's list."""
        s = t.image_senders
        async with self.db.read() as conn:
            found = await conn.scalar(select(s.c.sender).where(s.c.account_id == account_id,
                                                                s.c.sender.in_(candidates)).limit(1))
        return found is not None

    async def add_image_sender(self, account_id: int, sender: str, max_count: int) -> bool:
        """Add `sender`; False when it was there already."""
        s = t.image_senders
        try:
            async with self.db.write() as conn:
                have = int(await conn.scalar(select(func.count()).where(s.c.account_id == account_id)) or 0)
                if await conn.scalar(select(s.c.sender).where(s.c.account_id == account_id,
                                                               s.c.sender == sender)) is not None:
                    return False
                if have >= max_count:
                    raise QuotaExceeded(f"at most {max_count} senders can have their images always shown")
                await conn.execute(insert(s).values(account_id=account_id, sender=sender, created_at=now_seconds()))
        except IntegrityError:
            return False
        return True

    async def remove_image_sender(self, account_id: int, sender: str) -> None:
        s = t.image_senders
        async with self.db.write() as conn:
            result = await conn.execute(delete(s).where(s.c.account_id == account_id, s.c.sender == sender))
        if result.rowcount == 0:
            raise NotFound(f"{sender} is not on the list of senders whose images are shown")


async def _clear_default(conn: AsyncConnection, account_id: int) -> None:
    await conn.execute(update(t.signatures).where(t.signatures.c.account_id == account_id,
                                                  t.signatures.c.is_default.is_(True)).values(is_default=False))
