"""STORE and UID STORE (RFC 9051 §6.4.6): FLAGS, +FLAGS, -FLAGS, with .SILENT, and CONDSTORE's UNCHANGEDSINCE
(RFC 7162 §3.1.3).

Invariants: a read-only mailbox refuses STORE (`NO [READ-ONLY]`); `\\Recent` is never stored; each changed entry
gets a new MODSEQ in the store. Unless .SILENT, every message named gets one FETCH response with its flags as
stored after the change (UID STORE adds UID); the session records the new state so the same change coming back
from the bus is not sent twice.

UNCHANGEDSINCE n enables CONDSTORE; the store leaves alone, in the same transaction, every entry whose MODSEQ is
above n, and those are named in `OK [MODIFIED set]` (message numbers, or UIDs for UID STORE). Once CONDSTORE is
enabled, FETCH responses carry MODSEQ, and entries this STORE changed get one even with .SILENT (RFC 7162 §3.1.3);
once QRESYNC is, they carry UID.
"""

from __future__ import annotations

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.replies import Bad, Refused
from yizhan.protocols.imap.sequence import SequenceSet
from yizhan.protocols.imap.session import Done, Session


async def store(session: Session, command: c.Store) -> Done:
    selected = session.require_selected()
    if selected.readonly:
        raise Refused("the mailbox is read-only", "READ-ONLY")
    if command.unchangedsince is not None:
        session.enable_condstore()
    try:
        targets = selected.resolve(command.sequence, command.uid)
    except ValueError as exc:
        raise Bad(f"invalid message set: {exc}") from None
    if not targets:
        return Done("store completed")
    mailbox = session.services.mailbox
    uids = [uid for _, uid in targets]
    modified: list[int] = []
    changed = await mailbox.store_flags(selected.folder, uids, command.mode, command.flags,
                                        command.unchangedsince, modified)
    for uid, (modseq, flags) in changed.items():
        selected.set_flags(uid, modseq, flags)
    done = Done("store completed")
    if modified:
        numbers = modified if command.uid else [n for n in map(selected.number_of, modified) if n is not None]
        done = Done("conditional store failed for some messages",
                    r.ResponseCode("MODIFIED", r.Atom(str(SequenceSet.from_numbers(numbers)))))
    if command.silent and not (session.condstore and changed):
        return done
    skipped = set(modified)
    out = []
    # The flags to report are the session's own view: just updated with what changed, and kept current by the
    # other sessions' events (no second trip to the database).
    for uid in uids:
        number = selected.number_of(uid)
        state = selected.states.get(uid)
        if uid in skipped or number is None or state is None or (command.silent and uid not in changed):
            continue
        modseq, flags = state
        items: list[tuple[str, r.Value]] = [] if command.silent else [("FLAGS", r.flags(flags))]
        if command.uid or session.qresync:
            items.insert(0, ("UID", uid))
        if session.condstore:
            items.append(("MODSEQ", [modseq]))
        out.append(r.fetch(number, items, session.utf8))
    await session.send(b"".join(out))
    return done
