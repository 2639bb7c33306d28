"""Commands valid in any state or needing nothing but a login: CAPABILITY, NOOP, LOGOUT, ID (RFC 2971), ENABLE
(RFC 5161) and NAMESPACE (RFC 2342). Each takes the session and its parsed command and returns `Done`."""

from __future__ import annotations

from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap import response as r
from yizhan.protocols.imap.session import SERVER_NAME, Done, Outcome, Session


async def capability(session: Session, command: c.Capability) -> Done:
    await session.send(r.untagged(*(r.Atom(name) for name in ["CAPABILITY", *session.capabilities()])))
    return Done("capabilities listed")


async def noop(session: Session, command: c.Noop) -> Done:
    return Done("nothing done")


async def logout(session: Session, command: c.Logout) -> Done:
    await session.send(r.untagged_status("BYE", "logging out"))
    session.close()
    return Done("logged out", outcome=Outcome(close=True))


async def id_(session: Session, command: c.Id) -> Done:
    # RFC 2971 §3.1: the server's own fields.
    await session.send(r.untagged(r.Atom("ID"), ["name", SERVER_NAME, "vendor", SERVER_NAME]))
    return Done("ID completed")


async def enable(session: Session, command: c.Enable) -> Done:
    enabled = []
    for name in command.capabilities:
        if name in ("UTF8=ACCEPT", "IMAP4REV2"):
            session.utf8 = True
            if name == "IMAP4REV2":
                session.rev2 = True
            enabled.append("IMAP4rev2" if name == "IMAP4REV2" else name)
        elif name in ("CONDSTORE", "QRESYNC"):
            # RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
            session.enable_condstore()
            if name == "QRESYNC":
                session.qresync = True
                if session.selected is not None:
                    session.selected.qresync = True
            enabled.append(name)
    # RFC 5161 §3.2: capabilities we do not know or do not enable are ignored.
    await session.send(r.untagged(*(r.Atom(name) for name in ["ENABLED", *enabled])))
    return Done("enabled")


async def namespace(session: Session, command: c.Namespace) -> Done:
    # RFC 2342: one personal namespace, "" with the "/" delimiter; no shared or other users' namespaces.
    await session.send(r.untagged(r.Atom("NAMESPACE"), [["", "/"]], None, None))
    return Done("namespace listed")
