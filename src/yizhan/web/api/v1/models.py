"""Typed request and response bodies of API v1 (they make the OpenAPI schema)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

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


def one_line(value: str) -> str:
    """Refuse control characters (NUL, CR, LF…) in a value meant as a single line of text (PostgreSQL refuses NUL
    in text, and names end up in headers and lists)."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain control characters (such as NUL, tab or line breaks)")
    return value


OneLine = Annotated[str, AfterValidator(one_line)]


# Personal API tokens (web/api/v1/tokens.py)

Scope = Literal["read", "write", "admin"]


class ApiToken(BaseModel):
    id: int
    name: str
    hint: str = Field(description="The first characters of the secret, to recognise it by", examples=["yzt_Ab3x"])
    scopes: list[str] = Field(examples=[["read", "write"]])
    state: Literal["active", "revoked", "expired"]
    created_at: int = Field(description="Epoch seconds (UTC)")
    last_used_at: int | None = Field(description="Epoch seconds (UTC) of the last use, to the minute; null if never")
    expires_at: int | None = Field(description="Epoch seconds (UTC); null: never expires")
    revoked_at: int | None


class ApiTokenList(BaseModel):
    tokens: list[ApiToken]


class NewApiToken(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["backup script"])
    scopes: list[Scope] = Field(min_length=1, max_length=3, examples=[["read"]],
                                description="read: GET requests; write: every other method; admin: the admin API "
                                            "(admin and domain-admin accounts only)")
    expires_in_days: int | None = Field(None, ge=1, le=36500, description="Null: the token never expires")


class CreatedApiToken(BaseModel):
    token: ApiToken
    secret: str = Field(description="The token to send as `Authorization: Bearer <secret>`. Shown this once: it "
                                    "is not stored and cannot be shown again")


class Credentials(BaseModel):
    via: Literal["cookie", "bearer"] = Field(description="How this request was authenticated")
    scopes: list[str] = Field(description="What it may do")


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


# Notes (web/api/v1/notes.py)

NoteFormat = Literal["plain", "html"]


class Note(BaseModel):
    id: int
    title: str
    body: str = Field(description="The text; for format html, HTML as it was stored: sanitise before showing it")
    format: NoteFormat
    pinned: bool
    created_at: int
    updated_at: int


class NoteList(BaseModel):
    notes: list[Note]
    next_cursor: str | None = Field(description="Send as `cursor` for the next page; null on the last page")


class NewNote(BaseModel):
    title: str = Field("", max_length=200)
    body: str = Field("", max_length=256 * 1024)
    format: NoteFormat = "plain"
    pinned: bool = False


class NoteChange(BaseModel):
    title: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=256 * 1024)
    format: NoteFormat | None = None
    pinned: bool | None = None


# Settings and signatures (web/api/v1/settings.py)

Language = Literal["auto", "zh-CN", "en"]
Density = Literal["comfortable", "compact"]
RemoteImages = Literal["never", "ask", "always"]


class Signature(BaseModel):
    id: int
    name: str
    body: str
    format: NoteFormat
    is_default: bool
    created_at: int
    updated_at: int


class SignatureList(BaseModel):
    signatures: list[Signature]


class NewSignature(BaseModel):
    name: OneLine = Field(min_length=1, max_length=100)
    body: str = Field("", max_length=32 * 1024)
    format: NoteFormat = "plain"
    is_default: bool = False


class SignatureChange(BaseModel):
    name: OneLine | None = Field(None, min_length=1, max_length=100)
    body: str | None = Field(None, max_length=32 * 1024)
    format: NoteFormat | None = None
    is_default: bool | None = None


class AccountSettings(BaseModel):
    display_name: str
    language: Language = Field(description="auto follows the browser's Accept-Language")
    time_zone: str = Field(description="IANA time zone name", examples=["Asia/Shanghai"])
    density: Density = Field(description="Message list density")
    remote_images: RemoteImages = Field(description="never; ask (show them for the senders in image_senders); "
                                                    "always")
    image_senders: list[str] = Field(description="Addresses, or @domain, whose remote images are always shown")
    signatures: list[Signature]


class AccountSettingsChange(BaseModel):
    display_name: str | None = Field(None, max_length=200)
    language: Language | None = None
    time_zone: str | None = Field(None, min_length=1, max_length=64)
    density: Density | None = None
    remote_images: RemoteImages | None = None


class ImageSender(BaseModel):
    sender: OneLine = Field(min_length=1, max_length=320, description="An address, or @domain for all its senders",
                        examples=["news@example.com", "@example.org"])
