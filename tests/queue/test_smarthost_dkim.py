"""DKIM signing of queued mail, and smarthost relaying with AUTH over STARTTLS."""

from __future__ import annotations

from pathlib import Path

from tests.mailfactory import make_message
from tests.queue.conftest import OpenServices
from tests.queue.receiver import Receiver
from tests.support.dnsserver import DnsTestServer
from yizhan.authn.dkim import verify
from yizhan.dns.resolver import Resolver
from yizhan.queue.runner import QueueRunner


async def test_what_the_mx_receives_carries_a_verifiable_dkim_signature(
        open_services: OpenServices, dns_server: DnsTestServer) -> None:
    dns_server.add("plain.test", "A", "127.0.0.6")
    async with Receiver("127.0.0.6") as mx:
        services = await open_services(mx.port)
        key = await services.store.dkim_keys.create("example.com", "sel1", bits=1024)
        dns_server.add(key.record_name, "TXT", key.public_txt)
        raw = make_message(sender="Alice <alice@example.com>", to="x@plain.test", subject="Signed")
        await services.outbound.enqueue(raw, "alice@example.com", ["x@plain.test"], sign_domain="example.com")
        await QueueRunner(services).run_once()
    [got] = mx.messages
    assert got.data.startswith(b"DKIM-Signature:") and got.data.endswith(raw)
    [result] = await verify(got.data, Resolver([dns_server.address]))
    assert (result.result, result.domain, result.selector) == ("pass", "example.com", "sel1")


async def test_without_a_key_the_message_is_sent_unsigned(open_services: OpenServices,
                                                          dns_server: DnsTestServer) -> None:
    dns_server.add("plain.test", "A", "127.0.0.6")
    async with Receiver("127.0.0.6") as mx:
        services = await open_services(mx.port)
        raw = make_message(sender="alice@example.com", to="x@plain.test")
        await services.outbound.enqueue(raw, "alice@example.com", ["x@plain.test"], sign_domain="example.com")
        await QueueRunner(services).run_once()
    assert [m.data for m in mx.messages] == [raw]


async def test_smarthost_relays_everything_with_auth_over_starttls(open_services: OpenServices,
                                                                   dns_server: DnsTestServer,
                                                                   tmp_path: Path) -> None:
    async with Receiver("127.0.0.7", tls_dir=tmp_path / "tls", credentials=("relay-user", "s3cret-pw"),
                        require_starttls=True) as relay:
        services = await open_services(
            1, smarthost="127.0.0.7", smarthost_port=relay.port, smarthost_username="relay-user",
            smarthost_password="s3cret-pw", smarthost_tls="starttls", smarthost_verify=False)
        # No DNS records at all: with a smarthost, nothing is looked up.
        await services.outbound.enqueue(make_message(), "alice@example.com", ["a@one.test", "b@two.test"])
        await QueueRunner(services).run_once()
    [got] = relay.messages
    assert sorted(got.rcpt_tos) == ["a@one.test", "b@two.test"]
    assert got.tls and got.user == "relay-user"
    assert dns_server.queries == []
    assert await services.outbound.list() == []


async def test_smarthost_without_starttls_gets_no_credentials_and_mail_waits(open_services: OpenServices) -> None:
    async with Receiver("127.0.0.7", credentials=("relay-user", "s3cret-pw")) as relay:
        services = await open_services(
            1, smarthost="127.0.0.7", smarthost_port=relay.port, smarthost_username="relay-user",
            smarthost_password="s3cret-pw", smarthost_tls="starttls")
        await services.outbound.enqueue(make_message(), "alice@example.com", ["a@one.test"])
        await QueueRunner(services).run_once()
    assert relay.messages == []
    [queued] = await services.outbound.list()
    assert queued.recipients[0].status == "pending"
    assert "STARTTLS" in queued.recipients[0].last_reply


async def test_smarthost_rejecting_the_password_defers(open_services: OpenServices, tmp_path: Path) -> None:
    async with Receiver("127.0.0.7", tls_dir=tmp_path / "tls", credentials=("relay-user", "right"),
                        require_starttls=True) as relay:
        services = await open_services(
            1, smarthost="127.0.0.7", smarthost_port=relay.port, smarthost_username="relay-user",
            smarthost_password="wrong", smarthost_verify=False)
        await services.outbound.enqueue(make_message(), "alice@example.com", ["a@one.test"])
        await QueueRunner(services).run_once()
    assert relay.messages == []
    [queued] = await services.outbound.list()
    assert queued.recipients[0].status == "pending", "an AUTH failure at the smarthost must not bounce mail"
    assert "refused our credentials" in queued.recipients[0].last_reply


async def test_smarthost_with_implicit_tls(open_services: OpenServices, tmp_path: Path) -> None:
    async with Receiver("127.0.0.7", tls_dir=tmp_path / "tls", credentials=("relay-user", "s3cret-pw"),
                        implicit_tls=True) as relay:
        services = await open_services(
            1, smarthost="127.0.0.7", smarthost_port=relay.port, smarthost_username="relay-user",
            smarthost_password="s3cret-pw", smarthost_tls="tls", smarthost_verify=False)
        await services.outbound.enqueue(make_message(), "alice@example.com", ["a@one.test"])
        await QueueRunner(services).run_once()
    [got] = relay.messages
    assert got.tls and got.user == "relay-user" and got.rcpt_tos == ["a@one.test"]
