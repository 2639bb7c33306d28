"""POP3 over real sockets (poplib and a raw line client) against the running server: every command, TLS, login,
deletion only at QUIT, snapshots, and unique-ids."""

from __future__ import annotations

import asyncio
import base64
import poplib

import pytest

from tests.mailfactory import make_message
from tests.protocols.pop3.conftest import ADDRESS, PASSWORD, Pop3Env, in_thread
from tests.protocols.pop3.rawclient import RawClient


def refused(call: object, *args: object) -> bytes:
    """The -ERR line a poplib call got."""
    assert callable(call)
    with pytest.raises(poplib.error_proto) as info:
        call(*args)
    reply = info.value.args[0]
    assert isinstance(reply, bytes) and reply.startswith(b"-ERR")
    return reply


def message_bytes(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\r\n" for line in lines)


async def test_before_tls_no_credentials_are_taken(pop3: Pop3Env) -> None:
    def client() -> None:
        raw = RawClient(pop3.port)
        assert raw.line().startswith(b"+OK ")
        assert raw.command(b"CAPA").startswith(b"+OK")
        capabilities = raw.multiline()
        assert b"STLS" in capabilities and b"USER" not in capabilities and b"SASL PLAIN" not in capabilities
        assert raw.command(b"USER " + ADDRESS.encode()).startswith(b"-ERR [AUTH] ")
        assert raw.command(b"PASS " + PASSWORD.encode()).startswith(b"-ERR [AUTH] ")
        assert raw.command(b"AUTH PLAIN " + base64.b64encode(f"\0{ADDRESS}\0{PASSWORD}".encode())).startswith(
            b"-ERR [AUTH] ")
        assert raw.command(b"STAT").startswith(b"-ERR ")
        assert raw.command(b"QUIT").startswith(b"+OK")
        raw.close()

    await in_thread(client)


async def test_stls_then_login(pop3: Pop3Env) -> None:
    await pop3.deliver(make_message(subject="over STLS"))

    def client() -> None:
        for _ in range(5):  # Several times: the handshake must never race with the "+OK" reply.
            session = pop3.stls()
            capabilities = session.capa()
            assert "STLS" not in capabilities
            for name in ("TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION"):
                assert name in capabilities
            assert capabilities["SASL"] == ["PLAIN"]
            session.user(ADDRESS)
            assert session.pass_(PASSWORD).startswith(b"+OK")
            assert session.stat()[0] == 1
            assert refused(session._shortcmd, "STLS")
            session.quit()

    await in_thread(client)


async def test_implicit_tls_stat_list_retr_byte_exact(pop3: Pop3Env) -> None:
    messages = [make_message(subject=f"n{i}", body=f"body {i}\n.dot line\n..two dots\n.\nend") for i in range(3)]
    for raw in messages:
        await pop3.deliver(raw)

    def client() -> None:
        session = pop3.login()
        assert session.stat() == (3, sum(len(m) for m in messages))
        response, listing, _ = session.list()
        assert response.startswith(b"+OK 3 messages")
        assert listing == [f"{i + 1} {len(m)}".encode() for i, m in enumerate(messages)]
        assert session.list(2) == f"+OK 2 {len(messages[1])}".encode()
        assert refused(session.list, 4).startswith(b"-ERR ")
        for number, raw in enumerate(messages, 1):
            response, lines, _ = session.retr(number)
            assert response == f"+OK {len(raw)} octets".encode()
            assert message_bytes(lines) == raw
        assert refused(session.retr, 9)
        assert session.noop().startswith(b"+OK")
        session.quit()

    await in_thread(client)


async def test_retr_on_the_wire_is_dot_stuffed_and_bare_lf_becomes_crlf(pop3: Pop3Env) -> None:
    stored = b"From: a@example.org\nSubject: lf\n\n.leading dot\nplain\n..double\n"
    await pop3.deliver(stored)

    def client() -> None:
        raw = RawClient(pop3.tls_port)
        raw.sock = pop3.context().wrap_socket(raw.sock, server_hostname="127.0.0.1")
        assert raw.line().startswith(b"+OK")
        assert raw.command(b"USER " + ADDRESS.encode()).startswith(b"+OK")
        assert raw.command(b"PASS " + PASSWORD.encode()).startswith(b"+OK")
        raw.send(b"RETR 1\r\n")
        assert raw.line() == f"+OK {len(stored)} octets".encode()
        wire = b""
        while not wire.endswith(b"\r\n.\r\n"):
            wire += raw.line() + b"\r\n"
        assert wire == (b"From: a@example.org\r\nSubject: lf\r\n\r\n..leading dot\r\nplain\r\n...double\r\n"
                        b".\r\n")
        raw.command(b"QUIT")
        raw.close()

    await in_thread(client)


async def test_top_gives_header_and_n_lines_dot_stuffed(pop3: Pop3Env) -> None:
    raw = make_message(subject="top", body=".one\ntwo\n.three\nfour")
    await pop3.deliver(raw)
    header = raw.partition(b"\r\n\r\n")[0]

    def client() -> None:
        session = pop3.login()
        response, lines, _ = session.top(1, 0)
        assert response.startswith(b"+OK")
        assert message_bytes(lines) == header + b"\r\n\r\n"
        _, lines, _ = session.top(1, 3)
        assert message_bytes(lines) == header + b"\r\n\r\n.one\r\ntwo\r\n.three\r\n"
        _, lines, _ = session.top(1, 1000)
        assert message_bytes(lines) == raw
        assert refused(session.top, 2, 1)
        session.quit()

    await in_thread(client)


async def test_uidl_unique_and_stable_across_sessions(pop3: Pop3Env) -> None:
    for i in range(3):
        await pop3.deliver(make_message(subject=f"u{i}"))

    def listing() -> list[bytes]:
        session = pop3.login()
        _, lines, _ = session.uidl()
        assert session.uidl(2) == b"+OK " + lines[1]
        session.quit()
        return lines

    first = await in_thread(listing)
    ids = [line.split()[1] for line in first]
    assert len(set(ids)) == 3 and all(0 < len(i) <= 70 and i.isascii() for i in ids)
    assert await in_thread(listing) == first

    def delete_first() -> None:
        session = pop3.login()
        session.dele(1)
        session.quit()

    await in_thread(delete_first)
    await pop3.deliver(make_message(subject="new"))
    after = [line.split()[1] for line in await in_thread(listing)]
    assert after[:2] == ids[1:]
    assert after[2] not in ids  # A unique-id is never given to another message.


async def test_dele_and_quit_removes_the_messages(pop3: Pop3Env) -> None:
    for i in range(3):
        await pop3.deliver(make_message(subject=f"d{i}"))
    uids = await pop3.inbox_uids()

    def client() -> None:
        session = pop3.login()
        size_of_2 = int(session.list(2).split()[2])
        total = session.stat()[1]
        assert session.dele(2).startswith(b"+OK")
        assert session.stat() == (2, total - size_of_2)
        assert refused(session.retr, 2)
        assert refused(session.list, 2)
        assert refused(session.dele, 2)
        assert [line.split()[0] for line in session.list()[1]] == [b"1", b"3"]
        assert session.quit().startswith(b"+OK")

    await in_thread(client)
    assert await pop3.inbox_uids() == [uids[0], uids[2]]


async def test_dropped_connection_deletes_nothing(pop3: Pop3Env) -> None:
    for i in range(2):
        await pop3.deliver(make_message(subject=f"k{i}"))
    uids = await pop3.inbox_uids()

    def drop() -> None:
        session = pop3.login()
        session.dele(1)
        session.dele(2)
        session.sock.close()  # No QUIT: the session never enters the UPDATE state.

    await in_thread(drop)

    def relogin() -> int:
        # The server notices the closed connection and releases the maildrop; until then, [IN-USE].
        for _ in range(100):
            session = pop3.implicit()
            session.user(ADDRESS)
            try:
                session.pass_(PASSWORD)
            except poplib.error_proto as exc:
                assert b"[IN-USE]" in exc.args[0]
                session.quit()
                continue
            count = session.stat()[0]
            session.quit()
            return count
        raise AssertionError("maildrop never released")

    assert await in_thread(relogin) == 2
    assert await pop3.inbox_uids() == uids


async def test_rset_unmarks(pop3: Pop3Env) -> None:
    for i in range(2):
        await pop3.deliver(make_message(subject=f"r{i}"))

    def client() -> None:
        session = pop3.login()
        session.dele(1)
        session.dele(2)
        assert session.stat()[0] == 0
        assert session.rset().startswith(b"+OK maildrop has 2 messages")
        assert session.stat()[0] == 2
        session.quit()

    await in_thread(client)
    assert len(await pop3.inbox_uids()) == 2


async def test_mail_arriving_during_a_session_waits_for_the_next(pop3: Pop3Env) -> None:
    await pop3.deliver(make_message(subject="before"))
    loop = asyncio.get_running_loop()

    def client() -> None:
        session = pop3.login()
        assert session.stat()[0] == 1
        asyncio.run_coroutine_threadsafe(pop3.deliver(make_message(subject="during")), loop).result(30)
        assert session.stat()[0] == 1
        assert len(session.uidl()[1]) == 1
        session.quit()
        session = pop3.login()
        assert session.stat()[0] == 2
        session.quit()

    await in_thread(client)


async def test_message_expunged_elsewhere_is_an_error_not_a_crash(pop3: Pop3Env) -> None:
    await pop3.deliver(make_message(subject="gone soon", body="unique body 8f3a"))
    await pop3.deliver(make_message(subject="stays"))
    services = pop3.server.services
    assert services is not None
    loop = asyncio.get_running_loop()

    async def expunge_first() -> None:
        account = await services.store.directory.get_account(ADDRESS)
        assert account is not None
        inbox = (await services.store.folders.by_special_use([account.id], "inbox"))[account.id]
        uid = (await services.store.messages.uids(inbox.id))[0]
        await services.store.messages.store_flags(inbox.id, [uid], add=["\\Deleted"])
        _, freed = await services.store.messages.expunge(inbox.id, [uid])
        for name in freed:
            services.store.blobs.remove(name)

    def client() -> None:
        session = pop3.login()
        asyncio.run_coroutine_threadsafe(expunge_first(), loop).result(30)
        assert b"removed" in refused(session.retr, 1)
        assert session.retr(2)[0].startswith(b"+OK")
        session.dele(1)
        assert session.quit().startswith(b"+OK")

    await in_thread(client)
    assert len(await pop3.inbox_uids()) == 1


async def test_quit_before_login(pop3: Pop3Env) -> None:
    def client() -> None:
        session = pop3.implicit()
        assert session.quit().startswith(b"+OK")

    await in_thread(client)


async def test_quit_flags_retrieved_messages_seen_and_a_dropped_session_flags_nothing(pop3: Pop3Env) -> None:
    for i in range(3):
        await pop3.deliver(make_message(subject=f"s{i}"))
    services = pop3.server.services
    assert services is not None

    async def flags() -> list[tuple[str, ...]]:
        uids = await pop3.inbox_uids()
        account = await services.store.directory.get_account(ADDRESS)
        assert account is not None
        inbox = (await services.store.folders.by_special_use([account.id], "inbox"))[account.id]
        return [(await services.store.messages.get(inbox.id, uid)).flags for uid in uids]

    def dropped() -> None:
        session = pop3.login()
        session.retr(1)
        session.sock.close()
        del session

    await in_thread(dropped)
    assert await flags() == [(), (), ()]

    def client() -> None:
        for _ in range(100):  # Until the server has released the maildrop of the dropped session.
            session = pop3.implicit()
            session.user(ADDRESS)
            try:
                session.pass_(PASSWORD)
            except poplib.error_proto:
                session.quit()
                continue
            session.retr(1)
            session.top(2, 0)
            session.retr(3)
            session.dele(3)
            session.quit()
            return
        raise AssertionError("maildrop never released")

    await in_thread(client)
    assert await flags() == [("\\Seen",), ()]
