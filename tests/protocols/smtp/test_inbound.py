"""The inbound MX: acceptance into the INBOX with trace and authentication headers, aliases, catch-all, unknown users,
relay refusals (open-relay checks), quota, DMARC reject, forged results, and faults of ours answering 451."""

from __future__ import annotations

import smtplib

import pytest

from tests.protocols.smtp.conftest import SmtpEnv, client_context, head_of, letter
from yizhan.mail.addresses import normalize_address

SENDER = "someone@sender.test"


async def send(env: SmtpEnv, recipients: list[str], data: bytes, sender: str = SENDER) -> dict[str, object]:
    client = await env.connect()
    try:
        return await env.run(client.sendmail, sender, recipients, data)
    finally:
        await env.close(client)


async def test_message_lands_in_the_inbox_with_received_and_authentication_results(env: SmtpEnv) -> None:
    refused = await send(env, ["alice@example.com"], letter(SENDER, "alice@example.com", "greetings"))
    assert refused == {}
    [raw] = await env.inbox("alice@example.com")
    head = head_of(raw)
    lines = head.split("\r\n")
    # RFC 5321 §4.4: Received on top, then our Authentication-Results, then the message as sent.
    assert lines[0].startswith("Received: from client.example.net ([127.0.0.1]) by mx.example.com (Yizhan) with ESMTP")
    assert "for <alice@example.com>;" in lines[0]
    assert lines[1].startswith("Authentication-Results: mx.example.com;")
    assert "spf=none smtp.mailfrom=someone@sender.test" in lines[1]
    assert "Subject: greetings" in head
    assert raw.endswith(b"\r\n\r\nHello there.\r\n")


async def test_received_names_esmtps_and_the_cipher_after_starttls(env: SmtpEnv) -> None:
    client = await env.connect()
    await env.run(client.starttls, context=client_context())
    await env.run(client.ehlo, "tls.example.net")
    await env.run(client.sendmail, SENDER, ["bob@example.com"], letter(SENDER, "bob@example.com"))
    await env.close(client)
    [raw] = await env.inbox("bob@example.com")
    received = head_of(raw).split("\r\n")[0]
    assert " with ESMTPS id " in received
    assert "(TLSv1." in received and "bits)" in received


async def test_alias_reaches_every_target_once(env: SmtpEnv) -> None:
    refused = await send(env, ["team@example.com", "alice@example.com"], letter(SENDER, "team@example.com"))
    assert refused == {}
    assert len(await env.inbox("alice@example.com")) == 1
    assert len(await env.inbox("bob@example.com")) == 1


async def test_catch_all_takes_unknown_addresses_of_its_domain(env: SmtpEnv) -> None:
    await env.services.directory.add_domain("catchall.test")
    await env.services.directory.add_alias("@catchall.test", ["bob@example.com"])
    refused = await send(env, ["anything@catchall.test"], letter(SENDER, "anything@catchall.test"))
    assert refused == {}
    assert len(await env.inbox("bob@example.com")) == 1


async def test_unknown_user_is_refused_at_rcpt(env: SmtpEnv) -> None:
    client = await env.connect()
    await env.run(client.mail, SENDER)
    code, text = await env.run(client.rcpt, "nobody@example.com")
    assert (code, text[:5]) == (550, b"5.1.1")
    # The session goes on: a known recipient is still accepted.
    code, text = await env.run(client.rcpt, "alice@example.com")
    assert (code, text[:5]) == (250, b"2.1.5")
    await env.close(client)


@pytest.mark.parametrize("recipient", [
    "victim@foreign.test", "VICTIM@Other-Foreign.TEST", "someone@gmail.com", "user@[192.0.2.1]",
    "user@example.com.foreign.test", "user@sub.example.com",
])
async def test_relay_to_foreign_domains_is_refused(env: SmtpEnv, recipient: str) -> None:
    client = await env.connect()
    await env.run(client.mail, SENDER)
    code, text = await env.run(client.rcpt, recipient)
    assert (code, text[:5]) == (554, b"5.7.1"), (recipient, code, text)
    await env.close(client)
    assert await env.services.outbound.list() == []


async def test_relay_tricks_with_routes_and_percent_hacks_never_relay(env: SmtpEnv) -> None:
    client = await env.connect()
    await env.run(client.mail, SENDER)
    for recipient in ("<@example.com:victim@foreign.test>", "<victim%foreign.test@example.com>",
                      "<victim@foreign.test@example.com>", '<"victim@foreign.test">'):
        code, _ = await env.run(client.docmd, "RCPT", f"TO:{recipient}")
        assert code >= 500, recipient
    code, _ = await env.run(client.docmd, "DATA")
    assert code == 503  # no recipient was accepted
    await env.close(client)
    assert await env.services.outbound.list() == []


async def test_auth_is_not_offered_before_tls_on_the_mx(env: SmtpEnv) -> None:
    client = await env.connect()
    assert "auth" not in client.esmtp_features
    assert "starttls" in client.esmtp_features
    for name in ("pipelining", "enhancedstatuscodes", "8bitmime", "smtputf8", "size"):
        assert name in client.esmtp_features
    code, _ = await env.run(client.docmd, "AUTH", "PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHBhc3N3b3JkMQ==")
    assert code == 538
    await env.close(client)


async def test_authenticated_session_on_the_mx_may_relay(env: SmtpEnv) -> None:
    env.dns.add("remote.test", "MX", "10 mx.remote.test.")
    env.dns.add("mx.remote.test", "A", "127.0.0.9")
    client = await env.connect()
    await env.run(client.starttls, context=client_context())
    await env.run(client.ehlo, "client.example.net")
    await env.run(client.login, "alice@example.com", "password1")
    await env.run(client.sendmail, "alice@example.com", ["carol@remote.test"],
                  letter("alice@example.com", "carol@remote.test"))
    await env.close(client)
    queued = await env.services.outbound.list()
    assert [r.address for item in queued for r in item.recipients] == ["carol@remote.test"]


async def test_null_sender_is_accepted(env: SmtpEnv) -> None:
    client = await env.connect()
    code, _ = await env.run(client.docmd, "MAIL", "FROM:<>")
    assert code == 250
    await env.run(client.rcpt, "alice@example.com")
    code, _ = await env.run(client.data, letter("MAILER-DAEMON@sender.test", "alice@example.com", "bounce"))
    assert code == 250
    await env.close(client)
    [raw] = await env.inbox("alice@example.com")
    assert b"Subject: bounce" in raw


async def test_declared_size_over_the_free_space_gets_452_at_rcpt(env: SmtpEnv) -> None:
    await env.services.directory.update_account("bob@example.com", quota_bytes=1500)
    client = await env.connect()
    await env.run(client.mail, SENDER, ["SIZE=5000"])
    code, text = await env.run(client.rcpt, "bob@example.com")
    assert (code, text[:5]) == (452, b"4.2.2")
    assert (await env.run(client.rcpt, "alice@example.com"))[0] == 250
    await env.close(client)


async def test_full_mailbox_gets_452_at_rcpt(env: SmtpEnv) -> None:
    await env.services.delivery.deliver(b"Subject: filler\r\n\r\n" + b"x" * 2500, "", ["bob@example.com"])
    # The quota is lowered under what the mailbox already holds: it is full.
    await env.services.directory.update_account("bob@example.com", quota_bytes=2000)
    client = await env.connect()
    await env.run(client.mail, SENDER)
    code, text = await env.run(client.rcpt, "bob@example.com")
    assert (code, text[:5]) == (452, b"4.2.2")
    await env.close(client)


async def test_message_over_quota_gets_452_at_data(env: SmtpEnv) -> None:
    await env.services.directory.update_account("bob@example.com", quota_bytes=1500)
    client = await env.connect()
    await env.run(client.mail, SENDER)
    assert (await env.run(client.rcpt, "bob@example.com"))[0] == 250
    code, text = await env.run(client.data, letter(SENDER, "bob@example.com", body=("y" * 70 + "\r\n") * 45))
    assert (code, text[:5]) == (452, b"4.2.2")
    await env.close(client)
    assert await env.inbox("bob@example.com") == []


async def test_one_full_mailbox_does_not_refuse_the_others(env: SmtpEnv) -> None:
    await env.services.directory.update_account("bob@example.com", quota_bytes=1500)
    client = await env.connect()
    await env.run(client.mail, SENDER)  # no SIZE declared: the RCPT check cannot see the size coming
    assert (await env.run(client.rcpt, "alice@example.com"))[0] == 250
    assert (await env.run(client.rcpt, "bob@example.com"))[0] == 250
    code, _ = await env.run(client.data, letter(SENDER, "alice@example.com", body=("z" * 70 + "\r\n") * 45))
    assert code == 250
    await env.close(client)
    assert len(await env.inbox("alice@example.com")) == 1
    # Bob's copy waits in the queue, which retries it locally (and bounces it in the end).
    queued = await env.services.outbound.list()
    assert [r.address for item in queued for r in item.recipients] == ["bob@example.com"]


async def test_dmarc_reject_policy_is_honoured(env: SmtpEnv) -> None:
    env.dns.add("strict.test", "TXT", "v=spf1 ip4:192.0.2.1 -all")
    env.dns.add("_dmarc.strict.test", "TXT", "v=DMARC1; p=reject")
    client = await env.connect()
    await env.run(client.mail, "ceo@strict.test")
    await env.run(client.rcpt, "alice@example.com")
    code, text = await env.run(client.data, letter("ceo@strict.test", "alice@example.com", "forged"))
    assert (code, text[:5]) == (550, b"5.7.1")
    assert b"DMARC" in text
    await env.close(client)
    assert await env.inbox("alice@example.com") == []


async def test_dmarc_quarantine_files_the_message_as_junk(env: SmtpEnv) -> None:
    env.dns.add("careful.test", "TXT", "v=spf1 ip4:192.0.2.1 -all")
    env.dns.add("_dmarc.careful.test", "TXT", "v=DMARC1; p=quarantine")
    await send(env, ["alice@example.com"], letter("ceo@careful.test", "alice@example.com", "suspicious"),
               sender="ceo@careful.test")
    assert await env.inbox("alice@example.com") == []
    account = await env.services.directory.account("alice@example.com")
    junk = (await env.services.store.folders.by_special_use([account.id], "junk"))[account.id]
    [entry] = await env.services.store.messages.page(junk.id)
    assert entry.subject == "suspicious" and "$Junk" in entry.keywords
    # Mail that passes goes to the INBOX as before.
    await send(env, ["alice@example.com"], letter(SENDER, "alice@example.com", "fine"))
    assert len(await env.inbox("alice@example.com")) == 1


async def test_forged_results_for_our_authserv_id_are_removed(env: SmtpEnv) -> None:
    extra = ("Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=ceo@example.com;\r\n"
             " dkim=pass header.d=example.com\r\n"
             "Authentication-Results: other.example.org; spf=pass\r\n")
    await send(env, ["alice@example.com"], letter(SENDER, "alice@example.com", extra=extra))
    [raw] = await env.inbox("alice@example.com")
    ours = [line for line in head_of(raw).split("\r\n") if line.startswith("Authentication-Results: mx.example.com")]
    assert len(ours) == 1 and "spf=none" in ours[0]
    assert "Authentication-Results: other.example.org; spf=pass" in head_of(raw)


async def test_smtputf8_with_a_chinese_address_and_subject(env: SmtpEnv) -> None:
    await env.services.directory.add_account("张伟@example.com", "password1")
    data = ("From: 李雷 <李雷@sender.test>\r\nTo: 张伟@example.com\r\nSubject: 会议通知\r\n\r\n明天开会。\r\n").encode()
    client = await env.connect()
    await env.run(client.sendmail, "李雷@sender.test", ["张伟@example.com"], data, ["SMTPUTF8", "BODY=8BITMIME"])
    await env.close(client)
    [raw] = await env.inbox(normalize_address("张伟@example.com"))
    assert "Subject: 会议通知" in raw.decode()
    assert " with UTF8SMTP id " in head_of(raw)


async def test_a_fault_of_ours_answers_451_and_the_server_keeps_serving(env: SmtpEnv) -> None:
    client = await env.connect()
    await env.run(client.mail, SENDER)
    assert (await env.run(client.rcpt, "alice@example.com"))[0] == 250
    # The store goes away under the running server: filing fails, and the client must be told to retry.
    await env.services.store.close()
    code, text = await env.run(client.data, letter(SENDER, "alice@example.com"))
    assert (code, text[:5]) == (451, b"4.3.0")
    # The session goes on after the fault.
    assert (await env.run(client.rset))[0] == 250
    await env.close(client)
    # A second client is still served (greeting, EHLO) by the same server.
    other = await env.connect()
    assert (await env.run(other.noop))[0] == 250
    await env.close(other)


async def test_every_reply_carries_an_enhanced_status_code(env: SmtpEnv) -> None:
    client = await env.connect()
    for command, argument in (("NOOP", ""), ("RCPT", "TO:<alice@example.com>"), ("MAIL", "FROM:<a@b.test>"),
                              ("MAIL", "FROM:<a@b.test>"), ("RSET", ""), ("VRFY", "alice@example.com"),
                              ("FOO", "bar"), ("DATA", "")):
        code, text = await env.run(client.docmd, command, argument)
        assert text[:1] in b"245" and text[1:2] == b"." and text.split(b" ")[0].count(b".") == 2, (command, text)
        assert str(code)[0] == text[:1].decode(), (command, code, text)
    await env.close(client)


async def test_smtplib_error_is_reported_for_a_refused_only_recipient(env: SmtpEnv) -> None:
    client = await env.connect()
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        await env.run(client.sendmail, SENDER, ["nobody@example.com"], letter(SENDER, "nobody@example.com"))
    await env.close(client)
