"""`pop3.max_connections_per_ip`: connections over the limit from one address are refused with [SYS/TEMP]; a
connection that closes makes room again."""

from __future__ import annotations

import time

import pytest

from tests.protocols.pop3.conftest import Pop3Env, in_thread, pop3_settings
from tests.protocols.pop3.rawclient import RawClient


@pytest.fixture
def pop3_overrides() -> dict[str, object]:
    return pop3_settings(max_connections_per_ip=2)


async def test_connections_over_the_limit_are_refused(pop3: Pop3Env) -> None:
    def client() -> None:
        first, second = RawClient(pop3.port), RawClient(pop3.port)
        assert first.line().startswith(b"+OK") and second.line().startswith(b"+OK")
        third = RawClient(pop3.port)
        assert third.line() == b"-ERR [SYS/TEMP] too many connections from your address"
        assert third.closed()
        assert first.command(b"QUIT").startswith(b"+OK")
        assert first.closed()
        for _ in range(100):  # The server counts the closed connection out as soon as it has ended it.
            fourth = RawClient(pop3.port)
            greeting = fourth.line()
            fourth.close()
            if greeting.startswith(b"+OK"):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the limit never made room again")
        assert second.command(b"NOOP").startswith(b"-ERR")  # Still served: NOOP is for the TRANSACTION state.
        second.close()

    await in_thread(client)
