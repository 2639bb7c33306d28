"""Domains, accounts and aliases: the directory of who receives mail here.

Addresses are stored normalised (lowercase) by the services; the store compares them as given.
Creating an account creates its default folders in the same transaction, so an account never exists without
an INBOX.

Every write here bumps the `directory_version` row in its own transaction, so a process that caches the directory
(`snapshot`, services/dircache.py) learns of any change, from this process or another (the CLI), by reading one
row; `changes` counts this process's writes, so it learns of its own without reading anything. Account usage
(`used_bytes`, kept by store/ingest.py and store/messages.py) is not part of the version: read it with `usage`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.store.events import AccountChanged, Event, FolderCreated
from yizhan.store.folders import insert_folder
from yizhan.store.outbound import blobs_in_use
from yizhan.store.records import AccountRecord, AliasRecord, DomainRecord
from yizhan.store.sqlrun import Tx
from yizhan.util.clock import now_seconds
from yizhan.util.errors import AlreadyExists, NotFound


def _account(row: Any) -> AccountRecord:
    return AccountRecord(
        id=row.id, domain_id=row.domain_id, address=row.address, display_name=row.display_name,
        password_hash=row.password_hash, role=row.role, quota_bytes=row.quota_bytes, used_bytes=row.used_bytes,
        disabled=bool(row.disabled), credentials_serial=row.credentials_serial, created_at=row.created_at,
    )


# The columns of an AccountRecord, in its field order.
_ACCOUNT_COLUMNS = ("id, domain_id, address, display_name, password_hash, role, quota_bytes, used_bytes, disabled, "
                    "credentials_serial, created_at")


def _account_of(row: tuple[Any, ...]) -> AccountRecord:
    (id_, domain_id, address, display_name, password_hash, role, quota_bytes, used_bytes, disabled,
     credentials_serial, created_at) = row
    return AccountRecord(id_, domain_id, address, display_name, password_hash, role, quota_bytes, used_bytes,
                         bool(disabled), credentials_serial, created_at)


@dataclass(frozen=True, slots=True)
class DirectorySnapshot:
    """The whole directory as of one `version`, read in one transaction."""

    version: int
    domains: dict[str, DomainRecord]
    accounts: dict[str, AccountRecord]
    # Source (an address, or "@domain" for a catch-all) → its targets.
    aliases: dict[str, tuple[str, ...]]
    # Account id → the id of its INBOX (special use "inbox").
    inboxes: dict[int, int]


async def bump_version(conn: AsyncConnection) -> None:
    """Announce a directory change, inside the caller's write transaction."""
    await conn.execute(update(t.directory_version).where(t.directory_version.c.id == 1).values(
        version=t.directory_version.c.version + 1))


class Directory:
    """Reads and writes of domains, accounts and aliases."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Directory writes this process committed.
        self.changes = 0

    def _changed(self) -> None:
        self.changes += 1

    # The directory as a whole, for caches

    async def version(self) -> int:
        def read(tx: Tx) -> int:
            row = tx.one("SELECT version FROM directory_version WHERE id = 1")
            return int(row[0]) if row else 0

        return await self.db.run_read(read)

    async def snapshot(self) -> DirectorySnapshot:
        async with self.db.read() as conn:
            version = await conn.scalar(select(t.directory_version.c.version).where(t.directory_version.c.id == 1))
            domains = {r.name: DomainRecord(r.id, r.name, r.created_at)
                       for r in (await conn.execute(select(t.domains))).all()}
            accounts = {r.address: _account(r) for r in (await conn.execute(select(t.accounts))).all()}
            aliases: dict[str, list[str]] = {}
            for source, target in (await conn.execute(
                    select(t.aliases.c.source, t.aliases.c.target).order_by(t.aliases.c.id))).all():
                aliases.setdefault(source, []).append(target)
            inboxes = {r.account_id: r.id for r in (await conn.execute(
                select(t.folders.c.id, t.folders.c.account_id).where(t.folders.c.special_use == "inbox"))).all()}
        return DirectorySnapshot(int(version or 0), domains, accounts,
                                 {k: tuple(v) for k, v in aliases.items()}, inboxes)

    async def usage(self, account_ids: Sequence[int]) -> dict[int, int]:
        """The bytes each account uses now (changes with every delivery, so never cached)."""
        async with self.db.read() as conn:
            rows = (await conn.execute(select(t.accounts.c.id, t.accounts.c.used_bytes).where(
                t.accounts.c.id.in_(list(account_ids))))).all()
        return {r.id: int(r.used_bytes) for r in rows}

    # Domains

    async def add_domain(self, name: str) -> DomainRecord:
        created = now_seconds()
        try:
            async with self.db.write() as conn:
                result = await conn.execute(insert(t.domains).values(name=name, created_at=created))
                domain_id = result.inserted_primary_key[0]
                await bump_version(conn)
        except IntegrityError as exc:
            raise AlreadyExists(f"domain {name} already exists") from exc
        self._changed()
        return DomainRecord(domain_id, name, created)

    async def get_domain(self, name: str) -> DomainRecord | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(t.domains).where(t.domains.c.name == name))).first()
        return DomainRecord(row.id, row.name, row.created_at) if row else None

    async def list_domains(self) -> list[tuple[DomainRecord, int, int]]:
        """Each domain with its number of accounts and aliases."""
        accounts = select(func.count()).where(t.accounts.c.domain_id == t.domains.c.id).scalar_subquery()
        aliases = select(func.count()).where(t.aliases.c.domain_id == t.domains.c.id).scalar_subquery()
        query = select(t.domains, accounts.label("n_accounts"), aliases.label("n_aliases")).order_by(
            t.domains.c.name)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [(DomainRecord(r.id, r.name, r.created_at), r.n_accounts, r.n_aliases) for r in rows]

    async def remove_domain(self, name: str) -> None:
        async with self.db.write() as conn:
            result = await conn.execute(delete(t.domains).where(t.domains.c.name == name))
            await bump_version(conn)
        self._changed()
        if result.rowcount == 0:
            raise NotFound(f"no domain {name}")

    async def count_domain_members(self, domain_id: int) -> tuple[int, int]:
        async with self.db.read() as conn:
            n_acc = await conn.scalar(select(func.count()).where(t.accounts.c.domain_id == domain_id))
            n_ali = await conn.scalar(select(func.count()).where(t.aliases.c.domain_id == domain_id))
        return int(n_acc or 0), int(n_ali or 0)

    # Accounts

    async def add_account(
        self, domain_id: int, address: str, password_hash: str, role: str, quota_bytes: int,
        display_name: str, folders: Sequence[tuple[str, str | None]],
    ) -> tuple[AccountRecord, list[Event]]:
        created = now_seconds()
        values = dict(domain_id=domain_id, address=address, display_name=display_name,
                      password_hash=password_hash, role=role, quota_bytes=quota_bytes, used_bytes=0,
                      disabled=False, credentials_serial=0, created_at=created)
        events: list[Event] = []
        try:
            async with self.db.write() as conn:
                result = await conn.execute(insert(t.accounts).values(**values))
                account_id = result.inserted_primary_key[0]
                for name, special_use in folders:
                    folder = await insert_folder(conn, account_id, name, special_use)
                    events.append(FolderCreated(account_id, folder.id, name))
                await bump_version(conn)
        except IntegrityError as exc:
            raise AlreadyExists(f"account {address} already exists") from exc
        self._changed()
        return AccountRecord(id=account_id, **values), events  # type: ignore[arg-type]

    async def get_account(self, address: str) -> AccountRecord | None:
        # Every login and every web request reads its account: plain SQL on a reader thread (store/sqlrun.py).
        def read(tx: Tx) -> AccountRecord | None:
            row = tx.one(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE address = ?", (address,))
            return _account_of(row) if row else None

        return await self.db.run_read(read)

    async def get_account_by_id(self, account_id: int) -> AccountRecord | None:
        def read(tx: Tx) -> AccountRecord | None:
            row = tx.one(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = ?", (account_id,))
            return _account_of(row) if row else None

        return await self.db.run_read(read)

    async def list_accounts(self, domain_id: int | None = None) -> list[AccountRecord]:
        query = select(t.accounts).order_by(t.accounts.c.address)
        if domain_id is not None:
            query = query.where(t.accounts.c.domain_id == domain_id)
        async with self.db.read() as conn:
            return [_account(r) for r in (await conn.execute(query)).all()]

    async def update_account(self, address: str, **changes: Any) -> tuple[AccountRecord, list[Event]]:
        """Change columns of an account; a new password hash also bumps `credentials_serial`."""
        values = dict(changes)
        if "password_hash" in values or "disabled" in values:
            values["credentials_serial"] = t.accounts.c.credentials_serial + 1
        async with self.db.write() as conn:
            result = await conn.execute(update(t.accounts).where(t.accounts.c.address == address).values(**values))
            if result.rowcount == 0:
                raise NotFound(f"no account {address}")
            row = (await conn.execute(select(t.accounts).where(t.accounts.c.address == address))).one()
            await bump_version(conn)
        self._changed()
        record = _account(row)
        return record, [AccountChanged(record.id)]

    async def remove_account(self, address: str) -> tuple[AccountRecord, list[str]]:
        """Delete the account and everything it owns; returns the blobs no longer referenced by anyone."""
        async with self.db.write() as conn:
            row = (await conn.execute(select(t.accounts).where(t.accounts.c.address == address))).first()
            if row is None:
                raise NotFound(f"no account {address}")
            blobs = (await conn.execute(
                select(t.messages.c.blob).where(t.messages.c.account_id == row.id).distinct())).scalars().all()
            await _delete_account_rows(conn, row.id)
            still_used = set()
            if blobs:
                still_used = set((await conn.execute(
                    select(t.messages.c.blob).where(t.messages.c.blob.in_(blobs)).distinct())).scalars().all())
                still_used |= await blobs_in_use(conn, blobs)
            await bump_version(conn)
        self._changed()
        return _account(row), [b for b in blobs if b not in still_used]

    # Aliases

    async def add_alias(self, domain_id: int, source: str, target: str) -> AliasRecord:
        try:
            async with self.db.write() as conn:
                result = await conn.execute(insert(t.aliases).values(
                    domain_id=domain_id, source=source, target=target, created_at=now_seconds()))
                await bump_version(conn)
        except IntegrityError as exc:
            raise AlreadyExists(f"alias {source} → {target} already exists") from exc
        self._changed()
        return AliasRecord(result.inserted_primary_key[0], source, target)

    async def list_aliases(self, domain_id: int | None = None) -> list[AliasRecord]:
        query = select(t.aliases).order_by(t.aliases.c.source, t.aliases.c.target)
        if domain_id is not None:
            query = query.where(t.aliases.c.domain_id == domain_id)
        async with self.db.read() as conn:
            return [AliasRecord(r.id, r.source, r.target) for r in (await conn.execute(query)).all()]

    async def remove_alias(self, source: str, target: str | None) -> int:
        query = delete(t.aliases).where(t.aliases.c.source == source)
        if target is not None:
            query = query.where(t.aliases.c.target == target)
        async with self.db.write() as conn:
            removed = (await conn.execute(query)).rowcount
            await bump_version(conn)
        self._changed()
        if not removed:
            raise NotFound(f"no alias {source}" + (f" → {target}" if target else ""))
        return int(removed)

    async def alias_targets(self, sources: Sequence[str]) -> dict[str, list[str]]:
        """Targets of each of `sources` (addresses or "@domain" catch-alls)."""
        async with self.db.read() as conn:
            rows = (await conn.execute(select(t.aliases.c.source, t.aliases.c.target).where(
                t.aliases.c.source.in_(list(sources))))).all()
        found: dict[str, list[str]] = {}
        for source, target in rows:
            found.setdefault(source, []).append(target)
        return found

    async def accounts_by_address(self, addresses: Sequence[str]) -> dict[str, AccountRecord]:
        async with self.db.read() as conn:
            rows = (await conn.execute(select(t.accounts).where(
                t.accounts.c.address.in_(list(addresses))))).all()
        return {r.address: _account(r) for r in rows}


async def _delete_account_rows(conn: AsyncConnection, account_id: int) -> None:
    # Deleted child-first so the work does not depend on the database enforcing ON DELETE CASCADE.
    folder_ids = select(t.folders.c.id).where(t.folders.c.account_id == account_id).scalar_subquery()
    await conn.execute(delete(t.entries).where(t.entries.c.folder_id.in_(folder_ids)))
    await conn.execute(delete(t.expunged).where(t.expunged.c.folder_id.in_(folder_ids)))
    await conn.execute(delete(t.messages).where(t.messages.c.account_id == account_id))
    await conn.execute(delete(t.folders).where(t.folders.c.account_id == account_id))
    await conn.execute(delete(t.accounts).where(t.accounts.c.id == account_id))
