"""SELECT / EXAMINE (RFC 9051 §6.3.2-6.3.3), CHECK, CLOSE, UNSELECT, EXPUNGE, UID EXPUNGE (§6.4, RFC 4315 §2.1) and
IDLE (RFC 2177, RFC 9051 §6.3.13).

Invariants: the bus subscription exists before the snapshot is read (session.logged_in), and events queued before
the snapshot are dropped, since it includes them; a failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2);
EXPUNGE responses for this session's own expunge are computed against the client's numbering of the moment (or a
VANISHED once QRESYNC is enabled, and then the tagged OK of EXPUNGE and CLOSE carries HIGHESTMODSEQ).

CONDSTORE / QRESYNC (RFC 7162): `SELECT mbox (CONDSTORE)` enables CONDSTORE; HIGHESTMODSEQ is always given.
`SELECT mbox (QRESYNC (uidvalidity modseq [known-uids]))` needs ENABLE QRESYNC first (else BAD); when the
UIDVALIDITY matches, the client gets `* VANISHED (EARLIER)` for UIDs expunged after its MODSEQ and a FETCH (UID,
FLAGS, MODSEQ) for each message changed after it, both limited to its known UIDs (the optional sequence-match data
is accepted and not needed: our expunged table is complete). An IMAP4rev2 client gets no RECENT and no UNSEEN
code, and a LIST response for the mailbox (RFC 9051 §6.3.2).
"""

from __future__ import annotations

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.replies import Bad, Refused
from yizhan.protocols.imap.selected import Selected
from yizhan.protocols.imap.sequence import MAX_NUMBER, SequenceSet
from yizhan.protocols.imap.session import Done, Outcome, Session, State
from yizhan.services.mailbox import DELIMITER, SYSTEM_FLAGS


def _deselect(session: Session) -> None:
    session.selected = None
    session.state = State.AUTHENTICATED


async def select(session: Session, command: c.Select | c.Examine) -> Done:
    account = session.require_account()
    if command.qresync is not None and not session.qresync:
        raise Bad("QRESYNC must be enabled first")
    if command.condstore:
        session.enable_condstore()
    if session.selected is not None:
        # RFC 9051 §6.3.2 / RFC 7162 §3.2.11: the old mailbox is closed first (without expunge).
        _deselect(session)
        await session.send(r.untagged_status("OK", "previous mailbox closed", "CLOSED"))
    if session.subscription is not None:
        session.subscription.pending()
        session.subscription.overflowed = False
    snapshot = await session.services.mailbox.open(account.id, command.mailbox)
    readonly = isinstance(command, c.Examine)
    selected = Selected.from_snapshot(snapshot.folder, snapshot.entries, readonly)
    selected.condstore = session.condstore
    selected.qresync = session.qresync
    keywords = sorted({f for _, flags in selected.states.values() for f in flags if not f.startswith("\\")})
    flags = [*SYSTEM_FLAGS, *keywords]
    out = [
        r.untagged(r.Atom("FLAGS"), r.flags(flags)),
        r.untagged_status("OK", "flags permitted", r.ResponseCode(
            "PERMANENTFLAGS", [] if readonly else r.flags([*flags, "\\*"]))),
        r.untagged(selected.exists, r.Atom("EXISTS")),
    ]
    if not session.rev2:
        out.append(r.untagged(0, r.Atom("RECENT")))
        first_unseen = next((i + 1 for i, uid in enumerate(selected.uids)
                             if "\\Seen" not in selected.flags_of(uid)), None)
        if first_unseen is not None:
            out.append(r.untagged_status("OK", "first unseen", r.ResponseCode("UNSEEN", first_unseen)))
    out += [
        r.untagged_status("OK", "UIDs valid", r.ResponseCode("UIDVALIDITY", snapshot.folder.uidvalidity)),
        r.untagged_status("OK", "predicted next UID", r.ResponseCode("UIDNEXT", selected.uidnext)),
        r.untagged_status("OK", "highest", r.ResponseCode("HIGHESTMODSEQ", selected.highestmodseq)),
    ]
    if session.rev2:
        out.append(r.list_line("LIST", [], DELIMITER, snapshot.folder.name, session.utf8))
    if command.qresync is not None and command.qresync.uidvalidity == snapshot.folder.uidvalidity:
        out += await _resync(session, selected, command.qresync)
    await session.send(b"".join(out))
    session.selected = selected
    session.state = State.SELECTED
    return Done("selected", "READ-ONLY" if readonly else "READ-WRITE")


async def _resync(session: Session, selected: Selected, qresync: c.QResync) -> list[bytes]:
    """RFC 7162 §3.2.5.2: what changed since the client's MODSEQ, among the UIDs it knows."""
    spans = None if qresync.known_uids is None else qresync.known_uids.resolve(MAX_NUMBER)

    def wanted(uid: int) -> bool:
        return spans is None or any(a <= uid <= b for a, b in spans)

    out: list[bytes] = []
    gone = [uid for uid in await session.services.mailbox.vanished(selected.folder, qresync.modseq) if wanted(uid)]
    if gone:
        out.append(r.vanished_line(SequenceSet.from_numbers(gone), earlier=True))
    for number, uid in enumerate(selected.uids, start=1):
        modseq, flags = selected.states[uid]
        if modseq > qresync.modseq and wanted(uid):
            out.append(r.fetch(number, [("UID", uid), ("FLAGS", r.flags(flags)), ("MODSEQ", [modseq])]))
    return out


async def check(session: Session, command: c.Check) -> Done:
    return Done("checked")


async def unselect(session: Session, command: c.Unselect) -> Done:
    _deselect(session)
    return Done("unselected")


async def close(session: Session, command: c.Close) -> Done:
    selected = session.require_selected()
    _deselect(session)
    modseq = None
    if not selected.readonly:
        # RFC 9051 §6.4.1: expunge silently, no EXPUNGE responses.
        _, modseq = await session.services.mailbox.expunge_modseq(selected.folder)
    return Done("closed", _highest(session, selected, modseq))


def _highest(session: Session, selected: Selected, modseq: int | None) -> r.ResponseCode | None:
    """RFC 7162 §3.2.10: with QRESYNC, EXPUNGE and CLOSE report the mailbox's HIGHESTMODSEQ after them."""
    selected.highestmodseq = max(selected.highestmodseq, modseq or 0)
    return r.ResponseCode("HIGHESTMODSEQ", selected.highestmodseq) if session.qresync else None


async def expunge(session: Session, command: c.Expunge | c.UidExpunge) -> Done:
    selected = session.require_selected()
    if selected.readonly:
        raise Refused("the mailbox is read-only", "READ-ONLY")
    uids = None
    if isinstance(command, c.UidExpunge):
        uids = [uid for _, uid in selected.resolve(command.uids, uid=True)]
        if not uids:
            return Done("nothing to expunge", _highest(session, selected, None))
    # Earlier changes by others first, so the numbers below are the client's.
    owed = await session.updates(command)
    removed, modseq = await session.services.mailbox.expunge_modseq(selected.folder, uids)
    await session.send(owed + b"".join(selected.remove(removed)))
    return Done("expunged", _highest(session, selected, modseq))


async def idle(session: Session, command: c.Idle) -> Done:
    """RFC 2177: `+ idling`; the connection then sends updates as they come until DONE."""
    session.pending_tag = command.tag
    await session.send(await session.updates(command) + r.continuation("idling"))
    return Done(silent=True, outcome=Outcome(idle=True))


async def idle_done(session: Session, ok: bool) -> None:
    """DONE (or anything else, a BAD) ends IDLE with the tagged response."""
    tag = session.pending_tag or "*"
    session.pending_tag = None
    owed = await session.updates()
    if ok:
        await session.send(owed + r.tagged(tag, "OK", "IDLE terminated"))
    else:
        await session.send(owed + r.tagged(tag, "BAD", "expected DONE"))
