"""The queue runner against real parts: the test DNS server and aiosmtpd receivers on loopback addresses."""

from __future__ import annotations

import asyncio
import email
import ssl
from email import policy
from pathlib import Path

from aiosmtpd.smtp import SMTP

from tests.mailfactory import make_message
from tests.queue.conftest import OpenServices
from tests.queue.receiver import Receiver
from tests.support.dnsserver import DnsTestServer
from yizhan.queue.runner import QueueRunner
from yizhan.services.runtime import Services


async def inbox_messages(services: Services, address: str) -> list[bytes]:
    account = await services.directory.account(address)
    folder = await services.store.folders.get(account.id, "INBOX")
    assert folder is not None
    return [await services.store.blobs.aread(m.blob) for m in await services.store.messages.page(folder.id)]


def report_parts(raw: bytes) -> dict[str, email.message.Message]:
    message = email.message_from_bytes(raw, policy=policy.compat32)
    assert message.get_content_type() == "multipart/report"
    assert message.get_param("report-type") == "delivery-status"
    parts = message.get_payload()
    assert isinstance(parts, list)
    return {part.get_content_type(): part for part in parts}


async def test_delivers_to_the_preferred_mx_with_starttls(open_services: OpenServices, dns_server: DnsTestServer,
                                                         tmp_path: Path) -> None:
    async with Receiver("127.0.0.4", tls_dir=tmp_path / "tls") as best:
        async with Receiver("127.0.0.5", best.port) as worse:
            dns_server.add("example.net", "MX", "20 mx2.example.net.")
            dns_server.add("example.net", "MX", "10 mx1.example.net.")
            dns_server.add("mx1.example.net", "A", "127.0.0.4")
            dns_server.add("mx2.example.net", "A", "127.0.0.5")
            services = await open_services(best.port)
            raw = make_message(sender="alice@example.com", to="bob@example.net", subject="Hi Bob")
            queue_id = await services.outbound.enqueue(raw, "alice@example.com", ["bob@example.net"])
            await QueueRunner(services).run_once()
    [got] = best.messages
    assert worse.messages == []
    assert (got.mail_from, got.rcpt_tos, got.data) == ("alice@example.com", ["bob@example.net"], raw)
    assert got.ehlo == "out.example.com"
    assert got.tls, "STARTTLS offered by the MX should have been used"
    assert await services.store.outbound.get(queue_id) is None, "a delivered message leaves the queue"


async def test_falls_back_to_the_next_mx_when_the_first_refuses(open_services: OpenServices,
                                                               dns_server: DnsTestServer) -> None:
    async with Receiver("127.0.0.3") as second:
        dns_server.add("example.net", "MX", "10 down.example.net.")
        dns_server.add("example.net", "MX", "20 up.example.net.")
        dns_server.add("down.example.net", "A", "127.0.0.2")  # nothing listens there: connection refused
        dns_server.add("up.example.net", "A", "127.0.0.3")
        services = await open_services(second.port)
        await services.outbound.enqueue(make_message(to="bob@example.net"), "alice@example.com",
                                        ["bob@example.net"])
        await QueueRunner(services).run_once()
    assert [m.rcpt_tos for m in second.messages] == [["bob@example.net"]]
    assert await services.outbound.list() == []


async def test_domain_without_mx_is_its_own_host(open_services: OpenServices, dns_server: DnsTestServer) -> None:
    async with Receiver("127.0.0.6") as mx:
        dns_server.add("plain.test", "A", "127.0.0.6")
        services = await open_services(mx.port)
        await services.outbound.enqueue(make_message(to="x@plain.test"), "alice@example.com", ["x@plain.test"])
        await QueueRunner(services).run_once()
    assert [m.rcpt_tos for m in mx.messages] == [["x@plain.test"]]


async def test_one_connection_carries_several_messages(open_services: OpenServices,
                                                       dns_server: DnsTestServer) -> None:
    async with Receiver("127.0.0.6") as mx:
        dns_server.add("plain.test", "A", "127.0.0.6")
        services = await open_services(mx.port)
        for n in range(3):
            await services.outbound.enqueue(make_message(subject=f"n{n}", to="x@plain.test"), "alice@example.com",
                                            [f"u{n}@plain.test"])
        connections = 0
        original = mx._protocol

        def counting() -> SMTP:
            nonlocal connections
            connections += 1
            return original()

        mx._protocol = counting  # type: ignore[method-assign]
        await mx.stop()
        await mx.start()
        await QueueRunner(services).run_once()
    assert sorted(m.rcpt_tos[0] for m in mx.messages) == ["u0@plain.test", "u1@plain.test", "u2@plain.test"]
    assert connections == 1


async def test_null_mx_bounces_to_the_local_sender_with_the_original_headers(open_services: OpenServices,
                                                                            dns_server: DnsTestServer) -> None:
    dns_server.add("nomail.test", "MX", "0 .")
    services = await open_services(25)
    raw = make_message(sender="alice@example.com", to="who@nomail.test", subject="Lunch on Friday?")
    await services.outbound.enqueue(raw, "alice@example.com", ["who@nomail.test"])
    await QueueRunner(services).run_once()
    [dsn] = await inbox_messages(services, "alice@example.com")
    parts = report_parts(dsn)
    status = parts["message/delivery-status"].as_string()
    assert "Final-Recipient: rfc822; who@nomail.test" in status
    assert "Action: failed" in status and "Status: 5.1.10" in status
    headers = parts["text/rfc822-headers"].get_payload()
    assert "Subject: Lunch on Friday?" in headers
    assert await services.outbound.list() == []


async def test_5xx_at_rcpt_bounces_that_recipient_and_delivers_the_other(open_services: OpenServices,
                                                                        dns_server: DnsTestServer) -> None:
    async with Receiver("127.0.0.6") as mx:
        mx.handler.rcpt_replies["ghost@plain.test"] = "550 5.1.1 no such user here"
        dns_server.add("plain.test", "A", "127.0.0.6")
        services = await open_services(mx.port)
        await services.outbound.enqueue(make_message(to="x@plain.test"), "alice@example.com",
                                        ["ghost@plain.test", "real@plain.test"])
        await QueueRunner(services).run_once()
    assert [m.rcpt_tos for m in mx.messages] == [["real@plain.test"]]
    [dsn] = await inbox_messages(services, "alice@example.com")
    status = report_parts(dsn)["message/delivery-status"].as_string()
    assert "Final-Recipient: rfc822; ghost@plain.test" in status
    assert "Status: 5.1.1" in status and "no such user here" in status
    assert "real@plain.test" not in status
    assert await services.outbound.list() == []


async def test_4xx_is_deferred_and_delivered_on_retry(open_services: OpenServices,
                                                     dns_server: DnsTestServer) -> None:
    async with Receiver("127.0.0.6") as mx:
        mx.handler.rcpt_replies["busy@plain.test"] = "451 4.2.1 mailbox busy, try later"
        dns_server.add("plain.test", "A", "127.0.0.6")
        services = await open_services(mx.port, retry_schedule=[2])
        queue_id = await services.outbound.enqueue(make_message(), "alice@example.com", ["busy@plain.test"])
        runner = QueueRunner(services)
        await runner.run_once()
        [message] = await services.outbound.list()
        [recipient] = message.recipients
        assert (recipient.status, recipient.attempts) == ("pending", 1)
        assert "451 4.2.1 mailbox busy" in recipient.last_reply
        assert mx.messages == []
        # Not due yet: nothing is attempted.
        await runner.run_once()
        assert (await services.outbound.show(queue_id))[0].recipients[0].attempts == 1
        del mx.handler.rcpt_replies["busy@plain.test"]
        await asyncio.sleep(2.1)
        await runner.run_once()
    assert [m.rcpt_tos for m in mx.messages] == [["busy@plain.test"]]
    assert await services.outbound.list() == []
    assert await inbox_messages(services, "alice@example.com") == [], "no DSN for a deferral"


async def test_queue_survives_a_restart(open_services: OpenServices, dns_server: DnsTestServer) -> None:
    dns_server.add("plain.test", "A", "127.0.0.6")
    async with Receiver("127.0.0.6") as mx:
        port = mx.port
    services = await open_services(port)
    raw = make_message(to="x@plain.test")
    queue_id = await services.outbound.enqueue(raw, "alice@example.com", ["x@plain.test"])
    await QueueRunner(services).run_once()  # the MX is down: deferred
    assert (await services.outbound.show(queue_id))[0].recipients[0].attempts == 1
    await services.close()
    async with Receiver("127.0.0.6", port) as mx:
        reopened = await open_services(port)
        assert [m.queue_id for m in await reopened.outbound.list()] == [queue_id]
        await reopened.outbound.retry(queue_id)
        await QueueRunner(reopened).run_once()
    assert [m.data for m in mx.messages] == [raw]
    assert await reopened.outbound.list() == []


async def test_expiry_bounces_with_a_dsn(open_services: OpenServices, dns_server: DnsTestServer) -> None:
    dns_server.add("plain.test", "A", "127.0.0.6")
    async with Receiver("127.0.0.6") as mx:
        mx.handler.rcpt_replies["slow@plain.test"] = "450 4.2.0 come back later"
        services = await open_services(mx.port, expire_after=2, retry_schedule=[1])
        await services.outbound.enqueue(make_message(subject="Old news"), "alice@example.com", ["slow@plain.test"])
        runner = QueueRunner(services)
        for _ in range(3):
            await runner.run_once()
            await asyncio.sleep(1.1)
        await runner.run_once()
    assert await services.outbound.list() == []
    [dsn] = await inbox_messages(services, "alice@example.com")
    status = report_parts(dsn)["message/delivery-status"].as_string()
    assert "Action: failed" in status and "Status: 4.2.0" in status and "expired" in status


async def test_delay_notice_is_sent_once(open_services: OpenServices, dns_server: DnsTestServer) -> None:
    dns_server.add("plain.test", "A", "127.0.0.6")
    async with Receiver("127.0.0.6") as mx:
        mx.handler.rcpt_replies["slow@plain.test"] = "450 4.2.0 come back later"
        services = await open_services(mx.port, delay_notice_after=2, retry_schedule=[1])
        await services.outbound.enqueue(make_message(), "alice@example.com", ["slow@plain.test"])
        runner = QueueRunner(services)
        await runner.run_once()
        assert await inbox_messages(services, "alice@example.com") == []
        for _ in range(3):
            await asyncio.sleep(1.1)
            await runner.run_once()
    [notice] = await inbox_messages(services, "alice@example.com")
    status = report_parts(notice)["message/delivery-status"].as_string()
    assert "Action: delayed" in status and "Will-Retry-Until:" in status
    [queued] = await services.outbound.list()
    assert queued.recipients[0].status == "pending" and queued.recipients[0].delay_notified


async def test_remote_sender_gets_a_queued_dsn_and_a_bounce_is_never_bounced(
        open_services: OpenServices, dns_server: DnsTestServer) -> None:
    dns_server.add("nomail.test", "MX", "0 .")
    dns_server.add("elsewhere.test", "MX", "0 .")
    services = await open_services(25)
    await services.outbound.enqueue(make_message(sender="zoe@elsewhere.test"), "zoe@elsewhere.test",
                                    ["who@nomail.test"])
    runner = QueueRunner(services)
    await runner.run_once()
    [dsn] = await services.outbound.list()
    assert (dsn.mail_from, dsn.kind, [r.address for r in dsn.recipients]) == ("", "dsn", ["zoe@elsewhere.test"])
    # The DSN itself cannot be delivered (null MX): it is dropped, and no DSN about the DSN is made.
    await runner.run_once()
    assert await services.outbound.list() == []
    assert await inbox_messages(services, "alice@example.com") == []


async def test_runner_wakes_when_a_message_is_queued(open_services: OpenServices, dns_server: DnsTestServer) -> None:
    dns_server.add("plain.test", "A", "127.0.0.6")
    async with Receiver("127.0.0.6") as mx:
        services = await open_services(mx.port)
        runner = QueueRunner(services, poll_interval=60)
        await runner.start()
        try:
            await asyncio.sleep(0.2)
            await services.outbound.enqueue(make_message(), "alice@example.com", ["x@plain.test"])
            await asyncio.wait_for(mx.handler.arrived.wait(), 10)
        finally:
            await runner.stop()
    assert [m.rcpt_tos for m in mx.messages] == [["x@plain.test"]]


async def test_recipients_of_hosted_domains_are_filed_here_without_dns(open_services: OpenServices,
                                                                       dns_server: DnsTestServer) -> None:
    services = await open_services(25)
    raw = make_message(to="alice@example.com", subject="Via the queue")
    await services.outbound.enqueue(raw, "zoe@elsewhere.test", ["alice@example.com", "nobody@example.com"])
    await QueueRunner(services).run_once()
    inbox = await inbox_messages(services, "alice@example.com")
    assert inbox[0] == raw
    # nobody@example.com does not exist: zoe gets a DSN, queued for her own (remote) domain.
    [dsn] = await services.outbound.list()
    assert dsn.mail_from == "" and [r.address for r in dsn.recipients] == ["zoe@elsewhere.test"]
    assert not any(name.startswith("example.com") for name, _ in dns_server.queries)


async def test_failed_tls_handshake_falls_back_to_plain_text(open_services: OpenServices,
                                                             dns_server: DnsTestServer, tmp_path: Path) -> None:
    async with Receiver("127.0.0.6", tls_dir=tmp_path / "tls") as mx:
        # The MX offers STARTTLS but demands a client certificate we do not have: every handshake fails.
        assert mx.tls_context is not None
        mx.tls_context.verify_mode = ssl.CERT_REQUIRED
        mx.tls_context.load_verify_locations(tmp_path / "tls" / "cert.pem")
        dns_server.add("plain.test", "A", "127.0.0.6")
        services = await open_services(mx.port)
        await services.outbound.enqueue(make_message(), "alice@example.com", ["x@plain.test"])
        await QueueRunner(services).run_once()
    [got] = mx.messages
    assert not got.tls and got.rcpt_tos == ["x@plain.test"]


async def test_dns_failure_defers_and_unknown_domain_bounces(open_services: OpenServices,
                                                             dns_server: DnsTestServer) -> None:
    dns_server.servfail("flaky.test")
    services = await open_services(25)
    await services.outbound.enqueue(make_message(), "alice@example.com", ["x@flaky.test", "y@no-such-domain.test"])
    await QueueRunner(services).run_once()
    [queued] = await services.outbound.list()
    flaky, missing = queued.recipients
    assert flaky.status == "pending" and flaky.attempts == 1 and "4.4.3" in flaky.last_reply
    assert missing.status == "bounced" and "5.1.2" in missing.last_reply
    [dsn] = await inbox_messages(services, "alice@example.com")
    status = report_parts(dsn)["message/delivery-status"].as_string()
    assert "y@no-such-domain.test" in status and "Status: 5.1.2" in status and "x@flaky.test" not in status


async def test_a_large_group_is_split_into_connection_sized_batches(open_services: OpenServices,
                                                                    dns_server: DnsTestServer) -> None:
    async with Receiver("127.0.0.6") as mx:
        dns_server.add("plain.test", "A", "127.0.0.6")
        services = await open_services(mx.port, max_per_connection=2)
        for n in range(5):
            await services.outbound.enqueue(make_message(subject=f"n{n}"), "alice@example.com", [f"u{n}@plain.test"])
        await QueueRunner(services).run_once()
    assert sorted(m.rcpt_tos[0] for m in mx.messages) == [f"u{n}@plain.test" for n in range(5)]
    assert await services.outbound.list() == []
