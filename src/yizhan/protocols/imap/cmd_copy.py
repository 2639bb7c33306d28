"""COPY and MOVE, with their UID forms (RFC 9051 §6.4.7-6.4.8, RFC 6851 MOVE, RFC 4315 COPYUID).

Invariants: the copies are durable before the tagged OK; flags and internal dates come along. MOVE copies, then
marks the originals \\Deleted and expunges exactly those UIDs (RFC 6851 §3.3: the COPYUID goes in an untagged OK
before the EXPUNGE responses). A missing target folder is `NO [TRYCREATE]`; a read-only mailbox cannot MOVE.
"""

from __future__ import annotations

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.replies import Bad, Refused, TryCreate
from yizhan.protocols.imap.sequence import SequenceSet
from yizhan.protocols.imap.session import Done, Session
from yizhan.util.errors import NotFound


async def copy(session: Session, command: c.Copy | c.Move) -> Done:
    account = session.require_account()
    selected = session.require_selected()
    moving = isinstance(command, c.Move)
    if moving and selected.readonly:
        raise Refused("the mailbox is read-only", "READ-ONLY")
    try:
        targets = selected.resolve(command.sequence, command.uid)
    except ValueError as exc:
        raise Bad(f"invalid message set: {exc}") from None
    if not targets:
        return Done("nothing to copy")
    mailbox = session.services.mailbox
    try:
        await mailbox.folder(account.id, command.mailbox)
    except NotFound:
        raise TryCreate(f"no folder {command.mailbox}") from None
    copied = await mailbox.copy(account.id, selected.folder, [uid for _, uid in targets], command.mailbox)
    code = r.ResponseCode("COPYUID", copied.uidvalidity, r.Atom(str(SequenceSet.from_numbers(
        list(copied.source_uids)))), r.Atom(str(SequenceSet.from_numbers(list(copied.target_uids)))))
    if not copied.source_uids:
        return Done("nothing copied")
    if not moving:
        return Done("copied", code)
    changed = await mailbox.store_flags(selected.folder, copied.source_uids, "add", ["\\Deleted"])
    for uid, (modseq, flags) in changed.items():
        selected.set_flags(uid, modseq, flags)
    removed = await mailbox.expunge(selected.folder, copied.source_uids)
    # Our own EXPUNGEs first (their echo from the bus is then ignored), after the COPYUID (RFC 6851 §4.3).
    expunges = b"".join(selected.remove(removed))
    owed = await session.updates(command) if command.uid else b""
    await session.send(r.untagged_status("OK", "moved", code) + expunges + owed)
    return Done("moved")
