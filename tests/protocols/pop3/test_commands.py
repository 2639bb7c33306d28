"""The pure POP3 command parser: each command, bad input answered by CommandError only (fuzzed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yizhan.protocols.pop3 import commands as c
from yizhan.protocols.pop3.commands import CommandError, parse_command


@pytest.mark.parametrize(("line", "expected"), [
    (b"USER alice@example.com", c.User("alice@example.com")),
    (b"user alice", c.User("alice")),
    (b"PASS secret with spaces ", c.Pass("secret with spaces ")),
    (b"STAT", c.Stat()),
    (b"LIST", c.List(None)),
    (b"LIST 3", c.List(3)),
    (b"list  7", c.List(7)),
    (b"UIDL", c.Uidl(None)),
    (b"UIDL 12", c.Uidl(12)),
    (b"RETR 1", c.Retr(1)),
    (b"DELE 2", c.Dele(2)),
    (b"TOP 1 0", c.Top(1, 0)),
    (b"TOP 4 25", c.Top(4, 25)),
    (b"NOOP", c.Noop()),
    (b"RSET", c.Rset()),
    (b"QUIT", c.Quit()),
    (b"CAPA", c.Capa()),
    (b"STLS", c.Stls()),
    (b"AUTH", c.Auth(None, None)),
    (b"AUTH plain", c.Auth("PLAIN", None)),
    (b"AUTH PLAIN AGFsaWNlAHB3", c.Auth("PLAIN", "AGFsaWNlAHB3")),
    (b"AUTH PLAIN =", c.Auth("PLAIN", "=")),
])
def test_parses(line: bytes, expected: c.Command) -> None:
    assert parse_command(line) == expected


@pytest.mark.parametrize("line", [
    b"", b"FROB", b"RETR", b"RETR 0", b"RETR -1", b"RETR x", b"RETR 1 2", b"RETR 12345678901", b"TOP 1",
    b"TOP 1 -1", b"STAT 1", b"QUIT now", b"LIST 1 2", b"USER", b"USER a b", b"USER " + b"a" * 41, b"PASS",
    b"RETR \xd9\xa3", b"NOOP\x00", b"\xff\xfe", b"AUTH PLAIN a b", b"APOP alice 0123",
])
def test_refuses(line: bytes) -> None:
    with pytest.raises(CommandError):
        parse_command(line)


@given(st.binary(max_size=300))
def test_any_bytes_give_a_command_or_command_error(line: bytes) -> None:
    try:
        parse_command(line)
    except CommandError as exc:
        assert str(exc)


@given(st.text(alphabet=st.sampled_from("RETOPLISDUAHQNC 0123456789-\t.x"), max_size=40))
def test_command_like_text_gives_a_command_or_command_error(text: str) -> None:
    try:
        parse_command(text.encode())
    except CommandError:
        pass
