"""Typed request and response bodies of API v1 (they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from yizhan.store.records import AccountRecord


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. not_found, invalid_request, csrf_failed")
    message: str = Field(description="What went wrong and what to fix, in the caller's language")
    fields: list[dict[str, str]] | None = Field(None, description="For invalid_request: each bad field and why")


class ErrorBody(BaseModel):
    error: ErrorDetail


class Account(BaseModel):
    address: str = Field(examples=["alice@example.com"])
    display_name: str
    role: Literal["admin", "domain-admin", "user"] | str
    quota_bytes: int = Field(description="0 means unlimited")
    used_bytes: int

    @classmethod
    def of(cls, account: AccountRecord) -> Account:
        return cls(address=account.address, display_name=account.display_name, role=account.role,
                   quota_bytes=account.quota_bytes, used_bytes=account.used_bytes)


class Folder(BaseModel):
    name: str = Field(description="Full name, levels separated by '/'; INBOX is the inbox", examples=["INBOX"])
    special_use: Literal["inbox", "drafts", "sent", "archive", "junk", "trash"] | None = Field(
        description="RFC 6154 role of the folder, if any")
    total: int = Field(description="Messages in the folder")
    unread: int = Field(description="Messages without the \\Seen flag")
    size_bytes: int
    subscribed: bool


class FolderList(BaseModel):
    folders: list[Folder]


class SignIn(BaseModel):
    address: str = Field(min_length=1, max_length=320, examples=["alice@example.com"])
    password: str = Field(min_length=1, max_length=1024)


class SessionInfo(BaseModel):
    account: Account
    csrf_token: str = Field(description="Send it as the X-CSRF-Token header with every write made with the cookie")
    expires_at: int = Field(description="Epoch seconds (UTC) when the session ends")
