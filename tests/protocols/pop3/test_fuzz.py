"""Random bytes as commands over a real TLS connection, before and after login: each line gets exactly one -ERR,
the session and the server go on serving, nothing is deleted."""

from __future__ import annotations

import random

import pytest

from tests.mailfactory import make_message
from tests.protocols.pop3.conftest import ADDRESS, PASSWORD, Pop3Env, in_thread, pop3_settings
from tests.protocols.pop3.rawclient import RawClient

KEYWORDS = {b"USER", b"PASS", b"AUTH", b"STAT", b"LIST", b"UIDL", b"RETR", b"TOP", b"DELE", b"NOOP", b"RSET",
            b"QUIT", b"CAPA", b"STLS"}


@pytest.fixture
def pop3_overrides() -> dict[str, object]:
    return pop3_settings(max_bad_commands=1000)


def garbage(rng: random.Random) -> bytes:
    while True:
        line = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400))).replace(b"\r", b"").replace(b"\n", b"")
        if line.split(b" ", 1)[0].upper() not in KEYWORDS:
            return line


async def test_random_lines_each_get_one_err(pop3: Pop3Env) -> None:
    await pop3.deliver(make_message())
    rng = random.Random(1939)

    def client() -> None:
        raw = RawClient(pop3.tls_port)
        raw.sock = pop3.context().wrap_socket(raw.sock, server_hostname="127.0.0.1")
        assert raw.line().startswith(b"+OK")
        for phase in ("authorization", "transaction"):
            lines = [garbage(rng) for _ in range(150)]
            raw.send(b"".join(line + b"\r\n" for line in lines))  # pipelined, as an attacker would
            for line in lines:
                assert raw.line().startswith(b"-ERR "), (phase, line)
            if phase == "authorization":
                assert raw.command(b"USER " + ADDRESS.encode()).startswith(b"+OK")
                assert raw.command(b"PASS " + PASSWORD.encode()).startswith(b"+OK")
        assert raw.command(b"STAT").startswith(b"+OK 1 ")
        assert raw.command(b"QUIT").startswith(b"+OK")

    await in_thread(client)
    assert len(await pop3.inbox_uids()) == 1
