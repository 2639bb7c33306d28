"""PIPELINING (RFC 2920): a group of commands sent at once gets every reply, in order, written as one unit (§3.2:
the server SHOULD send the replies to grouped commands together), and the commands that end a group (DATA,
STARTTLS, QUIT) are answered at once, with the replies held before them. Raw sockets against a real server."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable

import pytest

from tests.protocols.smtp.conftest import SmtpEnv, client_context, letter
from tests.protocols.smtp.test_smuggling import read_reply

SENDER = "someone@sender.test"


def codes(replies: bytes) -> list[bytes]:
    """The code of each final reply line in `replies` (continuation lines, "250-...", skipped)."""
    return [line[:3] for line in replies.split(b"\r\n") if line and line[3:4] != b"-"]


def greeted(env: SmtpEnv) -> tuple[socket.socket, bytearray]:
    sock = env.raw_socket()
    buffer = bytearray()
    read_reply(sock, buffer)
    sock.sendall(b"EHLO client.example.net\r\n")
    assert b"PIPELINING" in read_reply(sock, buffer)
    return sock, buffer


def grouped_transaction(env: SmtpEnv) -> None:
    sock, buffer = greeted(env)
    with sock:
        sock.sendall(b"MAIL FROM:<someone@sender.test>\r\nRCPT TO:<alice@example.com>\r\n"
                     b"RCPT TO:<nobody@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n")
        # Each RCPT is looked up before it is answered: replies written one by one would arrive apart, the first
        # alone. Written as a unit, the first read holds all five.
        first = bytes(buffer) + sock.recv(65536)
        assert codes(first) == [b"250", b"250", b"550", b"250", b"354"], first
        # The data, the final dot and QUIT in one go: 250 for the message, then 221.
        sock.sendall(letter(SENDER, "alice@example.com", "grouped") + b".\r\nQUIT\r\n")
        buffer.clear()
        assert read_reply(sock, buffer)[:3] == b"250"
        assert read_reply(sock, buffer)[:3] == b"221"
        assert sock.recv(100) == b""


async def test_a_group_is_answered_in_order_and_in_one_write_and_delivered(env: SmtpEnv) -> None:
    await env.run(grouped_transaction, env)
    assert len(await env.inbox("alice@example.com")) == 1
    assert len(await env.inbox("bob@example.com")) == 1


def replies_held_before_starttls_go_out_with_its_220(env: SmtpEnv) -> None:
    # A held 250 must not wait behind STARTTLS: the client waits for 220 before its TLS handshake.
    sock, buffer = greeted(env)
    with sock:
        sock.sendall(b"NOOP\r\nSTARTTLS\r\n")
        assert read_reply(sock, buffer)[:3] == b"250"
        assert read_reply(sock, buffer)[:3] == b"220"
        assert not buffer
        with client_context().wrap_socket(sock, server_hostname="mx.example.com") as tls:
            assert isinstance(tls, ssl.SSLSocket)
            tls.sendall(b"EHLO client.example.net\r\n")
            tls_buffer = bytearray()
            assert b"250" in read_reply(tls, tls_buffer)[:3]
            tls.sendall(b"QUIT\r\n")
            assert read_reply(tls, tls_buffer)[:3] == b"221"


def a_group_ending_in_quit_gets_every_reply_before_the_close(env: SmtpEnv) -> None:
    sock, buffer = greeted(env)
    with sock:
        sock.sendall(b"RSET\r\nNOOP\r\nMAIL FROM:<someone@sender.test>\r\nRCPT TO:<victim@foreign.test>\r\nQUIT\r\n")
        replies = [read_reply(sock, buffer)[:3] for _ in range(5)]
        assert replies == [b"250", b"250", b"250", b"554", b"221"]
        assert sock.recv(100) == b""


def a_long_group_of_errors_is_answered_in_full(env: SmtpEnv) -> None:
    # Refusals are held too, up to a bound; every one still arrives, in order.
    sock, buffer = greeted(env)
    with sock:
        sock.sendall(b"MAIL FROM:<someone@sender.test>\r\n" + b"RCPT TO:<nobody@example.com>\r\n" * 40
                     + b"RCPT TO:<alice@example.com>\r\nRSET\r\n")
        replies = [read_reply(sock, buffer)[:3] for _ in range(43)]
        assert replies == [b"250"] + [b"550"] * 40 + [b"250", b"250"]


@pytest.mark.parametrize("scenario", [replies_held_before_starttls_go_out_with_its_220,
                                      a_group_ending_in_quit_gets_every_reply_before_the_close,
                                      a_long_group_of_errors_is_answered_in_full], ids=lambda f: f.__name__)
async def test_pipelined_groups(env: SmtpEnv, scenario: Callable[[SmtpEnv], None]) -> None:
    # Each scenario drives a blocking socket: on a thread, while the server runs on the test's loop.
    await env.run(scenario, env)
