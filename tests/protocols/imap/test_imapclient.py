"""imapclient (Python, a real client library) against the server: over imaps and STARTTLS, capabilities, folders,
select, fetch (envelope, body, flags), flags, append with APPENDUID, copy and move, expunge, and IDLE seeing a
delivery. No SEARCH (tested on its own in the SEARCH tests)."""

from __future__ import annotations

import imapclient

from tests.protocols.imap.conftest import ADDRESS, PASSWORD, ImapEnv, in_thread, message


def connect_imaps(imap: ImapEnv) -> imapclient.IMAPClient:
    client = imapclient.IMAPClient("127.0.0.1", port=imap.tls_port, ssl=True, ssl_context=imap.context(), timeout=30)
    client.login(ADDRESS, PASSWORD)
    return client


async def test_folders_fetch_flags_append_copy_move_expunge(imap: ImapEnv) -> None:
    first, second = message("第一封", "body one"), message("second", "body two")
    await imap.deliver(first)
    await imap.deliver(second)

    def run() -> None:
        client = connect_imaps(imap)
        caps = client.capabilities()
        assert b"IMAP4REV1" in caps and b"IDLE" in caps and b"COMPRESS=DEFLATE" in caps
        names = {name for _flags, _delimiter, name in client.list_folders()}
        assert "INBOX" in names
        client.create_folder("Archive/2024")
        assert "Archive/2024" in {name for _f, _d, name in client.list_folders("", "Archive*")}
        selected = client.select_folder("INBOX")
        assert selected[b"EXISTS"] == 2 and selected[b"UIDVALIDITY"] > 0
        fetched = client.fetch([1, 2], ["UID", "FLAGS", "ENVELOPE", "BODY.PEEK[]", "RFC822.SIZE"])
        assert sorted(fetched) == [1, 2]
        assert fetched[1][b"BODY[]"] == first and fetched[2][b"RFC822.SIZE"] == len(second)
        assert fetched[1][b"ENVELOPE"].subject.decode() == "第一封"
        assert fetched[2][b"ENVELOPE"].from_[0].mailbox == b"bob"
        assert fetched[1][b"FLAGS"] == ()
        client.add_flags([1], [imapclient.SEEN, b"$Label1"])
        assert set(client.get_flags([1])[1]) == {imapclient.SEEN, b"$Label1"}
        client.remove_flags([1], [b"$Label1"])
        assert client.get_flags([1])[1] == (imapclient.SEEN,)
        appended = client.append("INBOX", message("appended", "new body"), flags=[imapclient.FLAGGED])
        assert b"APPENDUID" in appended
        assert client.folder_status("INBOX", ["MESSAGES", "UIDNEXT"]) == {b"MESSAGES": 3, b"UIDNEXT": 4}
        client.copy([1], "Archive/2024")
        client.move([2], "Archive/2024")
        client.delete_messages([3])
        client.expunge()
        assert client.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"] == 1
        client.select_folder("Archive/2024", readonly=True)
        archived = client.fetch([1, 2], ["BODY.PEEK[]"])
        assert sorted(body[b"BODY[]"] for body in archived.values()) == sorted([first, second])
        client.logout()

    await in_thread(run)


async def test_starttls_and_idle_sees_a_delivery(imap: ImapEnv) -> None:
    def start() -> imapclient.IMAPClient:
        client = imapclient.IMAPClient("127.0.0.1", port=imap.port, ssl=False, timeout=30)
        client.starttls(imap.context())
        client.login(ADDRESS, PASSWORD)
        client.select_folder("INBOX")
        client.idle()
        return client

    client = await in_thread(start)
    await imap.deliver(message("while idle"))
    responses = await in_thread(client.idle_check, 10)
    assert (1, b"EXISTS") in responses
    await in_thread(client.idle_done)
    fetched = await in_thread(client.fetch, [1], ["ENVELOPE"])
    assert fetched[1][b"ENVELOPE"].subject == b"while idle"
    await in_thread(client.logout)
