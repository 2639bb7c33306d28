"""FETCH and UID FETCH (RFC 9051 §6.4.5, §7.5.2; RFC 3501 §6.4.5): FLAGS, UID, INTERNALDATE, RFC822.SIZE,
ENVELOPE, BODY, BODYSTRUCTURE, MODSEQ, RFC822, RFC822.HEADER, RFC822.TEXT, BODY[section]<partial> / BODY.PEEK,
BINARY[part]<partial> / BINARY.PEEK / BINARY.SIZE (RFC 3516), and RFC 7162's CHANGEDSINCE and VANISHED modifiers.

Invariants:
- Items are answered in the order asked; UID FETCH always includes UID. ENVELOPE and BODYSTRUCTURE come from the
  store's cache; sections come from the stored bytes, exactly (`bodysection`), so iOS's `BODY.PEEK[]<0.393216>`
  gets the first 393216 octets of what RFC822.SIZE counts.
- A non-PEEK BODY[...], RFC822 or RFC822.TEXT sets \\Seen on a read-write mailbox (RFC 9051 §6.4.5) before the
  response is built, and the new FLAGS are included in the same FETCH response.
- Messages are read `_BATCH` at a time and each response is sent when built, so memory is bounded by a batch.
- By number, a number above EXISTS makes the command BAD; by UID, missing UIDs are skipped (RFC 9051 §6.4.9).
  A message expunged by another session meanwhile is left out.
- BINARY gives a part's content with its Content-Transfer-Encoding undone (a literal8 when it holds NUL); an
  encoding we cannot undo is `NO [UNKNOWN-CTE]` (RFC 3516 §4.2). BINARY[] is the whole message as stored.
- MODSEQ or CHANGEDSINCE enables CONDSTORE; then every FETCH with FLAGS carries MODSEQ. CHANGEDSINCE n leaves out
  messages whose MODSEQ is not above n; VANISHED (UID FETCH, QRESYNC enabled, else BAD) first sends
  `* VANISHED (EARLIER)` for UIDs of the set expunged after n (RFC 7162 §3.1.4, §3.2.6). With QRESYNC every FETCH
  carries UID.
"""

from __future__ import annotations

import asyncio
import binascii

from yizhan.mail.charsets import b64decode_loose
from yizhan.mail.imapformat import MimePart, find_section, parse_structure, parse_top_bounds
from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.bodysection import partial, section_bytes
from yizhan.protocols.imap.replies import Bad, Refused
from yizhan.protocols.imap.sequence import SequenceSet
from yizhan.protocols.imap.session import Done, Session
from yizhan.store.mailview import EntryData

_BATCH = 50
_BLOB_ITEMS = frozenset({"RFC822", "RFC822.HEADER", "RFC822.TEXT"})
_SEEN_ITEMS = frozenset({"RFC822", "RFC822.TEXT"})
FetchAttr_MODSEQ = c.FetchAttr("MODSEQ")


def _needs_blob(items: tuple[c.FetchItem, ...]) -> bool:
    return any(not isinstance(i, c.FetchAttr) or i.name in _BLOB_ITEMS for i in items)


def _needs_parts(items: tuple[c.FetchItem, ...]) -> bool:
    """Whether an item names a part below the top level (so the whole MIME tree must be parsed)."""
    return any(isinstance(i, c.FetchBinary) or (isinstance(i, c.FetchBody) and i.section.part) for i in items)


def _sets_seen(items: tuple[c.FetchItem, ...]) -> bool:
    return any((isinstance(i, c.FetchBody | c.FetchBinary) and not i.peek and not (isinstance(i, c.FetchBinary)
                                                                                   and i.size))
               or (isinstance(i, c.FetchAttr) and i.name in _SEEN_ITEMS) for i in items)


_IDENTITY_CTE = frozenset({"", "7bit", "8bit", "binary"})


def binary_content(raw: bytes, root: MimePart, part: tuple[int, ...]) -> bytes | None:
    """RFC 3516 §4.2: the decoded content of a part (None when it does not exist); Refused [UNKNOWN-CTE]."""
    if not part:
        return raw
    found = find_section(root, part)
    if found is None:
        return None
    data = raw[found.body_start:found.end]
    if found.parts:
        return data
    encoding = (found.header("content-transfer-encoding") or "").strip().lower()
    if encoding in _IDENTITY_CTE:
        return data
    if encoding == "base64":
        return b64decode_loose(data)
    if encoding == "quoted-printable":
        try:
            return binascii.a2b_qp(data)
        except (binascii.Error, ValueError):
            pass
    raise Refused(f"cannot decode the content transfer encoding {encoding[:40]!r}", "UNKNOWN-CTE")


def _binary_item(item: c.FetchBinary, raw: bytes, root: MimePart) -> tuple[str, r.Value]:
    data = binary_content(raw, root, item.part)
    if item.size:
        return r.fetch_key(item), None if data is None else len(data)
    origin = None
    if data is not None and item.partial is not None:
        origin, length = item.partial
        data = partial(data, origin, length)
    if data is None:
        return r.fetch_key(item, origin), None
    return r.fetch_key(item, origin), r.Literal8(data) if b"\x00" in data else r.Raw(r.literal(data))


def _body_item(item: c.FetchBody, raw: bytes, root: MimePart) -> tuple[str, r.Value]:
    data = raw if item.section == c.Section() else section_bytes(raw, root, item.section)
    if item.partial is None:
        return r.fetch_key(item), data
    origin, length = item.partial
    return r.fetch_key(item, origin), partial(data or b"", origin, length)


def _items(command: c.Fetch, entry: EntryData, raw: bytes | None, root: MimePart | None,
           flags: tuple[str, ...], modseq: int, qresync: bool) -> list[tuple[str, r.Value]]:
    out: list[tuple[str, r.Value]] = []
    for item in command.items:
        if isinstance(item, c.FetchBody):
            assert raw is not None and root is not None
            out.append(_body_item(item, raw, root))
            continue
        if isinstance(item, c.FetchBinary):
            assert raw is not None and root is not None
            out.append(_binary_item(item, raw, root))
            continue
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
            out.append(("MODSEQ", [modseq]))
        elif name == "RFC822":
            out.append(("RFC822", raw))
        elif name == "RFC822.HEADER":
            assert raw is not None and root is not None
            out.append(("RFC822.HEADER", raw[:root.body_start]))
        elif name == "RFC822.TEXT":
            assert raw is not None and root is not None
            out.append(("RFC822.TEXT", raw[root.body_start:]))
    if (command.uid or qresync) and not any(key == "UID" for key, _ in out):
        out.insert(0, ("UID", entry.uid))
    return out


async def fetch(session: Session, command: c.Fetch) -> Done:
    selected = session.require_selected()
    try:
        targets = selected.resolve(command.sequence, command.uid)
    except ValueError as exc:
        raise Bad(f"invalid message set: {exc}") from None
    if command.vanished and not session.qresync:
        raise Bad("VANISHED needs ENABLE QRESYNC")
    if command.changedsince is not None or FetchAttr_MODSEQ in command.items:
        session.enable_condstore()
    if command.vanished and command.changedsince is not None:
        # RFC 7162 §3.2.6: UIDs of the set expunged after CHANGEDSINCE, before the FETCH responses.
        spans = command.sequence.resolve(max(selected.uidnext - 1, 1))
        gone = [uid for uid in await session.services.mailbox.vanished(selected.folder, command.changedsince)
                if any(a <= uid <= b for a, b in spans)]
        if gone:
            await session.send(r.vanished_line(SequenceSet.from_numbers(gone), earlier=True))
    mailbox = session.services.mailbox
    needs_blob = _needs_blob(command.items)
    structure = parse_structure if _needs_parts(command.items) else parse_top_bounds
    mark_seen = _sets_seen(command.items) and not selected.readonly
    wants_flags = any(isinstance(i, c.FetchAttr) and i.name == "FLAGS" for i in command.items)
    for start in range(0, len(targets), _BATCH):
        batch = targets[start:start + _BATCH]
        entries = await mailbox.fetch_data(selected.folder, [uid for _, uid in batch], with_raw=needs_blob)
        if command.changedsince is not None:
            entries = [e for e in entries if e.modseq > command.changedsince]
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
                raw = entry.raw
                if raw is None:
                    continue
                root = await asyncio.to_thread(structure, raw) if len(raw) > 65536 else structure(raw)
            items = _items(command, entry, raw, root, flags, modseq, session.qresync)
            if entry.uid in changed and not wants_flags:
                items.append(("FLAGS", r.flags(flags)))
            if session.condstore and not any(key == "MODSEQ" for key, _ in items) and \
                    any(key == "FLAGS" for key, _ in items):
                items.append(("MODSEQ", [modseq]))
            out.append(r.fetch(number, items, session.utf8))
        await session.send(b"".join(out))
    return Done("fetch completed")
