"""LMTP (RFC 2033): LHLO, one reply per accepted recipient after DATA (250 / 452 4.2.2 / 550 5.1.1 at RCPT), a
Received header but no DMARC refusal, and the optional Unix socket."""

from __future__ import annotations

import smtplib
from pathlib import Path
from typing import Any

import pytest

from tests.protocols.smtp.conftest import SmtpEnv, head_of, letter


@pytest.fixture
def smtp_overrides(tmp_path: Path) -> dict[str, Any]:
    return {"smtp": {"lmtp_socket": str(tmp_path / "lmtp.sock")}}


async def lmtp_client(env: SmtpEnv) -> smtplib.LMTP:
    client = await env.run(smtplib.LMTP, "127.0.0.1", env.port("lmtp"), timeout=30)
    code, _ = await env.run(client.ehlo, "postfix.example.com")  # smtplib.LMTP sends LHLO
    assert code == 250
    return client


async def test_per_recipient_replies_after_data(env: SmtpEnv) -> None:
    await env.services.directory.update_account("bob@example.com", quota_bytes=1500)
    client = await lmtp_client(env)
    assert "enhancedstatuscodes" in client.esmtp_features and "pipelining" in client.esmtp_features
    assert (await env.run(client.mail, "sender@sender.test"))[0] == 250
    assert (await env.run(client.rcpt, "alice@example.com"))[0] == 250
    code, text = await env.run(client.rcpt, "nobody@example.com")
    assert (code, text[:5]) == (550, b"5.1.1")
    assert (await env.run(client.rcpt, "bob@example.com"))[0] == 250
    assert (await env.run(client.rcpt, "team@example.com"))[0] == 250
    first = await env.run(client.data, letter("sender@sender.test", "alice@example.com",
                                              body=("b" * 70 + "\r\n") * 40))
    # One reply per accepted recipient, in RCPT order: alice, bob (full), team (reaches alice and bob).
    second = await env.run(client.getreply)
    third = await env.run(client.getreply)
    assert (first[0], first[1][:5]) == (250, b"2.1.5")
    assert (second[0], second[1][:5]) == (452, b"4.2.2")
    assert (third[0], third[1][:5]) == (250, b"2.1.5")
    await env.close(client)
    assert len(await env.inbox("alice@example.com")) == 1  # alice once, though named twice (directly and via team)
    assert await env.inbox("bob@example.com") == []


async def test_received_added_and_no_dmarc_refusal(env: SmtpEnv) -> None:
    env.dns.add("strict.test", "TXT", "v=spf1 ip4:192.0.2.1 -all")
    env.dns.add("_dmarc.strict.test", "TXT", "v=DMARC1; p=reject")
    client = await lmtp_client(env)
    refused = await env.run(client.sendmail, "ceo@strict.test", ["alice@example.com"],
                            letter("ceo@strict.test", "alice@example.com", "via postfix"))
    assert refused == {}
    await env.close(client)
    [raw] = await env.inbox("alice@example.com")
    head = head_of(raw)
    assert head.startswith("Received: from postfix.example.com ([127.0.0.1]) by mx.example.com (Yizhan) with LMTP")
    assert "Authentication-Results" not in head


async def test_ehlo_and_helo_are_not_lmtp(env: SmtpEnv) -> None:
    client = await env.run(smtplib.SMTP, "127.0.0.1", env.port("lmtp"), timeout=30)
    code, _ = await env.run(client.docmd, "EHLO", "x.test")
    assert code == 500
    code, _ = await env.run(client.docmd, "HELO", "x.test")
    assert code == 500
    code, _ = await env.run(client.docmd, "LHLO", "x.test")
    assert code == 250
    await env.close(client)


async def test_foreign_domains_are_never_relayed(env: SmtpEnv) -> None:
    client = await lmtp_client(env)
    await env.run(client.mail, "sender@sender.test")
    code, text = await env.run(client.rcpt, "victim@foreign.test")
    assert (code, text[:5]) == (554, b"5.7.1")
    await env.close(client)


async def test_unix_socket(env: SmtpEnv, tmp_path: Path) -> None:
    client = smtplib.LMTP(timeout=30)
    code, _ = await env.run(client.connect, str(tmp_path / "lmtp.sock"))
    assert code == 220
    await env.run(client.ehlo, "postfix.local")
    refused = await env.run(client.sendmail, "sender@sender.test", ["bob@example.com"],
                            letter("sender@sender.test", "bob@example.com", "over the socket"))
    assert refused == {}
    await env.close(client)
    [raw] = await env.inbox("bob@example.com")
    assert b"Subject: over the socket" in raw
