"""Frozen records the store returns. Callers never see SQL rows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DomainRecord:
    id: int
    name: str
    created_at: int


@dataclass(frozen=True, slots=True)
class AccountRecord:
    id: int
    domain_id: int
    address: str
    display_name: str
    password_hash: str
    role: str
    quota_bytes: int
    used_bytes: int
    disabled: bool
    credentials_serial: int
    created_at: int


@dataclass(frozen=True, slots=True)
class AliasRecord:
    id: int
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class FolderRecord:
    id: int
    account_id: int
    name: str
    special_use: str | None
    subscribed: bool
    uidvalidity: int
    uidnext: int
    highestmodseq: int
    exists_count: int
    unseen_count: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class MessageSummary:
    """One message in one folder, with the fields a list shows."""

    folder_id: int
    folder: str
    uid: int
    message_id: int
    blob: str
    size: int
    internal_date: int
    date: int
    subject: str
    from_addr: str
    from_name: str
    to_text: str
    flags: tuple[str, ...]
    keywords: tuple[str, ...]
    thread_id: int
    has_attachments: bool
    preview: str


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """The result of filing one message into one folder."""

    account_id: int
    folder_id: int
    uid: int
    modseq: int
    message_id: int
