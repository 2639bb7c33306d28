"""The CPU-heavy part of filing a message: parsing it and tokenising its text for the search index.

`prepare_message` is a pure function of the bytes, so it can run in a thread (deliveries) or in a worker process
(bulk imports, which use both cores). It never raises: unparseable mail still yields a PreparedMessage.

Between processes, `prepare_many` sends each result as a flat tuple of plain values (`pack`), which pickles several
times faster than nested dataclasses, and leaves out `parsed.body_text`: the search document already holds that text
tokenised, and nothing that files an imported message reads it. `unpack` rebuilds the PreparedMessage.

This module imports only `yizhan.mail` and `yizhan.util` (not the store, nor SQLAlchemy), so a worker process
starts quickly.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from yizhan.mail.model import Address, ParsedMessage
from yizhan.mail.parse import base_subject, parse_message
from yizhan.mail.tokens import SearchDocument, index_text
from yizhan.util.workers import WorkerThreads

if TYPE_CHECKING:
    # Only for annotations: parsing worker processes import this module and need not load the store.
    from yizhan.store.store import Store


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


# A PreparedMessage as plain values: see `pack`.
Packed = tuple[Any, ...]
_ADDRESS_FIELDS = ("from_", "sender", "reply_to", "to", "cc", "bcc")


def _pack_addresses(addresses: tuple[Address, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((a.name, a.addr) for a in addresses)


def _unpack_addresses(pairs: tuple[tuple[str, str], ...]) -> tuple[Address, ...]:
    return tuple(Address(name, addr) for name, addr in pairs)


def pack(prepared: PreparedMessage) -> Packed:
    """`prepared` as a flat tuple of strings, numbers and tuples, without `parsed.body_text`."""
    p, s = prepared.parsed, prepared.search
    return (
        p.subject, *(_pack_addresses(getattr(p, name)) for name in _ADDRESS_FIELDS), p.date, p.message_id,
        p.in_reply_to, p.references, p.preview, p.attachment_names, p.has_attachments, p.envelope, p.bodystructure,
        p.body, p.defects, prepared.thread_subject, s.subject, s.sender, s.recipients, s.body, s.attachments,
    )


def unpack(packed: Packed) -> PreparedMessage:
    """The PreparedMessage `pack` flattened (its `parsed.body_text` is empty)."""
    (subject, from_, sender, reply_to, to, cc, bcc, date, message_id, in_reply_to, references, preview,
     attachment_names, has_attachments, envelope, bodystructure, body, defects, thread_subject,
     s_subject, s_sender, s_recipients, s_body, s_attachments) = packed
    parsed = ParsedMessage(
        subject=subject, from_=_unpack_addresses(from_), sender=_unpack_addresses(sender),
        reply_to=_unpack_addresses(reply_to), to=_unpack_addresses(to), cc=_unpack_addresses(cc),
        bcc=_unpack_addresses(bcc), date=date, message_id=message_id, in_reply_to=in_reply_to,
        references=references, preview=preview, attachment_names=attachment_names, has_attachments=has_attachments,
        envelope=envelope, bodystructure=bodystructure, body=body, defects=defects)
    return PreparedMessage(parsed, thread_subject, SearchDocument(s_subject, s_sender, s_recipients, s_body,
                                                                  s_attachments))


def prepare_many(raws: list[bytes]) -> list[Packed]:
    """Prepare a batch in a worker process; `unpack` each result (one call per batch keeps inter-process
    traffic low)."""
    return [pack(prepare_message(raw)) for raw in raws]


# The threads that prepare messages being filed (deliveries, APPEND), started at first use and kept for the life
# of the process, as asyncio's default executor is.
_PREPARE_THREADS = 4
_threads: WorkerThreads | None = None
_threads_lock = threading.Lock()


def _prepare_threads() -> WorkerThreads:
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = WorkerThreads(_PREPARE_THREADS, "prepare")
        return _threads


async def prepare_in_thread(raw: bytes) -> PreparedMessage:
    """`prepare_message` on a preparing thread."""
    return await _prepare_threads().run(functools.partial(prepare_message, raw))


async def prepare_and_keep_in_thread(store: Store, raw: bytes) -> tuple[PreparedMessage, str]:
    """`prepare_and_keep` on a preparing thread: one lean hand-off (util/workers.py) per message filed."""
    return await _prepare_threads().run(functools.partial(prepare_and_keep, store, raw))


def prepare_and_keep(store: Store, raw: bytes) -> tuple[PreparedMessage, str]:
    """Parse `raw` and store its blob durably, one after the other on the calling worker thread (blocking).

    One hand-off to a worker thread per message instead of two: with many messages in flight the threads overlap
    one message's fsync with another's parsing anyway. The blob's name becomes durable at the commit that files
    the message (store/blobs.py, `defer`).
    """
    return prepare_message(raw), store.blobs.put(raw, defer=True)
