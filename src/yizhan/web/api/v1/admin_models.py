"""Request and response bodies of the admin API (/api/v1/admin/*); they make its part of the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from yizhan.services.admin import MAX_DISPLAY_NAME, DomainSetup, ServerStatus
from yizhan.services.admin_import import MAX_BYTES, ImportReport
from yizhan.services.admin_setup import MAX_QUOTA
from yizhan.store.audit import AuditEntry
from yizhan.store.deliverylog import DeliveryRecord
from yizhan.store.outbound import QueuedMessage
from yizhan.store.records import AccountRecord

Role = str


class DomainIn(BaseModel):
    name: str = Field(min_length=1, max_length=253, examples=["example.com"])


class DomainOut(BaseModel):
    name: str
    accounts: int
    aliases: int
    created_at: int = Field(description="Epoch seconds (UTC)")


class DomainList(BaseModel):
    domains: list[DomainOut]


class Endpoint(BaseModel):
    listener: str = Field(examples=["imaps"])
    protocol: str = Field(examples=["IMAP"])
    security: str = Field(examples=["SSL/TLS"])
    host: str
    port: int
    incoming: bool


class DnsRecordOut(BaseModel):
    name: str
    type: str
    value: str
    purpose: str = Field(description="mx, spf, dkim, dmarc, srv or autoconfig")
    zone_line: str = Field(description="The record in zone-file syntax")


class DomainSetupOut(BaseModel):
    domain: str
    endpoints: list[Endpoint] = Field(description="Mail client settings for the domain's users, best first")
    dns_records: list[DnsRecordOut]
    dkim_selector: str | None = Field(description="Selector of the signing key; null when the domain has none")

    @classmethod
    def of(cls, setup: DomainSetup) -> DomainSetupOut:
        return cls(domain=setup.domain.name,
                   endpoints=[Endpoint(listener=e.listener, protocol=e.protocol, security=e.security, host=e.host,
                                       port=e.port, incoming=e.incoming) for e in setup.endpoints],
                   dns_records=[DnsRecordOut(name=r.name, type=r.type, value=r.value, purpose=r.purpose,
                                             zone_line=r.zone_line) for r in setup.records],
                   dkim_selector=setup.dkim_selector)


class AccountOut(BaseModel):
    address: str
    display_name: str
    role: Role = Field(description="admin, domain-admin or user")
    quota_bytes: int = Field(description="0 means unlimited")
    used_bytes: int
    disabled: bool
    created_at: int

    @classmethod
    def of(cls, account: AccountRecord) -> AccountOut:
        return cls(address=account.address, display_name=account.display_name, role=account.role,
                   quota_bytes=account.quota_bytes, used_bytes=account.used_bytes, disabled=account.disabled,
                   created_at=account.created_at)


class AccountList(BaseModel):
    accounts: list[AccountOut]
    total: int = Field(description="Accounts matching the search, over all pages")
    next_cursor: str | None


class AccountCreate(BaseModel):
    address: str = Field(min_length=3, max_length=320, examples=["li.lei@example.com"])
    display_name: str = Field("", max_length=MAX_DISPLAY_NAME, examples=["李雷"])
    password: str | None = Field(None, min_length=8, max_length=1024,
                                 description="Leave out to have one generated (returned once)")
    role: Role = Field("user", max_length=20, description="admin, domain-admin or user")
    quota_bytes: int = Field(0, ge=0, le=MAX_QUOTA, description="0 means unlimited")


class AccountCreated(BaseModel):
    account: AccountOut
    generated_password: str | None = Field(description="The generated password, shown this once; null when the "
                                                       "request gave one")


class AccountPatch(BaseModel):
    display_name: str | None = Field(None, max_length=MAX_DISPLAY_NAME)
    role: Role | None = Field(None, max_length=20)
    quota_bytes: int | None = Field(None, ge=0, le=MAX_QUOTA)
    disabled: bool | None = None


class PasswordIn(BaseModel):
    password: str | None = Field(None, min_length=8, max_length=1024,
                                 description="Leave out to have one generated (returned once)")


class PasswordOut(BaseModel):
    generated_password: str | None


class ImportIn(BaseModel):
    csv: str = Field(min_length=1, max_length=MAX_BYTES,
                     description="Rows of address, display name, password, quota, role (comma or semicolon)")


class ImportCreated(BaseModel):
    line: int
    address: str
    generated_password: str | None


class ImportRejected(BaseModel):
    line: int
    address: str
    reason: str


class ImportOut(BaseModel):
    created: list[ImportCreated]
    rejected: list[ImportRejected]

    @classmethod
    def of(cls, report: ImportReport) -> ImportOut:
        return cls(created=[ImportCreated(line=c.line, address=c.address,
                                          generated_password=c.generated_password or None) for c in report.created],
                   rejected=[ImportRejected(line=r.line, address=r.address, reason=r.reason)
                             for r in report.rejected])


class AliasIn(BaseModel):
    source: str = Field(min_length=2, max_length=320, description="An address, or @domain for the catch-all",
                        examples=["sales@example.com"])
    targets: list[str] = Field(min_length=1, max_length=100, examples=[["alice@example.com"]])


class AliasOut(BaseModel):
    source: str
    targets: list[str]


class AliasList(BaseModel):
    aliases: list[AliasOut]


class QueueRecipientOut(BaseModel):
    address: str
    status: str = Field(description="pending, delivered, bounced or expired")
    attempts: int
    next_attempt_at: int
    last_attempt_at: int | None
    last_reply: str


class QueuedOut(BaseModel):
    queue_id: str
    mail_from: str = Field(description="Envelope sender; empty for a bounce")
    size: int
    created_at: int
    signed: bool = Field(description="DKIM-signed when queued")
    recipients: list[QueueRecipientOut]

    @classmethod
    def of(cls, message: QueuedMessage) -> QueuedOut:
        return cls(queue_id=message.queue_id, mail_from=message.mail_from, size=message.size,
                   created_at=message.created_at, signed=message.signed,
                   recipients=[QueueRecipientOut(address=r.address, status=r.status, attempts=r.attempts,
                                                 next_attempt_at=r.next_attempt_at, last_attempt_at=r.last_attempt_at,
                                                 last_reply=r.last_reply) for r in message.recipients])


class QueueList(BaseModel):
    messages: list[QueuedOut]


class QueuedDetail(QueuedOut):
    headers: list[tuple[str, str]] = Field(description="Header fields (name, unfolded value) as stored")


class RetryOut(BaseModel):
    recipients: int = Field(description="Pending recipients made due now")


class DeliveryOut(BaseModel):
    id: int
    at: int
    direction: str = Field(description="in, out or local")
    sender: str
    recipients: list[str]
    message_id: str
    size: int
    result: str
    detail: str

    @classmethod
    def of(cls, record: DeliveryRecord) -> DeliveryOut:
        return cls(id=record.id, at=record.at, direction=record.direction, sender=record.sender,
                   recipients=list(record.recipients), message_id=record.message_id, size=record.size,
                   result=record.result, detail=record.detail)


class DeliveryList(BaseModel):
    entries: list[DeliveryOut]
    next_cursor: str | None


class AuditOut(BaseModel):
    id: int
    at: int
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    client: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditOut:
        return cls(id=entry.id, at=entry.at, actor=entry.actor, action=entry.action, target=entry.target,
                   details=entry.details, client=entry.client)


class AuditList(BaseModel):
    entries: list[AuditOut]
    next_cursor: str | None


class StatusOut(BaseModel):
    started_at: int
    uptime_seconds: int
    listeners: dict[str, int] = Field(description="Bound port of each open listener, by name")
    totals: dict[str, int] = Field(description="domains, accounts, disabled_accounts, aliases, messages, entries, "
                                               "message_bytes, blob_bytes, queued_messages, queued_recipients")
    disk: dict[str, int] | None = Field(description="total, used and free bytes of the data directory's disk")

    @classmethod
    def of(cls, status: ServerStatus, ports: dict[str, int]) -> StatusOut:
        t = status.totals
        totals = {name: getattr(t, name) for name in t.__dataclass_fields__}
        disk = None if status.disk is None else {"total": status.disk.total, "used": status.disk.used,
                                                 "free": status.disk.free}
        return cls(started_at=status.started_at, uptime_seconds=status.uptime_seconds,
                   listeners={k: v for k, v in ports.items() if v > 0}, totals=totals, disk=disk)
