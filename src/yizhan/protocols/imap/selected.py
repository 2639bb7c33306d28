"""The selected mailbox of one IMAP session: message numbers ↔ UIDs, known flags, and the untagged updates owed.

Message sequence numbers (RFC 9051 §2.3.1.2) are positions in `uids`, which only the session changes: it learns of
other sessions' changes from bus events, queues them, and turns them into `EXISTS`, `EXPUNGE` and `FETCH (FLAGS)`
responses only when `updates()` is called, i.e. at a point where the client may receive them.

Invariants:
- `uids` stays sorted and only grows at the end (new UIDs are larger than every UID seen, RFC 9051 §2.3.1.1).
- Each `EXPUNGE n` is computed against the numbering the client has at that moment, so after the client applies
  the responses in order, its numbering equals ours (RFC 9051 §7.5.1). Expunges are held back while the caller
  says they may not be sent (during FETCH, STORE and SEARCH by number, RFC 9051 §7.5.1); new messages and flag
  changes are not, since they shift no number.
- Events are idempotent against the snapshot: an addition of a UID already present, a flag change no newer (by
  MODSEQ) than what the session knows, or an expunge of an unknown UID is ignored. So subscribing before taking the
  snapshot loses nothing and repeats nothing.
- `saved` is the SEARCHRES result (RFC 5182), UIDs of this mailbox; `$` resolves to those still present.
- Once the client enabled CONDSTORE, every FETCH with FLAGS carries MODSEQ; once QRESYNC, every FETCH carries UID
  and expunges are told as `* VANISHED uids` instead of EXPUNGE (RFC 7162 §3.1.4, §3.2.10).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.sequence import SequenceSet
from yizhan.store.events import Event, FlagsChanged, MessageAdded, MessagesExpunged
from yizhan.store.mailview import EntryState
from yizhan.store.records import FolderRecord


@dataclass
class Selected:
    folder: FolderRecord
    readonly: bool
    uids: list[int] = field(default_factory=list)
    # uid → (modseq, flags)
    states: dict[int, tuple[int, tuple[str, ...]]] = field(default_factory=dict)
    uidnext: int = 1
    highestmodseq: int = 1
    saved: tuple[int, ...] = ()
    # What the client enabled (RFC 7162 §3.1, §3.2.3); the session keeps these in step with ENABLE.
    condstore: bool = False
    qresync: bool = False
    _pending: list[Event] = field(default_factory=list)
    # The EXISTS count the client knows.
    _announced: int = 0

    @classmethod
    def from_snapshot(cls, folder: FolderRecord, entries: list[EntryState], readonly: bool) -> Selected:
        selected = cls(folder, readonly)
        selected.uids = [e.uid for e in entries]
        selected.states = {e.uid: (e.modseq, e.flags) for e in entries}
        last = selected.uids[-1] if selected.uids else 0
        selected.uidnext = max(folder.uidnext, last + 1)
        selected.highestmodseq = max([folder.highestmodseq, *(e.modseq for e in entries)])
        selected._announced = len(selected.uids)
        return selected

    @property
    def exists(self) -> int:
        return len(self.uids)

    def number_of(self, uid: int) -> int | None:
        index = bisect.bisect_left(self.uids, uid)
        if index < len(self.uids) and self.uids[index] == uid:
            return index + 1
        return None

    def flags_of(self, uid: int) -> tuple[str, ...]:
        state = self.states.get(uid)
        return state[1] if state else ()

    def resolve(self, sequence: SequenceSet, uid: bool) -> list[tuple[int, int]]:
        """(message number, UID) pairs named by a sequence set, ascending.

        By number, a number above EXISTS raises ValueError (the command is BAD, RFC 9051 §6.4.5). By UID, `*` is
        the largest UID in use and UIDs not present are left out (RFC 9051 §6.4.9).
        """
        if sequence.saved:
            present = (self.number_of(u) for u in self.saved)
            return sorted((n, self.uids[n - 1]) for n in present if n is not None)
        if not self.uids:
            if not uid and (sequence.ranges and not sequence.uses_star):
                raise ValueError("no messages in the mailbox")
            return []
        out: list[tuple[int, int]] = []
        if uid:
            for low, high in sequence.resolve(self.uids[-1]):
                start = bisect.bisect_left(self.uids, low)
                stop = bisect.bisect_right(self.uids, high)
                out.extend((i + 1, self.uids[i]) for i in range(start, stop))
            return out
        for low, high in sequence.resolve(len(self.uids)):
            if high > len(self.uids):
                raise ValueError("message number above the number of messages")
            out.extend((n, self.uids[n - 1]) for n in range(low, high + 1))
        return out

    def set_flags(self, uid: int, modseq: int, flags: tuple[str, ...]) -> None:
        """Record a change this session made (so its echo on the bus is not sent again)."""
        known = self.states.get(uid)
        if known is not None and modseq >= known[0]:
            self.states[uid] = (modseq, flags)
        self.highestmodseq = max(self.highestmodseq, modseq)

    def remove(self, uids: list[int]) -> list[bytes]:
        """Drop expunged UIDs now; the EXPUNGE responses, each against the numbering of the moment (or one
        `* VANISHED` for all of them, RFC 7162 §3.2.10)."""
        out = []
        gone = []
        for uid in sorted(uids, reverse=True):
            number = self.number_of(uid)
            if number is None:
                continue
            del self.uids[number - 1]
            self.states.pop(uid, None)
            gone.append(uid)
            out.append(r.untagged(number, r.Atom("EXPUNGE")))
        self._announced = len(self.uids)
        if self.qresync:
            return [r.vanished_line(SequenceSet.from_numbers(gone))] if gone else []
        return out

    def offer(self, events: list[Event]) -> None:
        """Queue bus events of this folder (others are ignored)."""
        fid = self.folder.id
        self._pending.extend(e for e in events if getattr(e, "folder_id", None) == fid)

    def diff(self, entries: list[EntryState]) -> list[Event]:
        """Events that bring this view to a fresh snapshot (after the bus lost events)."""
        account, fid = self.folder.account_id, self.folder.id
        now = {e.uid: e for e in entries}
        gone = tuple(uid for uid in self.uids if uid not in now)
        out: list[Event] = []
        if gone:
            out.append(MessagesExpunged(account, fid, gone, self.highestmodseq))
        for entry in entries:
            known = self.states.get(entry.uid)
            if known is None:
                out.append(MessageAdded(account, fid, entry.uid, entry.modseq))
            elif entry.modseq > known[0]:
                out.append(FlagsChanged(account, fid, entry.uid, entry.modseq, entry.flags))
        return out

    def updates(self, allow_expunge: bool, uid_mode: bool = False) -> list[bytes]:
        """The untagged responses owed to the client now, in the order the changes happened."""
        out: list[bytes] = []
        held: list[Event] = []
        for event in self._pending:
            if isinstance(event, MessagesExpunged):
                if allow_expunge:
                    out += self.remove(list(event.uids))
                else:
                    held.append(event)
                self.highestmodseq = max(self.highestmodseq, event.modseq)
            elif isinstance(event, MessageAdded):
                if not self.uids or event.uid > self.uids[-1]:
                    self.uids.append(event.uid)
                    self.states[event.uid] = (event.modseq, ())
                    self.uidnext = max(self.uidnext, event.uid + 1)
                    # The new entry's flags (e.g. from APPEND) follow with its first FETCH; record its MODSEQ.
                self.highestmodseq = max(self.highestmodseq, event.modseq)
            elif isinstance(event, FlagsChanged):
                known = self.states.get(event.uid)
                if known is not None and event.modseq > known[0]:
                    self.states[event.uid] = (event.modseq, event.flags)
                    number = self.number_of(event.uid)
                    if number is not None:
                        items: list[tuple[str, r.Value]] = [("FLAGS", r.flags(event.flags))]
                        if uid_mode or self.qresync:
                            items.insert(0, ("UID", event.uid))
                        if self.condstore:
                            items.append(("MODSEQ", [event.modseq]))
                        out.append(r.fetch(number, items))
                self.highestmodseq = max(self.highestmodseq, event.modseq)
        self._pending = held
        if len(self.uids) != self._announced:
            # EXISTS after the FETCH lines of older messages; a decrease is told by EXPUNGE alone.
            if len(self.uids) > self._announced:
                out.append(r.untagged(len(self.uids), r.Atom("EXISTS")))
            self._announced = len(self.uids)
        return out
