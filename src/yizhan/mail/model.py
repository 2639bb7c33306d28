"""Frozen values that describe a parsed message.

`ParsedMessage` is what the store keeps about a message besides its bytes: the header fields a client lists and
sorts by, the cached IMAP ENVELOPE and BODYSTRUCTURE, the threading keys and the text the search index is built from.
Every field has a safe empty value, because parsing never fails: a message that cannot be understood still gets
a `ParsedMessage` with whatever could be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox from an address header: the decoded display name and the address (may be empty)."""

    name: str
    addr: str

    def display(self) -> str:
        """`Name <addr>`, or the address alone when there is no name."""
        if self.name and self.addr:
            return f"{self.name} <{self.addr}>"
        return self.name or self.addr


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """What a message says about itself, decoded for display and indexing."""

    subject: str = ""
    from_: tuple[Address, ...] = ()
    sender: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    # The Date header as an aware datetime in UTC, or None when missing or unreadable.
    date: datetime | None = None
    # Message-ID with its angle brackets, e.g. "<abc@example.com>", or "" when missing.
    message_id: str = ""
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    # Plain text of the body for search: text/plain parts, and text/html parts turned to text; bounded in size.
    body_text: str = ""
    # The first characters of the body text on one line, for message lists.
    preview: str = ""
    # Decoded file names of attachments (RFC 2047, RFC 2231 and raw 8-bit names).
    attachment_names: tuple[str, ...] = ()
    has_attachments: bool = False
    # Cached IMAP responses (RFC 3501 §7.4.2), as the text that follows "ENVELOPE " / "BODYSTRUCTURE " / "BODY ".
    envelope: str = "NIL"
    bodystructure: str = "NIL"
    body: str = "NIL"
    # Short descriptions of what was wrong with the message (broken MIME, bad charset...), for logs and `check`.
    defects: tuple[str, ...] = field(default=())
