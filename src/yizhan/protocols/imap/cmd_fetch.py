"""FETCH and UID FETCH (RFC 9051 §6.4.5, §7.5.2; RFC 3501 §6.4.5): FLAGS, UID, INTERNALDATE, RFC822.SIZE,
ENVELOPE, BODY, BODYSTRUCTURE, MODSEQ, RFC822, RFC822.HEADER, RFC822.TEXT and BODY[section]<partial> / BODY.PEEK.

Invariants:
- Items are answered in the order asked; UID FETCH always includes UID. ENVELOPE and BODYSTRUCTURE come from the
  store's cache; sections come from the stored bytes, exactly (`bodysection`), so iOS's `BODY.PEEK[]<0.393216>`
  gets the first 393216 octets of what RFC822.SIZE counts.
- A non-PEEK BODY[...], RFC822 or RFC822.TEXT sets \\Seen on a read-write mailbox (RFC 9051 §6.4.5) before the
  response is built, and the new FLAGS are included in the same FETCH response.
- Messages are read `_BATCH` at a time and each response is sent when built, so memory is bounded by a batch.
- By number, a number above EXISTS makes the command BAD; by UID, missing UIDs are skipped (RFC 9051 §6.4.9).
  A message expunged by another session meanwhile is left out.
"""

from __future__ import annotations

import asyncio

from yizhan.mail.imapformat import MimePart, parse_structure
from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.bodysection import partial, section_bytes
from yizhan.protocols.imap.replies import Bad
from yizhan.protocols.imap.session import Done, Session
from yizhan.store.mailview import EntryData
from yizhan.util.errors import NotFound

_BATCH = 50
_BLOB_ITEMS = frozenset({"RFC822", "RFC822.HEADER", "RFC822.TEXT"})
_SEEN_ITEMS = frozenset({"RFC822", "RFC822.TEXT"})


def _needs_blob(items: tuple[c.FetchItem, ...]) -> bool:
    return any(not isinstance(i, c.FetchAttr) or i.name in _BLOB_ITEMS for i in items)


def _sets_seen(items: tuple[c.FetchItem, ...]) -> bool:
    return any((isinstance(i, c.FetchBody) and not i.peek) or (isinstance(i, c.FetchAttr) and i.name in _SEEN_ITEMS)
               for i in items)


def _body_item(item: c.FetchBody, raw: bytes, root: MimePart) -> tuple[str, r.Value]:
    data = raw if item.section == c.Section() else section_bytes(raw, root, item.section)
    if item.partial is None:
        return r.fetch_key(item), data
    origin, length = item.partial
    return r.fetch_key(item, origin), partial(data or b"", origin, length)


def _items(command: c.Fetch, entry: EntryData, raw: bytes | None, root: MimePart | None,
           flags: tuple[str, ...]) -> list[tuple[str, r.Value]]:
    out: list[tuple[str, r.Value]] = []
    for item in command.items:
        if isinstance(item, c.FetchBody):
            assert raw is not None and root is not None
            out.append(_body_item(item, raw, root))
            continue
        if isinstance(item, c.FetchBinary):
            raise Bad("BINARY is not supported")
        name = item.name
        if name == "UID":
            out.append(("UID", entry.uid))
        elif name == "FLAGS":
            out.append(("FLAGS", r.flags(flags)))
        elif name == "INTERNALDATE":
            out.append(("INTERNALDATE", r.Raw(r.date_time(entry.internal_date))))
        elif name == "RFC822.SIZE":
            out.append(("RFC822.SIZE", entry.size))
        elif name == "ENVELOPE":
            out.append(("ENVELOPE", r.Raw(entry.envelope.encode("utf-8"))))
        elif name == "BODYSTRUCTURE":
            out.append(("BODYSTRUCTURE", r.Raw(entry.bodystructure.encode("utf-8"))))
        elif name == "BODY":
            out.append(("BODY", r.Raw(entry.body.encode("utf-8"))))
        elif name == "MODSEQ":
            out.append(("MODSEQ", [entry.modseq]))
        elif name == "RFC822":
            out.append(("RFC822", raw))
        elif name == "RFC822.HEADER":
            assert raw is not None and root is not None
            out.append(("RFC822.HEADER", raw[:root.body_start]))
        elif name == "RFC822.TEXT":
            assert raw is not None and root is not None
            out.append(("RFC822.TEXT", raw[root.body_start:]))
    if command.uid and not any(key == "UID" for key, _ in out):
        out.insert(0, ("UID", entry.uid))
    return out


async def fetch(session: Session, command: c.Fetch) -> Done:
    selected = session.require_selected()
    try:
        targets = selected.resolve(command.sequence, command.uid)
    except ValueError as exc:
        raise Bad(f"invalid message set: {exc}") from None
    if any(isinstance(i, c.FetchBinary) for i in command.items):
        raise Bad("BINARY is not supported")
    if command.changedsince is not None or command.vanished:
        raise Bad("CHANGEDSINCE and VANISHED need CONDSTORE / QRESYNC, which are not supported yet")
    mailbox = session.services.mailbox
    needs_blob = _needs_blob(command.items)
    mark_seen = _sets_seen(command.items) and not selected.readonly
    wants_flags = any(isinstance(i, c.FetchAttr) and i.name == "FLAGS" for i in command.items)
    for start in range(0, len(targets), _BATCH):
        batch = targets[start:start + _BATCH]
        entries = await mailbox.fetch_data(selected.folder, [uid for _, uid in batch])
        changed: dict[int, tuple[int, tuple[str, ...]]] = {}
        if mark_seen:
            unseen = [e.uid for e in entries if "\\Seen" not in e.flags]
            if unseen:
                changed = await mailbox.store_flags(selected.folder, unseen, "add", ["\\Seen"])
        out: list[bytes] = []
        for entry in entries:
            number = selected.number_of(entry.uid)
            if number is None:
                continue
            modseq, flags = changed.get(entry.uid, (entry.modseq, entry.flags))
            selected.set_flags(entry.uid, modseq, flags)
            raw: bytes | None = None
            root: MimePart | None = None
            if needs_blob:
                try:
                    raw = await mailbox.read(entry.blob)
                except NotFound:
                    continue
                root = await asyncio.to_thread(parse_structure, raw) if len(raw) > 65536 else parse_structure(raw)
            items = _items(command, entry, raw, root, flags)
            if entry.uid in changed and not wants_flags:
                items.append(("FLAGS", r.flags(flags)))
            out.append(r.fetch(number, items, session.utf8))
        await session.send(b"".join(out))
    return Done("fetch completed")
