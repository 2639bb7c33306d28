"""`pop3.allow_insecure_auth`: off by default (see test_session), and when an operator turns it on, USER/PASS and
AUTH work without TLS and CAPA says so."""

from __future__ import annotations

import pytest

from tests.protocols.pop3.conftest import ADDRESS, PASSWORD, Pop3Env, in_thread, pop3_settings


@pytest.fixture
def pop3_overrides() -> dict[str, object]:
    return pop3_settings(allow_insecure_auth=True)


async def test_plaintext_login_when_allowed(pop3: Pop3Env) -> None:
    def client() -> None:
        session = pop3.plain()
        capabilities = session.capa()
        assert "USER" in capabilities and capabilities["SASL"] == ["PLAIN"] and "STLS" in capabilities
        session.user(ADDRESS)
        assert session.pass_(PASSWORD).startswith(b"+OK")
        session.quit()

    await in_thread(client)
