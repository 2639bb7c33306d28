"""Submission (2587 STARTTLS, 2465 implicit TLS): AUTH only after TLS, logins and lockout, sending only as owned
addresses, added Date and Message-ID, local delivery and one queue entry for remote recipients."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest

from tests.protocols.smtp.conftest import PASSWORD, SmtpEnv, client_context, head_of, letter


@pytest.fixture
def smtp_overrides() -> dict[str, Any]:
    return {"auth": {"failure_delay": 0, "max_failures_per_account": 3}}


def remote_mx(env: SmtpEnv, *domains: str) -> None:
    """Remote domains whose MX is a closed loopback port: queued mail for them waits (deferred), never bounces."""
    for domain in domains:
        env.dns.add(domain, "MX", f"10 mx.{domain}.")
        env.dns.add(f"mx.{domain}", "A", "127.0.0.9")


async def test_auth_is_offered_only_after_starttls(env: SmtpEnv) -> None:
    client = await env.connect("submission")
    assert "auth" not in client.esmtp_features and "starttls" in client.esmtp_features
    code, text = await env.run(client.docmd, "AUTH", "PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHBhc3N3b3JkMQ==")
    assert (code, text[:6]) == (538, b"5.7.11")
    await env.run(client.starttls, context=client_context())
    await env.run(client.ehlo, "client.example.net")
    assert set(client.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN"}
    assert "starttls" not in client.esmtp_features
    await env.close(client)


async def test_mail_before_auth_is_refused(env: SmtpEnv) -> None:
    client = await env.connect("submission")
    await env.run(client.starttls, context=client_context())
    await env.run(client.ehlo, "client.example.net")
    code, text = await env.run(client.mail, "alice@example.com")
    assert (code, text[:5]) == (530, b"5.7.0")
    await env.close(client)


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
async def test_login_with_each_mechanism_and_send_locally(env: SmtpEnv, mechanism: str) -> None:
    client = await env.connect("submission")
    await env.run(client.starttls, context=client_context())
    await env.run(client.ehlo, "client.example.net")
    client.user, client.password = "alice@example.com", PASSWORD
    authobject = client.auth_plain if mechanism == "PLAIN" else client.auth_login
    code, text = await env.run(client.auth, mechanism, authobject, initial_response_ok=mechanism == "PLAIN")
    assert (code, text[:5]) == (235, b"2.7.0")
    await env.run(client.sendmail, "alice@example.com", ["bob@example.com"],
                  letter("alice@example.com", "bob@example.com", f"via {mechanism}"))
    await env.close(client)
    [raw] = await env.inbox("bob@example.com")
    assert " with ESMTPSA id " in head_of(raw).split("\r\n")[0]
    assert f"Subject: via {mechanism}".encode() in raw


async def test_wrong_password_then_lockout(env: SmtpEnv) -> None:
    client = await env.connect("submission")
    await env.run(client.starttls, context=client_context())
    await env.run(client.ehlo, "client.example.net")
    client.user, client.password = "alice@example.com", "wrong password"
    for _ in range(3):
        with pytest.raises(smtplib.SMTPAuthenticationError) as failed:
            await env.run(client.auth, "PLAIN", client.auth_plain)
        assert (failed.value.smtp_code, failed.value.smtp_error[:5]) == (535, b"5.7.8")
    # Locked now: even the right password is refused, with a clear temporary reply.
    client.password = PASSWORD
    with pytest.raises(smtplib.SMTPAuthenticationError) as locked:
        await env.run(client.auth, "PLAIN", client.auth_plain)
    assert locked.value.smtp_code == 454 and locked.value.smtp_error.startswith(b"4.7.0")
    assert b"try again in" in locked.value.smtp_error
    await env.close(client)


async def test_implicit_tls_port(env: SmtpEnv) -> None:
    client = await env.run(smtplib.SMTP_SSL, "127.0.0.1", env.port("smtps"), context=client_context(), timeout=30)
    await env.run(client.ehlo, "client.example.net")
    assert "starttls" not in client.esmtp_features and "auth" in client.esmtp_features
    await env.run(client.login, "bob@example.com", PASSWORD)
    await env.run(client.sendmail, "bob@example.com", ["alice@example.com"],
                  letter("bob@example.com", "alice@example.com", "over tls"))
    await env.close(client)
    [raw] = await env.inbox("alice@example.com")
    assert b"Subject: over tls" in raw


async def test_envelope_sender_of_someone_else_is_refused(env: SmtpEnv) -> None:
    client = await env.submission()
    for sender in ("bob@example.com", "ceo@foreign.test", "team@example.com.evil.test"):
        code, text = await env.run(client.mail, sender)
        assert (code, text[:5]) == (553, b"5.7.1"), sender
    code, text = await env.run(client.docmd, "MAIL", "FROM:<>")
    assert (code, text[:5]) == (553, b"5.7.1")
    await env.close(client)


async def test_from_header_of_someone_else_is_refused(env: SmtpEnv) -> None:
    client = await env.submission()
    await env.run(client.mail, "alice@example.com")
    await env.run(client.rcpt, "bob@example.com")
    code, text = await env.run(client.data, letter("Bob <bob@example.com>", "bob@example.com", "forged"))
    assert (code, text[:5]) == (553, b"5.7.1")
    await env.close(client)
    assert await env.inbox("bob@example.com") == []


async def test_alias_the_account_receives_may_be_used_as_sender(env: SmtpEnv) -> None:
    client = await env.submission()
    await env.run(client.sendmail, "postmaster@example.com", ["bob@example.com"],
                  letter("Postmaster <postmaster@example.com>", "bob@example.com", "from the alias"))
    await env.close(client)
    assert len(await env.inbox("bob@example.com")) == 1
    # bob is not a target of postmaster@: he may not use it.
    other = await env.submission("bob@example.com")
    code, _ = await env.run(other.mail, "postmaster@example.com")
    assert code == 553
    await env.close(other)


async def test_missing_date_and_message_id_are_added(env: SmtpEnv) -> None:
    client = await env.submission()
    data = b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: bare\r\n\r\nNo date, no id.\r\n"
    await env.run(client.sendmail, "alice@example.com", ["bob@example.com"], data)
    await env.close(client)
    [raw] = await env.inbox("bob@example.com")
    head = head_of(raw)
    assert "\r\nDate: " in head
    [message_id] = [line for line in head.split("\r\n") if line.startswith("Message-ID: ")]
    assert message_id.endswith("@example.com>")


async def test_local_and_remote_recipients_one_queue_entry(env: SmtpEnv) -> None:
    remote_mx(env, "remote.test", "faraway.test")
    key = await env.services.store.dkim_keys.create("example.com", selector="s1", bits=1024)
    assert key is not None
    client = await env.submission()
    refused = await env.run(client.sendmail, "alice@example.com",
                            ["bob@example.com", "carol@remote.test", "dave@faraway.test"],
                            letter("alice@example.com", "bob@example.com", "mixed"))
    assert refused == {}
    await env.close(client)
    assert len(await env.inbox("bob@example.com")) == 1
    [entry] = await env.services.outbound.list()
    assert sorted(r.address for r in entry.recipients) == ["carol@remote.test", "dave@faraway.test"]
    assert entry.sign_domain == "example.com" and entry.signed
    _, data = await env.services.outbound.show(entry.queue_id)
    assert data.startswith(b"DKIM-Signature:")


async def test_unknown_local_recipient_is_refused_at_rcpt(env: SmtpEnv) -> None:
    client = await env.submission()
    await env.run(client.mail, "alice@example.com")
    code, text = await env.run(client.rcpt, "nobody@example.com")
    assert (code, text[:5]) == (550, b"5.1.1")
    await env.close(client)
