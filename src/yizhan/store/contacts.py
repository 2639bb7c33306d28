"""Contacts and contact groups of an account, and the search keys autocomplete looks up.

Invariants:
- Every method takes `account_id` and every statement filters by it: a contact, group or membership of another
  account is NotFound, never read, changed or deleted. A group and a contact are linked only when both belong to
  the same account (checked in the same transaction).
- A contact's search keys (`contact_keys`) are replaced in the same transaction as the contact, so a search never
  sees a contact without its keys or keys of a deleted contact. Keys are computed by the caller (services).
- The number of contacts of an account never exceeds the `max_count` given to `create`, checked in the writing
  transaction (on SQLite, BEGIN IMMEDIATE makes the check and the insert atomic).
- A prefix search is a range over the (account_id, key) primary key: key >= p AND key < p + U+10FFFF, which
  both SQLite and PostgreSQL (column in the "C" collation) answer from the index.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from yizhan.mail.contactcard import ContactCard
from yizhan.store import schema as t
from yizhan.store.db import Database
from yizhan.util.clock import now_seconds
from yizhan.util.errors import AlreadyExists, NotFound, QuotaExceeded

# The highest code point: appended to a prefix, it bounds the range of keys starting with it.
_TOP = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class ContactGroup:
    id: int
    name: str
    members: int


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    account_id: int
    card: ContactCard
    # (group id, group name) of the groups the contact belongs to, by name.
    groups: tuple[tuple[int, str], ...]
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class ContactWrite:
    """A validated card with what the service derived from it: search keys (kind, key), sort key, group ids."""

    card: ContactCard
    keys: tuple[tuple[str, str], ...]
    sort_key: str
    group_ids: tuple[int, ...] | None = None


def _values(write: ContactWrite) -> dict[str, Any]:
    card = write.card
    return dict(display_name=card.name(), family_name=card.family_name, given_name=card.given_name,
                organisation=card.organisation, title=card.title,
                emails=json.dumps([list(e) for e in card.emails], ensure_ascii=False),
                phones=json.dumps([list(p) for p in card.phones], ensure_ascii=False),
                notes=card.notes, sort_key=write.sort_key)


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    try:
        return tuple((str(a), str(b)) for a, b in json.loads(text))
    except (ValueError, TypeError):
        return ()


class Contacts:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Reading

    async def count(self, account_id: int) -> int:
        async with self.db.read() as conn:
            return int(await conn.scalar(select(func.count()).where(t.contacts.c.account_id == account_id)) or 0)

    async def get(self, account_id: int, contact_id: int) -> Contact:
        async with self.db.read() as conn:
            found = await _load(conn, account_id, [contact_id])
        if not found:
            raise NotFound(f"no contact {contact_id}")
        return found[0]

    async def list_contacts(self, account_id: int, group_id: int | None = None, offset: int = 0,
                   limit: int = 100) -> list[Contact]:
        """Contacts by name (pinyin order), optionally of one group."""
        query = select(t.contacts.c.id).where(t.contacts.c.account_id == account_id)
        if group_id is not None:
            query = query.join(t.contact_group_members, t.contact_group_members.c.contact_id == t.contacts.c.id) \
                .where(t.contact_group_members.c.group_id == group_id)
        query = query.order_by(t.contacts.c.sort_key, t.contacts.c.id).offset(offset).limit(limit)
        async with self.db.read() as conn:
            ids = list((await conn.execute(query)).scalars())
            return await _load(conn, account_id, ids)

    async def search(self, account_id: int, prefix: str, limit: int = 20) -> list[Contact]:
        """Contacts with a search key starting with `prefix` (already normalised), best (by name) first."""
        if not prefix:
            return []
        keys = t.contact_keys
        query = (select(keys.c.contact_id).where(keys.c.account_id == account_id, keys.c.key >= prefix,
                                                 keys.c.key < prefix + _TOP)
                 .distinct().limit(limit * 4))
        async with self.db.read() as conn:
            ids = list(dict.fromkeys((await conn.execute(query)).scalars()))
            found = await _load(conn, account_id, ids)
        found.sort(key=lambda c: (c.card.name().casefold(), c.id))
        return found[:limit]

    async def find_by_address(self, account_id: int, addresses: Sequence[str]) -> dict[str, Contact]:
        """The contact having each of `addresses` (normalised), where there is one."""
        keys = t.contact_keys
        async with self.db.read() as conn:
            rows = (await conn.execute(select(keys.c.key, keys.c.contact_id).where(
                keys.c.account_id == account_id, keys.c.kind == "addr",
                keys.c.key.in_(list(addresses))))).all()
            contacts = {c.id: c for c in await _load(conn, account_id, list({r.contact_id for r in rows}))}
        return {r.key: contacts[r.contact_id] for r in rows if r.contact_id in contacts}

    async def recent_headers(self, account_id: int, scan: int) -> list[tuple[str, str, str, str, int]]:
        """(from address, from name, To text, Cc text, date) of the account's `scan` most recent messages, newest
        first: what past-correspondent suggestions are made from (index ix_messages_account_date)."""
        m = t.messages
        async with self.db.read() as conn:
            rows = (await conn.execute(select(m.c.from_addr, m.c.from_name, m.c.to_text, m.c.cc_text, m.c.date)
                                       .where(m.c.account_id == account_id)
                                       .order_by(m.c.date.desc()).limit(scan))).all()
        return [(r.from_addr, r.from_name, r.to_text, r.cc_text, int(r.date)) for r in rows]

    # Writing

    async def create(self, account_id: int, writes: Sequence[ContactWrite], max_count: int) -> list[int]:
        """Insert the contacts in one transaction; QuotaExceeded (nothing inserted) if the account would then
        hold more than `max_count`."""
        now = now_seconds()
        ids: list[int] = []
        async with self.db.write() as conn:
            have = int(await conn.scalar(select(func.count()).where(t.contacts.c.account_id == account_id)) or 0)
            if have + len(writes) > max_count:
                raise QuotaExceeded(f"an address book holds at most {max_count} contacts ({have} now); "
                                    "delete some first")
            for write in writes:
                result = await conn.execute(insert(t.contacts).values(
                    account_id=account_id, created_at=now, updated_at=now, **_values(write)))
                contact_id = int(result.inserted_primary_key[0])
                await _write_keys(conn, account_id, contact_id, write.keys)
                if write.group_ids:
                    await _set_groups(conn, account_id, contact_id, write.group_ids)
                ids.append(contact_id)
        return ids

    async def update(self, account_id: int, contact_id: int, write: ContactWrite) -> None:
        """Replace the contact's fields and keys (and its groups when `write.group_ids` is not None)."""
        async with self.db.write() as conn:
            result = await conn.execute(update(t.contacts).where(
                t.contacts.c.id == contact_id, t.contacts.c.account_id == account_id).values(
                updated_at=now_seconds(), **_values(write)))
            if result.rowcount == 0:
                raise NotFound(f"no contact {contact_id}")
            await conn.execute(delete(t.contact_keys).where(t.contact_keys.c.account_id == account_id,
                                                            t.contact_keys.c.contact_id == contact_id))
            await _write_keys(conn, account_id, contact_id, write.keys)
            if write.group_ids is not None:
                await _set_groups(conn, account_id, contact_id, write.group_ids)

    async def delete(self, account_id: int, contact_ids: Sequence[int]) -> int:
        """Delete the account's contacts among `contact_ids`; NotFound if none of them is the account's."""
        async with self.db.write() as conn:
            owned = list((await conn.execute(select(t.contacts.c.id).where(
                t.contacts.c.account_id == account_id, t.contacts.c.id.in_(list(contact_ids))))).scalars())
            if not owned:
                raise NotFound("no such contact")
            await conn.execute(delete(t.contact_keys).where(t.contact_keys.c.account_id == account_id,
                                                            t.contact_keys.c.contact_id.in_(owned)))
            await conn.execute(delete(t.contact_group_members).where(
                t.contact_group_members.c.contact_id.in_(owned)))
            await conn.execute(delete(t.contacts).where(t.contacts.c.account_id == account_id,
                                                        t.contacts.c.id.in_(owned)))
        return len(owned)

    # Groups

    async def list_groups(self, account_id: int) -> list[ContactGroup]:
        members = select(func.count()).where(
            t.contact_group_members.c.group_id == t.contact_groups.c.id).scalar_subquery()
        async with self.db.read() as conn:
            rows = (await conn.execute(select(t.contact_groups.c.id, t.contact_groups.c.name, members.label("n"))
                                       .where(t.contact_groups.c.account_id == account_id)
                                       .order_by(t.contact_groups.c.name))).all()
        return [ContactGroup(r.id, r.name, int(r.n)) for r in rows]

    async def create_group(self, account_id: int, name: str, max_count: int) -> ContactGroup:
        try:
            async with self.db.write() as conn:
                have = int(await conn.scalar(select(func.count()).where(
                    t.contact_groups.c.account_id == account_id)) or 0)
                if have >= max_count:
                    raise QuotaExceeded(f"an address book holds at most {max_count} groups")
                result = await conn.execute(insert(t.contact_groups).values(
                    account_id=account_id, name=name, created_at=now_seconds()))
        except IntegrityError as exc:
            raise AlreadyExists(f"a group named '{name}' already exists") from exc
        return ContactGroup(int(result.inserted_primary_key[0]), name, 0)

    async def rename_group(self, account_id: int, group_id: int, name: str) -> None:
        try:
            async with self.db.write() as conn:
                result = await conn.execute(update(t.contact_groups).where(
                    t.contact_groups.c.id == group_id, t.contact_groups.c.account_id == account_id).values(name=name))
                if result.rowcount == 0:
                    raise NotFound(f"no contact group {group_id}")
        except IntegrityError as exc:
            raise AlreadyExists(f"a group named '{name}' already exists") from exc

    async def delete_group(self, account_id: int, group_id: int) -> None:
        """Delete the group (its contacts stay)."""
        async with self.db.write() as conn:
            owned = await conn.scalar(select(t.contact_groups.c.id).where(
                t.contact_groups.c.id == group_id, t.contact_groups.c.account_id == account_id))
            if owned is None:
                raise NotFound(f"no contact group {group_id}")
            await conn.execute(delete(t.contact_group_members).where(t.contact_group_members.c.group_id == group_id))
            await conn.execute(delete(t.contact_groups).where(t.contact_groups.c.id == group_id))

    async def group_ids(self, account_id: int, names: Sequence[str], create_missing: bool,
                        max_count: int) -> dict[str, int]:
        """Group name → id for `names`, creating the missing ones when asked (within `max_count`)."""
        async with self.db.write() as conn:
            rows = (await conn.execute(select(t.contact_groups.c.name, t.contact_groups.c.id).where(
                t.contact_groups.c.account_id == account_id))).all()
            found = {r.name: int(r.id) for r in rows}
            missing = [n for n in dict.fromkeys(names) if n not in found]
            if create_missing and missing:
                if len(found) + len(missing) > max_count:
                    raise QuotaExceeded(f"an address book holds at most {max_count} groups")
                for name in missing:
                    result = await conn.execute(insert(t.contact_groups).values(
                        account_id=account_id, name=name, created_at=now_seconds()))
                    found[name] = int(result.inserted_primary_key[0])
        return {n: found[n] for n in names if n in found}

    async def add_members(self, account_id: int, group_id: int, contact_ids: Sequence[int]) -> int:
        """Put the account's contacts among `contact_ids` into the account's group; returns how many were added."""
        async with self.db.write() as conn:
            await _own_group(conn, account_id, group_id)
            owned = set((await conn.execute(select(t.contacts.c.id).where(
                t.contacts.c.account_id == account_id, t.contacts.c.id.in_(list(contact_ids))))).scalars())
            if len(owned) != len(set(contact_ids)):
                raise NotFound("no such contact")
            present = set((await conn.execute(select(t.contact_group_members.c.contact_id).where(
                t.contact_group_members.c.group_id == group_id,
                t.contact_group_members.c.contact_id.in_(owned)))).scalars())
            new = sorted(owned - present)
            if new:
                await conn.execute(insert(t.contact_group_members),
                                   [{"group_id": group_id, "contact_id": c} for c in new])
        return len(new)

    async def remove_members(self, account_id: int, group_id: int, contact_ids: Sequence[int]) -> int:
        async with self.db.write() as conn:
            await _own_group(conn, account_id, group_id)
            result = await conn.execute(delete(t.contact_group_members).where(
                t.contact_group_members.c.group_id == group_id,
                t.contact_group_members.c.contact_id.in_(list(contact_ids))))
        return int(result.rowcount)


async def _own_group(conn: AsyncConnection, account_id: int, group_id: int) -> None:
    if await conn.scalar(select(t.contact_groups.c.id).where(
            t.contact_groups.c.id == group_id, t.contact_groups.c.account_id == account_id)) is None:
        raise NotFound(f"no contact group {group_id}")


async def _write_keys(conn: AsyncConnection, account_id: int, contact_id: int,
                      keys: Sequence[tuple[str, str]]) -> None:
    unique: dict[str, str] = {}
    for kind, key in keys:
        # An address key wins over the same text as a name key, so lookups by address find it.
        if key and (key not in unique or kind == "addr"):
            unique[key] = kind
    if unique:
        await conn.execute(insert(t.contact_keys), [
            {"account_id": account_id, "key": key, "contact_id": contact_id, "kind": kind}
            for key, kind in unique.items()])


async def _set_groups(conn: AsyncConnection, account_id: int, contact_id: int, group_ids: Sequence[int]) -> None:
    wanted = set(group_ids)
    owned = set((await conn.execute(select(t.contact_groups.c.id).where(
        t.contact_groups.c.account_id == account_id, t.contact_groups.c.id.in_(list(wanted))))).scalars())
    if owned != wanted:
        raise NotFound("no such contact group")
    await conn.execute(delete(t.contact_group_members).where(t.contact_group_members.c.contact_id == contact_id))
    if owned:
        await conn.execute(insert(t.contact_group_members),
                           [{"group_id": g, "contact_id": contact_id} for g in sorted(owned)])


async def _load(conn: AsyncConnection, account_id: int, ids: Sequence[int]) -> list[Contact]:
    """The account's contacts among `ids`, in the order of `ids`."""
    if not ids:
        return []
    rows = (await conn.execute(select(t.contacts).where(
        t.contacts.c.account_id == account_id, t.contacts.c.id.in_(list(ids))))).all()
    memberships: dict[int, list[tuple[int, str]]] = {}
    for contact_id, group_id, name in (await conn.execute(
            select(t.contact_group_members.c.contact_id, t.contact_groups.c.id, t.contact_groups.c.name)
            .join(t.contact_groups, t.contact_groups.c.id == t.contact_group_members.c.group_id)
            .where(t.contact_groups.c.account_id == account_id,
                   t.contact_group_members.c.contact_id.in_([r.id for r in rows]))
            .order_by(t.contact_groups.c.name))).all():
        memberships.setdefault(contact_id, []).append((group_id, name))
    by_id = {}
    for r in rows:
        groups = tuple(memberships.get(r.id, ()))
        card = ContactCard(display_name=r.display_name, family_name=r.family_name, given_name=r.given_name,
                           organisation=r.organisation, title=r.title, emails=_pairs(r.emails),
                           phones=_pairs(r.phones), notes=r.notes, groups=tuple(n for _, n in groups))
        by_id[r.id] = Contact(r.id, r.account_id, card, groups, r.created_at, r.updated_at)
    return [by_id[i] for i in ids if i in by_id]
