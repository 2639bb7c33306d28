"""Typed bodies of the single-message API (web/api/v1/message.py): a message with its parsed parts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from yizhan.mail.model import Address


class AddressOut(BaseModel):
    name: str = Field(description="Decoded display name (RFC 2047), may be empty")
    address: str = Field(description="The mail address, may be empty for a group or a broken field")

    @classmethod
    def of(cls, item: Address) -> AddressOut:
        return cls(name=item.name, address=item.addr)


class AttachmentOut(BaseModel):
    path: str = Field(description="IMAP part path (RFC 9051 §6.4.5), e.g. 2 or 1.2", examples=["2"])
    filename: str = Field(description="Decoded file name (RFC 2231/2047), made safe for every file system")
    content_type: str
    size: int = Field(description="Decoded bytes")
    inline: bool = Field(description="Shown inside the body (cid: image) rather than listed as an attachment")
    content_id: str = Field(description="Content-ID without brackets, empty when none")
    is_message: bool = Field(description="An attached message (message/rfc822)")
    url: str = Field(description="Where this API serves the part's bytes")


class BodyOut(BaseModel):
    kind: Literal["html", "text", "none"] = Field(description="Which kind of part the body came from")
    html: str = Field(description="The body as safe HTML (sanitised on the server; plain text bodies with their "
                                  "links made clickable). Remote images are blocked (data-remote-src) unless "
                                  "`images=true`, then they point at the server's image proxy")
    text: str = Field(description="The plain text of the body")
    has_remote_images: bool


class ReceiptOut(BaseModel):
    requested: bool = Field(description="The message asks for a read receipt (Disposition-Notification-To)")
    to: list[str] = Field(description="Where a receipt would go")
    answered: bool = Field(description="A receipt was sent or declined already ($MDNSent, RFC 3503)")


class MessageDetail(BaseModel):
    id: str = Field(description="folder_id:uid", examples=["3:42"])
    folder_id: int
    folder: str
    uid: int
    flags: list[str] = Field(description="System flags such as \\Seen, then keywords")
    size: int = Field(description="Bytes of the raw message")
    received: int = Field(description="Epoch seconds (UTC) when the message was filed")
    date: int | None = Field(description="Epoch seconds (UTC) of the Date header; null when missing or unreadable")
    subject: str
    from_: list[AddressOut] = Field(alias="from")
    sender: list[AddressOut]
    to: list[AddressOut]
    cc: list[AddressOut]
    bcc: list[AddressOut]
    reply_to: list[AddressOut]
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    priority: int = Field(description="1 (highest) to 5 (lowest)")
    list_unsubscribe: list[str]
    body: BodyOut
    attachments: list[AttachmentOut] = Field(description="Every attachment and inline part")
    receipt: ReceiptOut
    raw_url: str
    defects: list[str]

    model_config = {"populate_by_name": True}


class ReceiptRequest(BaseModel):
    decision: Literal["send", "ignore"] = Field(description="send the read receipt, or decline it; either way "
                                                            "the message is answered for good")


class ReceiptResultOut(BaseModel):
    sent_to: list[str] = Field(description="Addresses the receipt went to (empty when declined)")
