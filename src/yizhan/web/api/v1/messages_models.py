"""Typed bodies of the folder and message routes of API v1 (`folders.py`, `messages.py`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from yizhan.services.webmail import MAX_ACTION, FolderTotals
from yizhan.store.records import FolderRecord, MessageSummary
from yizhan.web.folders import special_use

SpecialUse = Literal["inbox", "drafts", "sent", "archive", "junk", "trash"]


class Folder(BaseModel):
    id: int = Field(description="The folder id used by the message routes")
    name: str = Field(description="Full name, levels separated by '/'; INBOX is the inbox", examples=["INBOX"])
    special_use: SpecialUse | None = Field(description="RFC 6154 role of the folder, if any")
    total: int = Field(description="Messages in the folder")
    unread: int = Field(description="Messages without the \\Seen flag")
    size_bytes: int
    subscribed: bool

    @classmethod
    def of(cls, record: FolderRecord) -> Folder:
        return cls(id=record.id, name=record.name, special_use=special_use(record),
                   total=record.exists_count, unread=record.unseen_count, size_bytes=record.size_bytes,
                   subscribed=record.subscribed)


class FolderList(BaseModel):
    folders: list[Folder]


class FolderCreate(BaseModel):
    name: str = Field(min_length=1, max_length=1000, description="Full name; '/' separates levels",
                      examples=["Work/项目"])


class FolderPatch(BaseModel):
    name: str = Field(min_length=1, max_length=1000, description="The new full name")


class Emptied(BaseModel):
    removed: int = Field(description="Messages removed for ever")


class MessageOut(BaseModel):
    id: str = Field(description="folder_id:uid, the message's id in this API", examples=["3:42"])
    folder_id: int
    folder: str
    uid: int
    thread_id: int
    date: int = Field(description="Epoch seconds (UTC): the Date header, or the arrival time")
    received: int = Field(description="Epoch seconds (UTC) when the message was filed")
    subject: str
    from_address: str
    from_name: str
    to: str
    preview: str
    size: int
    has_attachments: bool
    flags: list[str] = Field(description="System flags such as \\Seen and \\Flagged, then keywords")
    unread: bool
    flagged: bool

    @classmethod
    def of(cls, item: MessageSummary) -> MessageOut:
        return cls(id=f"{item.folder_id}:{item.uid}", folder_id=item.folder_id, folder=item.folder, uid=item.uid,
                   thread_id=item.thread_id, date=item.date, received=item.internal_date, subject=item.subject,
                   from_address=item.from_addr, from_name=item.from_name, to=item.to_text, preview=item.preview,
                   size=item.size, has_attachments=item.has_attachments, flags=[*item.flags, *item.keywords],
                   unread="\\Seen" not in item.flags, flagged="\\Flagged" in item.flags)


class Totals(BaseModel):
    total: int
    unread: int
    flagged: int

    @classmethod
    def of(cls, totals: FolderTotals) -> Totals:
        return cls(total=totals.total, unread=totals.unread, flagged=totals.flagged)


class MessageList(BaseModel):
    messages: list[MessageOut]
    next_cursor: str | None = Field(description="Send it back as `cursor` for the next page; null on the last")
    folder: Folder | None = Field(None, description="The folder listed (absent for a search of every folder)")
    totals: Totals | None = None


class ActionRequest(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=MAX_ACTION, description="Message ids (folder_id:uid)",
                           examples=[["3:42", "3:43"]])
    action: Literal["read", "unread", "flag", "unflag", "move", "delete", "spam", "notspam"]
    folder_id: int | None = Field(None, ge=1, le=2**62, description="The target folder of `move`")


class ActionOut(BaseModel):
    action: str
    changed: int = Field(description="Messages changed (already in that state or gone: not counted)")
    target_folder_id: int | None
    moved: dict[str, str] = Field(description="Old id → new id of every moved message")


class FlagsPatch(BaseModel):
    add: list[str] = Field(default_factory=list, max_length=50, examples=[["\\Flagged"]])
    remove: list[str] = Field(default_factory=list, max_length=50, examples=[["\\Seen"]])
