"""IDLE (RFC 2177): new mail delivered through services.delivery, flag changes and expunges from another session
reach an idling client at once, and DONE ends it."""

from __future__ import annotations

import asyncio

from tests.protocols.imap.conftest import ImapEnv, in_thread, message


async def test_delivery_is_seen_during_idle(imap: ImapEnv) -> None:
    await imap.deliver(message("first"))
    idler = await in_thread(imap.raw)
    idler.send(b"I1 IDLE\r\n")
    assert await in_thread(idler.line) == b"+ idling"
    await imap.deliver(message("second"))
    assert await in_thread(idler.line) == b"* 2 EXISTS"
    other = await in_thread(imap.raw)
    await in_thread(other.command, b"O1", b"STORE 1 +FLAGS (\\Seen \\Deleted)")
    assert await in_thread(idler.line) == b"* 1 FETCH (FLAGS (\\Seen \\Deleted))"
    await in_thread(other.command, b"O2", b"EXPUNGE")
    assert await in_thread(idler.line) == b"* 1 EXPUNGE"
    idler.send(b"DONE\r\n")
    assert await in_thread(idler.line) == b"I1 OK IDLE terminated"
    assert await in_thread(idler.command, b"I2", b"FETCH 1 (UID)") == [b"* 1 FETCH (UID 2)", b"I2 OK fetch completed"]


async def test_idle_ends_with_anything_but_done_as_bad(imap: ImapEnv) -> None:
    idler = await in_thread(imap.raw)
    idler.send(b"I1 IDLE\r\n")
    assert await in_thread(idler.line) == b"+ idling"
    idler.send(b"I2 NOOP\r\n")
    assert (await in_thread(idler.line)).startswith(b"I1 BAD")
    assert await in_thread(idler.command, b"I3", b"NOOP") == [b"I3 OK nothing done"]


async def test_idle_in_authenticated_state_and_other_folders(imap: ImapEnv) -> None:
    idler = await in_thread(imap.raw, True, "Sent")
    idler.send(b"I1 IDLE\r\n")
    assert await in_thread(idler.line) == b"+ idling"
    await imap.deliver(message("to the inbox"))
    await asyncio.sleep(0.2)
    idler.send(b"DONE\r\n")
    # Nothing about the INBOX reaches a session that has Sent selected.
    assert await in_thread(idler.line) == b"I1 OK IDLE terminated"
