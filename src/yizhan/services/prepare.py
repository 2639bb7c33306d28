"""The CPU-heavy part of filing a message: parsing it and tokenising its text for the search index.

`prepare_message` is a pure function of the bytes, so it can run in a thread (deliveries) or in a worker process
(bulk imports, which use both cores). It never raises: unparseable mail still yields a PreparedMessage.
"""

from __future__ import annotations

from dataclasses import dataclass

from yizhan.mail.model import ParsedMessage
from yizhan.mail.parse import base_subject, parse_message
from yizhan.mail.tokens import index_text
from yizhan.store.ingest import SearchDocument


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    parsed: ParsedMessage
    thread_subject: str
    search: SearchDocument


def _addresses_text(parsed: ParsedMessage, *fields: str) -> str:
    parts = []
    for name in fields:
        for address in getattr(parsed, name):
            parts.append(address.name)
            parts.append(address.addr)
    return " ".join(p for p in parts if p)


def prepare_message(raw: bytes) -> PreparedMessage:
    parsed = parse_message(raw)
    search = SearchDocument(
        subject=index_text(parsed.subject),
        sender=index_text(_addresses_text(parsed, "from_", "sender", "reply_to")),
        recipients=index_text(_addresses_text(parsed, "to", "cc", "bcc")),
        body=index_text(parsed.body_text),
        attachments=index_text(" ".join(parsed.attachment_names)),
    )
    return PreparedMessage(parsed, base_subject(parsed.subject), search)


def prepare_many(raws: list[bytes]) -> list[PreparedMessage]:
    """Prepare a batch (one call per batch keeps inter-process traffic low)."""
    return [prepare_message(raw) for raw in raws]
