"""APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502), UIDPLUS's APPENDUID (RFC 4315 §3), flags, internal date,
literal8 (RFC 3516 §4.4) and UTF8 (RFC 6855 §4).

Invariants: `OK` is sent only after `services.mailbox.append_many` returned, i.e. after the blobs and the rows are
durable; a missing folder is `NO [TRYCREATE]`, a message above `limits.max_message_size` `NO [TOOBIG]` (the framer
already refuses larger literals before reading them). Several messages in one APPEND are filed all or nothing
(RFC 3502 §6.3.11): sizes are checked before anything is written, and if one cannot be filed none stays. The
APPENDUID names every new UID, in the order the messages were given.
"""

from __future__ import annotations

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.replies import TooBig, TryCreate
from yizhan.protocols.imap.sequence import SequenceSet
from yizhan.protocols.imap.session import Done, Session
from yizhan.util.errors import NotFound


async def append(session: Session, command: c.Append) -> Done:
    account = session.require_account()
    limit = session.services.settings.limits.max_message_size
    for message in command.messages:
        if len(message.data) > limit:
            raise TooBig(f"message above the limit of {limit} octets")
    try:
        uidvalidity, uids = await session.services.mailbox.append_many(
            account.id, command.mailbox, [(m.data, m.flags, m.internal_date) for m in command.messages])
    except NotFound:
        raise TryCreate(f"no folder {command.mailbox}") from None
    uid_text = str(SequenceSet.from_numbers(uids)) if len(uids) > 1 else str(uids[0])
    return Done("appended", r.ResponseCode("APPENDUID", uidvalidity, r.Atom(uid_text)))
