"""A real POP3 client: getmail6 (Debian package getmail6, installed by .ci/run) downloading over implicit TLS with
UIDL — once leaving mail on the server (a second run downloads nothing new), once deleting it. If getmail is
missing this fails, it does not skip.

getmail hands what it downloads to an LMTP sink (aiosmtpd's LMTP) in this test: its Maildir and mbox destinations
fork a child and install their SIGCHLD handler only after the fork, so on a busy machine a quick child's exit can
be missed and getmail waits for minutes (getmail6 6.18, baseclasses.ForkingBase). The LMTP destination does not fork.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.lmtp import LMTP

from tests.mailfactory import make_message
from tests.protocols.pop3.conftest import ADDRESS, PASSWORD, Pop3Env, in_thread


class Sink:
    """Keeps every message delivered to it."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content or envelope.content)
        return "250 2.0.0 kept"


@pytest.fixture
async def sink() -> AsyncIterator[tuple[Sink, int]]:
    handler = Sink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: LMTP(handler, hostname="sink.test"), "127.0.0.1", 0)
    try:
        yield handler, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def run_getmail(pop3: Pop3Env, work: Path, sink_port: int, delete: bool) -> str:
    rc = work / "getmailrc"
    rc.write_text(f"""[retriever]
type = SimplePOP3SSLRetriever
server = 127.0.0.1
port = {pop3.tls_port}
username = {ADDRESS}
password = {PASSWORD}
ca_certs = {pop3.data_dir / "tls" / "cert.pem"}
timeout = 60

[destination]
type = MDA_lmtp
host = 127.0.0.1
port = {sink_port}
override = {ADDRESS}

[options]
verbose = 2
read_all = false
delete = {"true" if delete else "false"}
delivered_to = false
received = false
""")
    done = subprocess.run(["getmail", "--getmaildir", str(work), "--rcfile", str(rc)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def same_messages(got: list[bytes], sent: list[bytes]) -> bool:
    """The same bytes, in any order (getmail passes on what it retrieved, with no header added here)."""
    return sorted(got) == sorted(sent)


async def test_getmail_leaves_mail_and_fetches_only_new_mail(pop3: Pop3Env, sink: tuple[Sink, int],
                                                             tmp_path: Path) -> None:
    received, port = sink
    first = [make_message(subject=f"leave {i}", body=f"text {i}\n.dot\n") for i in range(3)]
    for raw in first:
        await pop3.deliver(raw)

    await in_thread(run_getmail, pop3, tmp_path, port, False)
    assert same_messages(received.messages, first)
    assert len(await pop3.inbox_uids()) == 3

    await in_thread(run_getmail, pop3, tmp_path, port, False)
    assert len(received.messages) == 3  # UIDL: nothing new, nothing fetched twice

    later = make_message(subject="later")
    await pop3.deliver(later)
    await in_thread(run_getmail, pop3, tmp_path, port, False)
    assert same_messages(received.messages, [*first, later])
    assert len(await pop3.inbox_uids()) == 4


async def test_getmail_deletes_what_it_downloaded(pop3: Pop3Env, sink: tuple[Sink, int], tmp_path: Path) -> None:
    received, port = sink
    messages = [make_message(subject=f"take {i}") for i in range(4)]
    for raw in messages:
        await pop3.deliver(raw)

    await in_thread(run_getmail, pop3, tmp_path, port, True)
    assert same_messages(received.messages, messages)
    assert await pop3.inbox_uids() == []
