"""Reply formatting: dot-stuffing, line ends, TOP's cut, and the error mapping to response codes (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yizhan.protocols.pop3.commands import CommandError
from yizhan.protocols.pop3.replies import err, error_reply, message_reply, multiline, ok, stuffed
from yizhan.services.maildrop import MaildropInUse, top_lines, wire_bytes
from yizhan.util.errors import AuthenticationFailed, InvalidInput, LockedOut, NotFound, TemporaryFailure


def unstuff(reply: bytes) -> bytes:
    """What a client reconstructs from a multi-line reply (RFC 1939 §3), status line dropped."""
    _, _, rest = reply.partition(b"\r\n")
    assert rest.endswith(b"\r\n.\r\n") or rest == b".\r\n"
    lines = rest[: -len(b".\r\n")].split(b"\r\n")[:-1]
    return b"".join((line[1:] if line.startswith(b".") else line) + b"\r\n" for line in lines)


def test_status_lines() -> None:
    assert ok() == b"+OK\r\n"
    assert ok("2 320") == b"+OK 2 320\r\n"
    assert err("no such message") == b"-ERR no such message\r\n"
    assert err("bad\r\nsmuggled", "AUTH") == b"-ERR [AUTH] bad  smuggled\r\n"


def test_dot_stuffing_of_a_message() -> None:
    reply = stuffed(b"+OK\r\n", b".starts\r\nmiddle\r\n..two\r\n.\r\nend")
    assert reply == b"+OK\r\n..starts\r\nmiddle\r\n...two\r\n..\r\nend\r\n.\r\n"


def test_bare_lf_sent_as_crlf_other_bytes_kept() -> None:
    raw = b"Subject: x\n\nline\r\n.dot\nbin\x00\xff\r"
    assert wire_bytes(raw) == b"Subject: x\r\n\r\nline\r\n.dot\r\nbin\x00\xff\r"
    crlf = b"Subject: x\r\n\r\nbody\r\n"
    assert wire_bytes(crlf) is crlf


@given(st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")), max_size=20))
def test_stuffing_round_trips(lines: list[bytes]) -> None:
    message = b"".join(line + b"\r\n" for line in lines)
    assert unstuff(message_reply(b"+OK\r\n", message)) == message


def test_listing_lines_are_stuffed() -> None:
    assert multiline(b"+OK\r\n", ["1 20", ".x"]) == b"+OK\r\n1 20\r\n..x\r\n.\r\n"


def test_top_lines() -> None:
    message = b"A: 1\r\nB: 2\r\n\r\none\r\ntwo\r\nthree\r\n"
    assert top_lines(message, 0) == b"A: 1\r\nB: 2\r\n\r\n"
    assert top_lines(message, 2) == b"A: 1\r\nB: 2\r\n\r\none\r\ntwo\r\n"
    assert top_lines(message, 99) == message
    assert top_lines(b"A: 1\r\n", 3) == b"A: 1\r\n"
    assert top_lines(b"\r\nbody\r\n", 0) == b"\r\n"


@pytest.mark.parametrize(("error", "expected"), [
    (AuthenticationFailed("wrong"), b"-ERR [AUTH] wrong\r\n"),
    (LockedOut("wait", 30), b"-ERR [SYS/TEMP] wait\r\n"),
    (MaildropInUse("busy"), b"-ERR [IN-USE] busy\r\n"),
    (TemporaryFailure("later"), b"-ERR [SYS/TEMP] later\r\n"),
    (NotFound("no message 3"), b"-ERR no message 3\r\n"),
    (InvalidInput("bad"), b"-ERR bad\r\n"),
    (CommandError("unknown command"), b"-ERR unknown command\r\n"),
    (RuntimeError("secret internals"), b"-ERR [SYS/TEMP] internal error, try again later\r\n"),
])
def test_error_mapping(error: BaseException, expected: bytes) -> None:
    assert error_reply(error) == expected
