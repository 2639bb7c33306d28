"""STORE and UID STORE (RFC 9051 §6.4.6): FLAGS, +FLAGS, -FLAGS, with .SILENT.

Invariants: a read-only mailbox refuses STORE (`NO [READ-ONLY]`); `\\Recent` is never stored; each changed entry
gets a new MODSEQ in the store. Unless .SILENT, every message named gets one FETCH response with its flags as
stored after the change (UID STORE adds UID); the session records the new state so the same change coming back
from the bus is not sent twice. RFC 7162 UNCHANGEDSINCE is not supported yet (CONDSTORE is not advertised).
"""

from __future__ import annotations

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.replies import Bad, Refused
from yizhan.protocols.imap.session import Done, Session


async def store(session: Session, command: c.Store) -> Done:
    selected = session.require_selected()
    if selected.readonly:
        raise Refused("the mailbox is read-only", "READ-ONLY")
    if command.unchangedsince is not None:
        raise Bad("UNCHANGEDSINCE needs CONDSTORE, which is not supported")
    try:
        targets = selected.resolve(command.sequence, command.uid)
    except ValueError as exc:
        raise Bad(f"invalid message set: {exc}") from None
    if not targets:
        return Done("store completed")
    mailbox = session.services.mailbox
    uids = [uid for _, uid in targets]
    changed = await mailbox.store_flags(selected.folder, uids, command.mode, command.flags)
    for uid, (modseq, flags) in changed.items():
        selected.set_flags(uid, modseq, flags)
    if command.silent:
        return Done("store completed")
    out = []
    for entry in await mailbox.fetch_data(selected.folder, uids):
        number = selected.number_of(entry.uid)
        if number is None:
            continue
        selected.set_flags(entry.uid, entry.modseq, entry.flags)
        items: list[tuple[str, r.Value]] = [("FLAGS", r.flags(entry.flags))]
        if command.uid:
            items.insert(0, ("UID", entry.uid))
        out.append(r.fetch(number, items, session.utf8))
    await session.send(b"".join(out))
    return Done("store completed")
