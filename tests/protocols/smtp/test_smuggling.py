"""SMTP smuggling: a bare LF or bare CR around a dot never ends the data; a smuggled second message is never created,
and the bare line ends are stored as CRLF (Postfix's smtpd_forbid_bare_newline = normalize)."""

from __future__ import annotations

import socket

import pytest

from tests.protocols.smtp.conftest import SmtpEnv


def read_reply(sock: socket.socket, buffer: bytearray) -> bytes:
    """One complete (possibly multi-line) reply."""
    lines = []
    while True:
        while b"\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buffer.extend(chunk)
        line, _, rest = bytes(buffer).partition(b"\r\n")
        buffer[:] = rest
        lines.append(line)
        if len(line) < 4 or line[3:4] == b" ":
            return b"\r\n".join(lines)


def session(env: SmtpEnv, payload: bytes) -> list[bytes]:
    """Run one transaction whose DATA is `payload` (ending with the real CRLF.CRLF); returns every reply seen."""
    with env.raw_socket() as sock:
        buffer = bytearray()
        replies = [read_reply(sock, buffer)]
        for command in (b"EHLO attacker.test", b"MAIL FROM:<attacker@sender.test>", b"RCPT TO:<alice@example.com>",
                        b"DATA"):
            sock.sendall(command + b"\r\n")
            replies.append(read_reply(sock, buffer))
        sock.sendall(payload)
        replies.append(read_reply(sock, buffer))
        sock.sendall(b"QUIT\r\n")
        replies.append(read_reply(sock, buffer))
        sock.settimeout(5)
        rest = sock.recv(65536)  # the server closes after QUIT: nothing else may come
        replies.extend(line for line in rest.split(b"\r\n") if line)
    return replies


SMUGGLED = (b"MAIL FROM:<ceo@example.com>{e}RCPT TO:<bob@example.com>{e}DATA{e}"
            b"From: ceo@example.com{e}Subject: smuggled{e}{e}pay now{e}")


@pytest.mark.parametrize("end", [b"\n.\n", b"\r.\r", b"\r\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\r"])
async def test_bare_line_ends_never_end_the_data(env: SmtpEnv, end: bytes) -> None:
    eol = end[-1:]
    payload = (b"From: attacker@sender.test\r\nSubject: first\r\n\r\nhello" + end
               + SMUGGLED.replace(b"{e}", eol) + b"\r\n.\r\n")
    replies = await env.run(session, env, payload)
    codes = [reply[:3] for reply in replies]
    # Greeting, EHLO, MAIL, RCPT, 354, ONE 250 for the data, 221: no reply to a smuggled command.
    assert codes == [b"220", b"250", b"250", b"250", b"354", b"250", b"221"], replies
    [raw] = await env.inbox("alice@example.com")
    assert await env.inbox("bob@example.com") == []
    assert b"pay now" in raw  # the smuggled text is only content of the first message
    body = raw.split(b"\r\n\r\n", 1)[1]
    # Line ends are CRLF only, nothing bare left.
    assert b"\n" not in body.replace(b"\r\n", b"") and b"\r" not in body.replace(b"\r\n", b"")


async def test_dot_stuffing_is_undone_and_a_lone_dot_line_ends_the_data(env: SmtpEnv) -> None:
    payload = b"Subject: dots\r\n\r\n..leading dot\r\n.\r\n"
    replies = await env.run(session, env, payload)
    assert replies[5].startswith(b"250 2.0.0")
    [raw] = await env.inbox("alice@example.com")
    assert raw.endswith(b"\r\n\r\n.leading dot\r\n")
