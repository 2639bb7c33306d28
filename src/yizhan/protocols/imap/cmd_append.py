"""APPEND (RFC 9051 §6.3.12) with UIDPLUS's APPENDUID (RFC 4315 §3), flags, internal date and UTF8 (RFC 6855 §4).

Invariants: `OK` is sent only after `services.mailbox.append` returned, i.e. after the blob and the rows are durable;
a missing folder is `NO [TRYCREATE]`, a message above `limits.max_message_size` `NO [TOOBIG]` (the framer already
refuses larger literals before reading them). Several messages (RFC 3502 syntax) are filed one after the other; if
one fails, those before it stay filed (MULTIAPPEND's all-or-nothing is not offered, nor advertised).
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
    mailbox = session.services.mailbox
    limit = session.services.settings.limits.max_message_size
    uidvalidity = 0
    uids: list[int] = []
    for message in command.messages:
        if len(message.data) > limit:
            raise TooBig(f"message above the limit of {limit} octets")
        try:
            appended = await mailbox.append(account.id, command.mailbox, message.data, message.flags,
                                            message.internal_date)
        except NotFound:
            raise TryCreate(f"no folder {command.mailbox}") from None
        uidvalidity = appended.uidvalidity
        uids.append(appended.uid)
    uid_text = str(SequenceSet.from_numbers(uids)) if len(uids) > 1 else str(uids[0])
    return Done("appended", r.ResponseCode("APPENDUID", uidvalidity, r.Atom(uid_text)))
