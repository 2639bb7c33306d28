"""The idle timeout: a silent client is disconnected and its maildrop released, deleting nothing."""

from __future__ import annotations

import pytest

from tests.mailfactory import make_message
from tests.protocols.pop3.conftest import ADDRESS, PASSWORD, Pop3Env, in_thread, pop3_settings
from tests.protocols.pop3.rawclient import RawClient


@pytest.fixture
def pop3_overrides() -> dict[str, object]:
    return pop3_settings(idle_timeout=1)


async def test_silent_client_is_disconnected_and_deletes_nothing(pop3: Pop3Env) -> None:
    await pop3.deliver(make_message())

    def client() -> None:
        raw = RawClient(pop3.tls_port, timeout=30)
        raw.sock = pop3.context().wrap_socket(raw.sock, server_hostname="127.0.0.1")
        assert raw.line().startswith(b"+OK")
        assert raw.command(b"USER " + ADDRESS.encode()).startswith(b"+OK")
        assert raw.command(b"PASS " + PASSWORD.encode()).startswith(b"+OK")
        assert raw.command(b"DELE 1").startswith(b"+OK")
        assert raw.closed()  # Blocks until the server gives up on us (after 1 s of silence).
        session = pop3.login()
        assert session.stat()[0] == 1
        session.quit()

    await in_thread(client)
