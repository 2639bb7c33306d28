"""SEARCH and UID SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4) with ESEARCH (RFC 4731), SEARCHRES (RFC 5182) and
CONDSTORE's MODSEQ criterion (RFC 7162 §3.1.5).

Invariants:
- The criteria are evaluated by `searcheval` (in SQL where possible, text through the search index, a message read
  only when neither can decide); EXPUNGE responses are held back during SEARCH by number.
- Without RETURN, an IMAP4rev1 client gets `* SEARCH ...` (with `(MODSEQ n)` when MODSEQ was used and something
  matched); an IMAP4rev2 client, or any RETURN option, gets `* ESEARCH (TAG "t") [UID] ...` (RFC 9051 §7.3.4).
  RETURN (SAVE) alone sends no ESEARCH response (RFC 5182 §2.4).
- SAVE keeps UIDs (all matches, or only MIN/MAX when those are the only other options); a failed SEARCH with SAVE
  leaves the saved result empty (RFC 5182 §2.1). A MODSEQ criterion enables CONDSTORE (RFC 7162 §3.1).
"""

from __future__ import annotations

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.searcheval import evaluate, uses_modseq
from yizhan.protocols.imap.sequence import SequenceSet
from yizhan.protocols.imap.session import Done, Session


def _numbers(known: list[int], uids: list[int]) -> list[int]:
    """Message numbers of `uids` (ascending, all in `known`), found in one pass over the session's UIDs."""
    out = []
    index = 0
    for uid in uids:
        while known[index] < uid:
            index += 1
        out.append(index + 1)
    return out


def _saved(uids: list[int], options: tuple[str, ...]) -> tuple[int, ...]:
    others = set(options) - {"SAVE"}
    if others and others <= {"MIN", "MAX"} and uids:
        keep = {uids[0]} if "MIN" in others else set()
        if "MAX" in others:
            keep.add(uids[-1])
        return tuple(sorted(keep))
    return tuple(uids)


async def search(session: Session, command: c.Search) -> Done:
    selected = session.require_selected()
    options = command.return_options
    save = options is not None and "SAVE" in options
    with_modseq = uses_modseq(command.criteria)
    if with_modseq:
        session.enable_condstore()
    try:
        found = await evaluate(session.services.mailbox, selected, command.criteria)
    except Exception:
        if save:
            selected.saved = ()
        raise
    uids = [uid for uid, _ in found]
    values = uids if command.uid else _numbers(selected.uids, uids)
    highest = max(modseq for _, modseq in found) if with_modseq and found else None
    if options is not None and save:
        selected.saved = _saved(uids, options)
    if options is None and not session.rev2:
        await session.send(r.search_line(values, highest))
        return Done("search completed")
    wanted = options or ("ALL",)
    if wanted == ("SAVE",):
        return Done("search completed, result saved")
    results: list[tuple[str, int | SequenceSet]] = []
    if values and "MIN" in wanted:
        results.append(("MIN", values[0]))
    if values and "MAX" in wanted:
        results.append(("MAX", values[-1]))
    if values and "ALL" in wanted:
        results.append(("ALL", SequenceSet.from_numbers(values)))
    if "COUNT" in wanted:
        results.append(("COUNT", len(values)))
    if highest is not None:
        results.append(("MODSEQ", highest))
    await session.send(r.esearch_line(command.tag, command.uid, results))
    return Done("search completed")
