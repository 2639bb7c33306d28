"""The admin console's use cases, with authorisation and the audit log in one place: every admin page and API
route calls an `AdminService` made for the signed-in actor, and nothing else changes the directory for them.

Who may do what (checked at the top of every method, from the actor's role):
- "admin": everything.
- "domain-admin": only the domain of its own address — its accounts, aliases and quotas, its client settings and
  DNS records. No domain may be added or removed; nothing of another domain is visible: another domain's domain,
  account or alias answers NotFound exactly like a missing one (so a domain-admin cannot even detect it). It may
  never make anyone an admin, never touch an admin's account (that would let it take the admin's password), and
  never change its own role. The queue, the delivery and audit logs and the server status are for admins only.
- "user": nothing (PermissionDenied).
Safety for everyone: nobody removes or disables their own account here, and no change may leave the server
without an enabled admin.

Audit: after each successful change, one entry (services/audit.py: actor, action, target, details without
secrets, client address). Refusals and reads are not logged. The log itself is only readable: no method here
changes it. Generated passwords are returned to the caller once and never logged or stored in clear.

Deleting a queued message is silent (no bounce to the sender): an administrator deletes mail that should not go
out (spam from a compromised account, a loop), and a bounce would be one more message to the same sender; the
audit entry records it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from yizhan.mail.addresses import split_address
from yizhan.services.admin_import import Created, ImportReport, Rejected, parse_csv
from yizhan.services.admin_setup import ClientEndpoint, DnsRecord, client_endpoints, dns_records
from yizhan.services.directory import ROLES, checked_address, normalize_domain
from yizhan.services.passwords import MIN_LENGTH, generate_password
from yizhan.services.runtime import Services
from yizhan.store.audit import AuditEntry
from yizhan.store.deliverylog import DeliveryRecord
from yizhan.store.outbound import QueuedMessage
from yizhan.store.records import AccountRecord, AliasRecord, DomainRecord
from yizhan.store.stats import DiskSpace, StoreStats, StoreTotals
from yizhan.util.errors import InvalidInput, NotFound, PermissionDenied, YizhanError

ADMIN, DOMAIN_ADMIN = "admin", "domain-admin"
STAFF = (ADMIN, DOMAIN_ADMIN)
MAX_PER_PAGE = 200
MAX_QUEUE_LIST = 1000
MAX_HEADER_BYTES = 64 * 1024
MAX_DISPLAY_NAME = 200
MAX_QUERY = 200
# When the process (its web listener) started; the status page reports uptime from here.
STARTED_AT = time.time()


@dataclass(frozen=True, slots=True)
class DomainSummary:
    domain: DomainRecord
    accounts: int
    aliases: int


@dataclass(frozen=True, slots=True)
class AccountPage:
    accounts: list[AccountRecord]
    total: int
    offset: int
    limit: int

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


@dataclass(frozen=True, slots=True)
class CreatedAccount:
    account: AccountRecord
    # The generated password, to show once; "" when the caller chose the password.
    password: str


@dataclass(frozen=True, slots=True)
class ServerStatus:
    totals: StoreTotals
    disk: DiskSpace | None
    uptime_seconds: int
    started_at: int


@dataclass(frozen=True, slots=True)
class DomainSetup:
    domain: DomainRecord
    endpoints: list[ClientEndpoint]
    records: list[DnsRecord]
    dkim_selector: str | None


class AdminService:
    def __init__(self, actor: AccountRecord, client: str, services: Services) -> None:
        self.actor = actor
        self.client = client[:64]
        self.services = services
        self.directory = services.directory
        self.store = services.store

    # Who may do what

    @property
    def is_admin(self) -> bool:
        return self.actor.role == ADMIN and not self.actor.disabled

    def require_staff(self) -> None:
        """The actor is an admin or a domain-admin (the gate of every admin page)."""
        if self.actor.disabled or self.actor.role not in STAFF:
            raise PermissionDenied("only administrators may use the admin console")

    def _require_admin(self) -> None:
        self.require_staff()
        if not self.is_admin:
            raise PermissionDenied("only an administrator (role admin) may do this")

    async def _visible_domain(self, name: str) -> DomainRecord:
        self.require_staff()
        domain = await self.store.directory.get_domain(normalize_domain(name))
        if domain is None or (not self.is_admin and domain.id != self.actor.domain_id):
            raise NotFound(f"domain {name.strip().lower()[:253]} is not hosted here")
        return domain

    async def _visible_account(self, address: str) -> AccountRecord:
        self.require_staff()
        account = await self.store.directory.get_account(checked_address(address))
        if account is None or (not self.is_admin and account.domain_id != self.actor.domain_id):
            raise NotFound(f"no account {address.strip().lower()[:320]}")
        return account

    async def _changeable_account(self, address: str) -> AccountRecord:
        account = await self._visible_account(address)
        if not self.is_admin and account.role == ADMIN:
            raise PermissionDenied("a domain administrator cannot change an administrator's account")
        return account

    def _check_role_grant(self, role: str) -> None:
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not '{role[:20]}'")
        if role == ADMIN and not self.is_admin:
            raise PermissionDenied("a domain administrator cannot make anyone an administrator")

    async def _keep_an_admin(self, account: AccountRecord) -> None:
        """Refuse a change that would leave no enabled admin (the change takes `account` out of that role)."""
        if account.role != ADMIN or account.disabled:
            return
        others = [a for a in await self.store.directory.list_accounts()
                  if a.role == ADMIN and not a.disabled and a.id != account.id]
        if not others:
            raise InvalidInput(f"{account.address} is the only enabled administrator: make another account an "
                               "administrator first")

    async def _audit(self, action: str, target: str, details: dict[str, object] | None = None) -> None:
        await self.services.audit.record(self.actor, action, target, details, self.client)

    # Domains

    async def domains(self) -> list[DomainSummary]:
        self.require_staff()
        found = [DomainSummary(d, n_accounts, n_aliases)
                 for d, n_accounts, n_aliases in await self.directory.list_domains()]
        return found if self.is_admin else [s for s in found if s.domain.id == self.actor.domain_id]

    async def domain(self, name: str) -> DomainSummary:
        domain = await self._visible_domain(name)
        n_accounts, n_aliases = await self.store.directory.count_domain_members(domain.id)
        return DomainSummary(domain, n_accounts, n_aliases)

    async def add_domain(self, name: str) -> DomainRecord:
        self._require_admin()
        domain = await self.directory.add_domain(name)
        await self._audit("domain.add", domain.name)
        return domain

    async def remove_domain(self, name: str, force: bool = False) -> None:
        """Remove a domain; one holding accounts or aliases only with `force` (which deletes them and their mail)."""
        self._require_admin()
        domain = await self._visible_domain(name)
        if domain.id == self.actor.domain_id:
            raise InvalidInput("you cannot remove the domain of your own account")
        n_accounts, n_aliases = await self.store.directory.count_domain_members(domain.id)
        if (n_accounts or n_aliases) and not force:
            raise InvalidInput(f"domain {domain.name} still has {n_accounts} account(s) and {n_aliases} alias "
                               "address(es): remove them first, or force the removal to delete them with their mail")
        for account in await self.store.directory.list_accounts(domain.id):
            await self._keep_an_admin(account)
        await self.directory.remove_domain(domain.name, force=True)
        await self._audit("domain.remove", domain.name, {"force": force, "accounts": n_accounts,
                                                         "aliases": n_aliases})

    async def domain_setup(self, name: str, ports: dict[str, int]) -> DomainSetup:
        """What users of the domain put in their mail clients, and the DNS records to publish for it."""
        domain = await self._visible_domain(name)
        hostname = self.services.settings.server.hostname
        try:
            key = await self.store.dkim_keys.get(domain.name)
        except YizhanError:
            key = None
        return DomainSetup(domain, client_endpoints(hostname, ports), dns_records(domain.name, hostname, key),
                           key.selector if key else None)

    # Accounts

    async def accounts(self, query: str = "", domain: str | None = None, offset: int = 0,
                       limit: int = 50) -> AccountPage:
        """Accounts whose address or display name contains `query` (any case), by address, `limit` from `offset`.

        The directory is read whole and filtered here: it holds accounts, not messages, so even a large
        installation's list is small next to what a page of mail costs."""
        self.require_staff()
        if not 1 <= limit <= MAX_PER_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PER_PAGE}")
        if offset < 0:
            raise InvalidInput("offset cannot be negative")
        if len(query) > MAX_QUERY:
            raise InvalidInput(f"the search is longer than {MAX_QUERY} characters")
        domain_id = (await self._visible_domain(domain)).id if domain else (
            None if self.is_admin else self.actor.domain_id)
        found = await self.store.directory.list_accounts(domain_id)
        needle = query.strip().casefold()
        if needle:
            found = [a for a in found if needle in a.address or needle in a.display_name.casefold()]
        return AccountPage(found[offset:offset + limit], len(found), offset, limit)

    async def account(self, address: str) -> AccountRecord:
        return await self._visible_account(address)

    async def create_account(self, address: str, password: str = "", display_name: str = "", role: str = "user",
                             quota_bytes: int = 0) -> CreatedAccount:
        """Create an account (with its standard folders); an empty `password` gets a generated one, returned once."""
        self.require_staff()
        address = checked_address(address)
        self._check_role_grant(role)
        await self._visible_domain(split_address(address)[1])
        _check_display_name(display_name)
        generated = "" if password else generate_password()
        account = await self.directory.add_account(address, password or generated, role=role,
                                                   quota_bytes=quota_bytes, display_name=display_name.strip())
        await self._audit("account.create", account.address, {"role": role, "quota_bytes": quota_bytes,
                                                              "display_name": account.display_name,
                                                              "generated_password": bool(generated)})
        return CreatedAccount(account, generated)

    async def update_account(self, address: str, *, display_name: str | None = None, role: str | None = None,
                             quota_bytes: int | None = None, disabled: bool | None = None) -> AccountRecord:
        account = await self._changeable_account(address)
        changes: dict[str, object] = {}
        if display_name is not None and display_name.strip() != account.display_name:
            _check_display_name(display_name)
            changes["display_name"] = display_name.strip()
        if role is not None and role != account.role:
            self._check_role_grant(role)
            if account.id == self.actor.id and not self.is_admin:
                raise PermissionDenied("you cannot change your own role")
            await self._keep_an_admin(account)
            changes["role"] = role
        if quota_bytes is not None and quota_bytes != account.quota_bytes:
            if quota_bytes < 0:
                raise InvalidInput("a quota cannot be negative (0 means unlimited)")
            changes["quota_bytes"] = quota_bytes
        if disabled is not None and disabled != account.disabled:
            if disabled and account.id == self.actor.id:
                raise InvalidInput("you cannot disable your own account")
            if disabled:
                await self._keep_an_admin(account)
            changes["disabled"] = disabled
        if not changes:
            return account
        updated = await self.directory.update_account(account.address, **changes)  # type: ignore[arg-type]
        await self._audit("account.update", account.address,
                          {key: {"from": getattr(account, key), "to": value} for key, value in changes.items()})
        return updated

    async def reset_password(self, address: str, password: str = "") -> str:
        """Set a new password (generated when `password` is empty); returns the generated one, to show once.

        Every session of the account ends (the credentials serial changes)."""
        account = await self._changeable_account(address)
        generated = "" if password else generate_password()
        await self.directory.set_password(account.address, password or generated)
        await self._audit("account.password", account.address, {"generated": bool(generated)})
        return generated

    async def delete_account(self, address: str) -> None:
        """Delete the account with all its mail, contacts and notes."""
        account = await self._changeable_account(address)
        if account.id == self.actor.id:
            raise InvalidInput("you cannot remove your own account")
        await self._keep_an_admin(account)
        await self.directory.remove_account(account.address)
        await self._audit("account.delete", account.address, {"role": account.role,
                                                              "used_bytes": account.used_bytes})

    async def import_accounts(self, text: str) -> ImportReport:
        """Create the accounts a CSV file lists (services/admin_import.py); each row is checked like a single
        creation, and a refused row is reported with the reason without stopping the others."""
        self.require_staff()
        rows, rejected = parse_csv(text)
        report = ImportReport(rejected=list(rejected))
        for row in rows:
            if row.password and len(row.password) < MIN_LENGTH:
                report.rejected.append(Rejected(row.line, row.address,
                                                f"the password must have at least {MIN_LENGTH} characters"))
                continue
            try:
                created = await self.create_account(row.address, row.password, row.display_name, row.role,
                                                    row.quota_bytes)
            except YizhanError as exc:
                report.rejected.append(Rejected(row.line, row.address, str(exc)))
                continue
            report.created.append(Created(row.line, created.account.address, created.password))
        report.rejected.sort(key=lambda item: item.line)
        await self._audit("account.import", "", {"created": len(report.created), "rejected": len(report.rejected)})
        return report

    # Aliases

    async def aliases(self, domain: str | None = None) -> list[AliasRecord]:
        self.require_staff()
        if domain:
            return await self.store.directory.list_aliases((await self._visible_domain(domain)).id)
        return await self.store.directory.list_aliases(None if self.is_admin else self.actor.domain_id)

    async def add_alias(self, source: str, targets: Sequence[str]) -> list[AliasRecord]:
        """Add `source` (an address, or `@domain` for the catch-all) → each target."""
        self.require_staff()
        cleaned = [t.strip() for t in targets if t.strip()]
        if not cleaned:
            raise InvalidInput("an alias needs at least one target address")
        if len(cleaned) > 100:
            raise InvalidInput("an alias has at most 100 targets")
        source = _alias_source(source)
        await self._visible_domain(source.rsplit("@", 1)[1])
        added = await self.directory.add_alias(source, cleaned)
        await self._audit("alias.add", added[0].source, {"targets": [a.target for a in added]})
        return added

    async def remove_alias(self, source: str, target: str | None = None) -> int:
        self.require_staff()
        source = _alias_source(source)
        await self._visible_domain(source.rsplit("@", 1)[1])
        removed = await self.directory.remove_alias(source, target or None)
        if not removed:
            raise NotFound(f"no alias {source[:320]}" + (f" → {target[:320]}" if target else ""))
        await self._audit("alias.remove", source.lower(), {"target": target or "*", "removed": removed})
        return removed

    # The outbound queue (admins only)

    async def queue(self, limit: int = 500) -> list[QueuedMessage]:
        self._require_admin()
        if not 1 <= limit <= MAX_QUEUE_LIST:
            raise InvalidInput(f"limit must be between 1 and {MAX_QUEUE_LIST}")
        return await self.services.outbound.list(limit)

    async def queued(self, queue_id: str) -> tuple[QueuedMessage, list[tuple[str, str]]]:
        """A queued message and its header fields (name, value), as stored (DKIM signature included)."""
        self._require_admin()
        message, data = await self.services.outbound.show(_queue_id(queue_id))
        return message, headers_of(data)

    async def retry_queued(self, queue_id: str) -> int:
        self._require_admin()
        count = await self.services.outbound.retry(_queue_id(queue_id))
        await self._audit("queue.retry", queue_id, {"recipients": count})
        return count

    async def delete_queued(self, queue_id: str) -> None:
        """Remove a message from the queue without sending it and without a bounce (see the module docstring)."""
        self._require_admin()
        message, _ = await self.services.outbound.show(_queue_id(queue_id))
        await self.services.outbound.delete(message.queue_id)
        await self._audit("queue.delete", message.queue_id, {
            "from": message.mail_from, "recipients": [r.address for r in message.recipients][:50]})

    # Logs (admins only; read-only)

    async def delivery_log(self, address: str | None = None, message_id: str | None = None,
                           since: int | None = None, until: int | None = None, before_id: int | None = None,
                           limit: int = 50) -> list[DeliveryRecord]:
        self._require_admin()
        return await self.services.delivery_log.search(address or None, message_id or None, since, until, None,
                                                       before_id, limit)

    async def audit_log(self, actor: str | None = None, action: str | None = None, since: int | None = None,
                        until: int | None = None, before_id: int | None = None, limit: int = 50) -> list[AuditEntry]:
        self._require_admin()
        return await self.services.audit.query(actor or None, action or None, since, until, before_id, limit)

    # Server status (admins only)

    async def status(self) -> ServerStatus:
        self._require_admin()
        stats = StoreStats(self.store.db)
        now = time.time()
        return ServerStatus(await stats.totals(), await stats.disk_space(self.services.paths.root),
                            int(now - STARTED_AT), int(STARTED_AT))


def _check_display_name(name: str) -> None:
    if len(name) > MAX_DISPLAY_NAME or any(ord(c) < 32 for c in name):
        raise InvalidInput(f"a display name has at most {MAX_DISPLAY_NAME} characters and no control characters")


def _alias_source(source: str) -> str:
    cleaned = source.strip()
    if "@" not in cleaned or len(cleaned) > 320:
        raise InvalidInput(f"'{cleaned[:80]}' is not an alias address: write name@domain, or @domain for the "
                           "catch-all of a domain")
    return cleaned


def _queue_id(queue_id: str) -> str:
    cleaned = queue_id.strip()
    if not cleaned or len(cleaned) > 64 or not cleaned.isalnum():
        raise NotFound(f"no queued message {queue_id[:64]}")
    return cleaned


def headers_of(data: bytes) -> list[tuple[str, str]]:
    """The header fields of a message (RFC 5322 §2.2), unfolded, read from its first 64 KiB; never raises."""
    head = data[:MAX_HEADER_BYTES]
    end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=len(head))
    try:
        parsed = BytesHeaderParser(policy=compat32).parsebytes(head[:end] + b"\r\n\r\n")
    except Exception:  # the parser is lenient; this guards against the unforeseen only
        return []
    return [(str(name), " ".join(str(value).split())) for name, value in parsed.items()]
