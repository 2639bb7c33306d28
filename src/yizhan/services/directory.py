"""Domains, accounts and aliases as an administrator manages them, and recipient resolution for delivery.

Rules kept here:
- Addresses and domains are normalised (lowercase) before they reach the store.
- An account belongs to a hosted domain; roles are admin, domain-admin and user; passwords are Argon2id hashes.
- A new account gets the special-use folders (RFC 6154): INBOX, Sent, Drafts, Trash, Junk, Archive.
- Aliases are one-to-many; "@domain" is a catch-all used only when no account or alias has the address.
- Recipient resolution follows aliases up to `dircache.MAX_ALIAS_DEPTH` deep and ignores loops; it reads the
  directory from memory (services/dircache.py), which sees this process's changes at once and other processes'
  (the CLI) within a quarter of a second, or at once when the answer would otherwise be "unknown".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from yizhan.mail.addresses import is_valid_address, normalize_address, split_address
from yizhan.services.bus import EventBus
from yizhan.services.dircache import DirectoryCache, expand
from yizhan.services.passwords import MIN_LENGTH, hash_password, verify_password
from yizhan.store.directory import DirectorySnapshot
from yizhan.store.records import AccountRecord, AliasRecord, DomainRecord
from yizhan.store.store import Store
from yizhan.util.errors import InvalidInput, NotFound

ROLES = ("admin", "domain-admin", "user")
DEFAULT_FOLDERS: tuple[tuple[str, str | None], ...] = (
    ("INBOX", "inbox"),
    ("Sent", "sent"),
    ("Drafts", "drafts"),
    ("Trash", "trash"),
    ("Junk", "junk"),
    ("Archive", "archive"),
)


def normalize_domain(name: str) -> str:
    domain = name.strip().rstrip(".").lower()
    try:
        domain = domain.encode("idna").decode("ascii").encode("ascii").decode("idna")
    except UnicodeError as exc:
        raise InvalidInput(f"'{name}' is not a valid domain name") from exc
    labels = domain.split(".")
    if not domain or len(domain) > 253 or any(not label or len(label) > 63 for label in labels) or any(
            c.isspace() or c in "@/\\,;:" for c in domain):
        raise InvalidInput(f"'{name}' is not a valid domain name")
    return domain


def checked_address(address: str) -> str:
    if not is_valid_address(address.strip()):
        raise InvalidInput(f"'{address}' is not a valid mail address")
    return normalize_address(address)


@dataclass
class Resolution:
    """Where mail for each recipient goes: local accounts, and addresses elsewhere (alias forwards)."""

    accounts: dict[str, list[AccountRecord]] = field(default_factory=dict)
    forwards: dict[str, list[str]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    # Account id → the id of its INBOX, for every account above that has one.
    inboxes: dict[int, int] = field(default_factory=dict)


class DirectoryService:
    def __init__(self, store: Store, bus: EventBus) -> None:
        self.store = store
        self.bus = bus
        self.cache = DirectoryCache(store.directory)

    # Domains

    async def add_domain(self, name: str) -> DomainRecord:
        return await self.store.directory.add_domain(normalize_domain(name))

    async def list_domains(self) -> list[tuple[DomainRecord, int, int]]:
        return await self.store.directory.list_domains()

    async def remove_domain(self, name: str, force: bool = False) -> None:
        domain = await self._domain(normalize_domain(name))
        n_accounts, _ = await self.store.directory.count_domain_members(domain.id)
        if n_accounts and not force:
            raise InvalidInput(f"domain {domain.name} still has {n_accounts} account(s); remove them first "
                               "or use --force to delete them with their mail")
        if force:
            for account in await self.store.directory.list_accounts(domain.id):
                await self.remove_account(account.address)
        await self.store.directory.remove_domain(domain.name)

    async def _domain(self, name: str) -> DomainRecord:
        domain = await self.store.directory.get_domain(name)
        if domain is None:
            raise NotFound(f"domain {name} is not hosted here (add it with `yizhan domain add {name}`)")
        return domain

    # Accounts

    async def add_account(self, address: str, password: str, role: str = "user", quota_bytes: int = 0,
                          display_name: str = "") -> AccountRecord:
        address = checked_address(address)
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not '{role}'")
        if quota_bytes < 0:
            raise InvalidInput("quota cannot be negative")
        check_password(password)
        domain = await self._domain(split_address(address)[1])
        account, events = await self.store.directory.add_account(
            domain.id, address, await hash_password(password), role, quota_bytes, display_name, DEFAULT_FOLDERS)
        self.bus.publish(events)
        return account

    async def account(self, address: str) -> AccountRecord:
        account = await self.store.directory.get_account(checked_address(address))
        if account is None:
            raise NotFound(f"no account {address}")
        return account

    async def list_accounts(self, domain: str | None = None) -> list[AccountRecord]:
        domain_id = (await self._domain(normalize_domain(domain))).id if domain else None
        return await self.store.directory.list_accounts(domain_id)

    async def set_password(self, address: str, password: str) -> None:
        check_password(password)
        _, events = await self.store.directory.update_account(
            checked_address(address), password_hash=await hash_password(password))
        self.bus.publish(events)

    async def update_account(self, address: str, *, role: str | None = None, quota_bytes: int | None = None,
                             display_name: str | None = None, disabled: bool | None = None) -> AccountRecord:
        changes: dict[str, object] = {}
        if role is not None:
            if role not in ROLES:
                raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not '{role}'")
            changes["role"] = role
        if quota_bytes is not None:
            if quota_bytes < 0:
                raise InvalidInput("quota cannot be negative")
            changes["quota_bytes"] = quota_bytes
        if display_name is not None:
            changes["display_name"] = display_name
        if disabled is not None:
            changes["disabled"] = disabled
        account, events = await self.store.directory.update_account(checked_address(address), **changes)
        self.bus.publish(events)
        return account

    async def authenticate(self, address: str, password: str) -> AccountRecord | None:
        """The account when the password is right and the account is enabled, else None."""
        try:
            account = await self.store.directory.get_account(checked_address(address))
        except InvalidInput:
            return None
        if account is None or account.disabled:
            return None
        return account if await verify_password(account.password_hash, password) else None

    async def remove_account(self, address: str) -> AccountRecord:
        account, free_blobs = await self.store.directory.remove_account(checked_address(address))
        for name in free_blobs:
            self.store.blobs.remove(name)
        return account

    # Aliases

    async def add_alias(self, source: str, targets: Sequence[str]) -> list[AliasRecord]:
        source = self._alias_source(source)
        if not targets:
            raise InvalidInput("an alias needs at least one target address")
        domain = await self._domain(source.rsplit("@", 1)[1])
        return [await self.store.directory.add_alias(domain.id, source, checked_address(target))
                for target in targets]

    async def list_aliases(self, domain: str | None = None) -> list[AliasRecord]:
        domain_id = (await self._domain(normalize_domain(domain))).id if domain else None
        return await self.store.directory.list_aliases(domain_id)

    async def remove_alias(self, source: str, target: str | None = None) -> int:
        return await self.store.directory.remove_alias(
            self._alias_source(source), checked_address(target) if target else None)

    @staticmethod
    def _alias_source(source: str) -> str:
        source = source.strip()
        if source.startswith("@"):
            return "@" + normalize_domain(source[1:])
        return checked_address(source)

    # Delivery (from the in-memory directory, services/dircache.py)

    async def resolve(self, recipients: Sequence[str]) -> Resolution:
        """Expand each recipient through aliases and catch-alls to local accounts and outside addresses.

        Answers come from the cached directory; before an answer that may be negative (an unknown recipient, a
        forward out of a domain perhaps just added), the directory version is checked again, so changes the CLI
        made a moment ago count."""
        snapshot = await self.cache.get()
        result = _resolve(snapshot, recipients)
        if result.unknown or result.forwards:
            fresh = await self.cache.get(fresh=True)
            if fresh is not snapshot:
                result = _resolve(fresh, recipients)
        return result

    async def is_hosted(self, domain: str) -> bool:
        """Whether mail for `domain` is ours (a domain not found is checked again against the database)."""
        name = domain.lower().rstrip(".")
        if not name:
            return False
        if name in (await self.cache.get()).domains:
            return True
        return name in (await self.cache.get(fresh=True)).domains


def _resolve(snapshot: DirectorySnapshot, recipients: Sequence[str]) -> Resolution:
    result = Resolution()
    for original in recipients:
        try:
            address = checked_address(original)
        except InvalidInput:
            result.unknown.append(original)
            continue
        found, forwards = expand(snapshot, address)
        if found or forwards:
            result.accounts[original] = found
            if forwards:
                result.forwards[original] = forwards
            for account in found:
                inbox = snapshot.inboxes.get(account.id)
                if inbox is not None:
                    result.inboxes[account.id] = inbox
        else:
            result.unknown.append(original)
    return result


def check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_LENGTH} characters")
    if password != password.strip() or any(ord(c) < 32 for c in password):
        raise InvalidInput("the password must not start or end with spaces or contain control characters")
