"""Read receipts (RFC 8098): the pane asks when a message requests one; "send" files or queues one MDN from the
null sender, "ignore" declines; either way the message gets $MDNSent (RFC 3503) and no second receipt is sent."""

from __future__ import annotations

import email
from email.header import decode_header, make_header
from typing import Any

from tests.support.dnsserver import DnsTestServer
from tests.web.conftest import ADDRESS, Web, csrf_of
from tests.web.read.support import BOB, add_bob, deliver, flags_of, simple_message


async def inbox_of(web: Web, address: str) -> list[bytes]:
    services = web.services
    account = await services.directory.account(address)
    folder = await services.mailbox.folder(account.id, "INBOX")
    entries = await services.mailbox.fetch_data(folder, list(range(1, folder.uidnext)))
    return [await services.mailbox.read(entry.blob) for entry in entries]


def asking(subject: str, to: str, message_id: str) -> bytes:
    return simple_message(subject, sender=f"Bob Li <{BOB}>", message_id=message_id,
                          extra_headers=f"Disposition-Notification-To: <{to}>\r\n")


async def test_receipt_sent_once_to_a_local_sender(web_with: Any, dns_server: DnsTestServer) -> None:
    async with web_with(dns={"nameservers": [dns_server.address]}) as web:
        await add_bob(web)
        folder_id, uid = await deliver(web, asking("季度计划", BOB, "<mdn-1@example.com>"))
        async with web.signed_in(headers={"Accept-Language": "en"}) as client:
            page = await client.get(f"/mail/read/{folder_id}/{uid}")
            assert 'data-testid="receipt-bar"' in page.text and BOB in page.text
            csrf = csrf_of(page.text)
            sent = await client.post(f"/mail/read/{folder_id}/{uid}/receipt",
                                     data={"decision": "send", "csrf_token": csrf})
            assert sent.status_code == 303
            again = await client.post(f"/mail/read/{folder_id}/{uid}/receipt",
                                      data={"decision": "send", "csrf_token": csrf})
            assert again.status_code == 409 and "already" in again.text
            after = await client.get(f"/mail/read/{folder_id}/{uid}")
            assert 'data-testid="receipt-bar"' not in after.text
        assert "$MDNSent" in await flags_of(web, ADDRESS, "INBOX", uid)
        [receipt] = await inbox_of(web, BOB)
        message = email.message_from_bytes(receipt)
        assert message.get_content_type() == "multipart/report"
        assert message.get_param("report-type") == "disposition-notification"
        assert str(make_header(decode_header(message["Subject"]))) == "Read: 季度计划"
        assert ADDRESS in message["From"] and BOB in message["To"]
        assert message["In-Reply-To"] == "<mdn-1@example.com>"
        text = receipt.decode("utf-8")
        assert "Content-Type: message/disposition-notification" in text
        assert f"Final-Recipient: rfc822;{ADDRESS}" in text
        assert "Original-Message-ID: <mdn-1@example.com>" in text
        assert "Disposition: manual-action/MDN-sent-manually; displayed" in text
        assert "Disposition-Notification-To: <bob@example.com>" in text  # the original's header section


async def test_receipt_to_a_remote_sender_is_queued_from_the_null_sender(web_with: Any,
                                                                        dns_server: DnsTestServer) -> None:
    async with web_with(dns={"nameservers": [dns_server.address]}) as web:
        folder_id, uid = await deliver(web, asking("Plan", "carol@example.org", "<mdn-2@example.org>"))
        async with web.signed_in() as client:
            csrf = csrf_of((await client.get(f"/mail/read/{folder_id}/{uid}")).text)
            sent = await client.post(f"/api/v1/messages/{folder_id}/{uid}/receipt", json={"decision": "send"},
                                     headers={"X-CSRF-Token": csrf})
            assert sent.status_code == 200 and sent.json() == {"sent_to": ["carol@example.org"]}
            twice = await client.post(f"/api/v1/messages/{folder_id}/{uid}/receipt", json={"decision": "ignore"},
                                      headers={"X-CSRF-Token": csrf})
            assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_exists"
        [queued] = await web.services.outbound.list()
        assert queued.mail_from == "" and [r.address for r in queued.recipients] == ["carol@example.org"]


async def test_ignore_declines_for_good_and_no_request_no_receipt(web_with: Any, dns_server: DnsTestServer) -> None:
    async with web_with(dns={"nameservers": [dns_server.address]}) as web:
        await add_bob(web)
        folder_id, uid = await deliver(web, asking("Ignored", BOB, "<mdn-3@example.com>"))
        plain_id, plain_uid = await deliver(web, simple_message("No request"))
        async with web.signed_in() as client:
            page = await client.get(f"/mail/read/{folder_id}/{uid}")
            csrf = csrf_of(page.text)
            hx = {"HX-Request": "true", "X-CSRF-Token": csrf}
            ignored = await client.post(f"/mail/read/{folder_id}/{uid}/receipt", data={"decision": "ignore"},
                                        headers=hx)
            assert ignored.status_code == 200 and 'data-testid="receipt-bar"' not in ignored.text
            late = await client.post(f"/mail/read/{folder_id}/{uid}/receipt", data={"decision": "send"}, headers=hx)
            assert late.status_code == 409
            none = await client.post(f"/mail/read/{plain_id}/{plain_uid}/receipt", data={"decision": "send"},
                                     headers=hx)
            assert none.status_code == 400
            plain_page = await client.get(f"/mail/read/{plain_id}/{plain_uid}")
            assert 'data-testid="receipt-bar"' not in plain_page.text
            bad = await client.post(f"/mail/read/{folder_id}/{uid}/receipt", data={"decision": "maybe"}, headers=hx)
            assert bad.status_code == 400
        assert "$MDNSent" in await flags_of(web, ADDRESS, "INBOX", uid)
        assert await inbox_of(web, BOB) == []
        assert await web.services.outbound.list() == []
