"""APPEND (RFC 9051 §6.3.12) with APPENDUID (RFC 4315): durable before OK; another session sees EXISTS."""

from __future__ import annotations

import imaplib

from tests.protocols.imap.conftest import ImapEnv, in_thread, message


async def test_append_with_flags_and_date(imap: ImapEnv) -> None:
    def run() -> None:
        watcher = imap.raw(select="Drafts")
        client = imap.login(select=None)
        date = imaplib.Time2Internaldate(1704103200)
        typ, data = client.append("Drafts", "(\\Draft $Keep)", date, message("draft"))
        assert typ == "OK"
        assert data[0].startswith(b"[APPENDUID ") and data[0].split()[2] == b"1]"
        client.select("Drafts")
        typ, data = client.fetch("1", "(FLAGS INTERNALDATE BODY.PEEK[])")
        assert data[0][0].startswith(b'1 (FLAGS (\\Draft $Keep) INTERNALDATE "01-Jan-2024 10:00:00 +0000"')
        assert data[0][1] == message("draft")
        assert watcher.command(b"W1", b"NOOP") == [b"* 1 EXISTS", b"W1 OK nothing done"]
        client.logout()

    await in_thread(run)


async def test_append_to_missing_folder_says_trycreate(imap: ImapEnv) -> None:
    def run() -> None:
        raw = imap.raw(select=None)
        data = message()
        raw.send(b"A1 APPEND Nowhere {%d}\r\n" % len(data))
        assert raw.line().startswith(b"+ ")
        raw.send(data + b"\r\n")
        assert raw.until(b"A1")[-1].startswith(b"A1 NO [TRYCREATE]")
        # LITERAL+: no continuation needed.
        raw.send(b"A2 APPEND INBOX {%d+}\r\n" % len(data) + data + b"\r\n")
        assert raw.until(b"A2")[-1].startswith(b"A2 OK [APPENDUID ")

    await in_thread(run)


async def test_too_big_literal_refused_without_reading_it(imap: ImapEnv) -> None:
    limit = imap.services.settings.limits.max_message_size

    def run() -> None:
        raw = imap.raw(select=None)
        raw.send(b"A1 APPEND INBOX {%d}\r\n" % (limit + 1))
        assert raw.line().startswith(b"A1 NO [TOOBIG]")
        assert raw.command(b"A2", b"NOOP") == [b"A2 OK nothing done"]

    await in_thread(run)
