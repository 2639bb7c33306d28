"""Two Yizhan servers on loopback, two domains, one test DNS server: mail really flows between them.

Server A hosts a.test on 127.0.0.2, server B hosts b.test on 127.0.0.3; both listen for SMTP on the same port P
(chosen free on both addresses), so each one's queue reaches the other's MX at `queue.remote_port = P`. The DNS
server publishes MX, A, SPF, DKIM and DMARC records for both domains, and both servers resolve through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.support.dnsserver import DnsTestServer
from yizhan.app.server import Server
from yizhan.config.paths import DataPaths

A_IP, B_IP = "127.0.0.2", "127.0.0.3"
PASSWORD = "correct horse 1"


def free_port_on(*hosts: str) -> int:
    """A port that is free on every one of `hosts` (both servers' SMTP listeners use it)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((hosts[0], 0))
            port = int(probe.getsockname()[1])
        try:
            for host in hosts[1:]:
                with socket.socket() as other:
                    other.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no common free port")


@dataclass
class Site:
    name: str
    ip: str
    domain: str
    data: Path
    smtp_port: int
    dns: str
    server: Server | None = None

    async def start(self) -> Server:
        settings = make_settings(
            server={"hostname": f"mx.{self.domain}", "domain": self.domain, "bind": self.ip},
            listen={"smtp": self.smtp_port, "submission": 0, "smtps": 0, "lmtp": 0, "imap": 0, "imaps": 0,
                    "pop3": 0, "pop3s": 0, "http": 0},
            dns={"nameservers": [self.dns]},
            queue={"remote_port": self.smtp_port, "retry_schedule": [1, 1, 2, 2], "source_address": self.ip},
        )
        self.server = Server(settings, DataPaths(self.data))
        await self.server.start()
        return self.server

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None

    @property
    def services(self) -> Any:
        assert self.server is not None and self.server.services is not None
        return self.server.services

    async def inbox(self, address: str) -> list[bytes]:
        """The raw bytes of every message in `address`'s INBOX, oldest first."""
        services = self.services
        account = await services.directory.account(address)
        folder = await services.store.folders.get(account.id, "INBOX")
        page = await services.store.messages.page(folder.id, 0, 500, newest_first=False)
        return [await asyncio.to_thread(services.store.blobs.read, item.blob) for item in page]


async def wait_for(predicate: Callable[[], Any], seconds: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.2)


def submit(site: Site, user: str, message: EmailMessage) -> None:
    """Send `message` as `user` through `site`'s submission port, with STARTTLS and AUTH PLAIN (smtplib)."""
    assert site.server is not None
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP(site.ip, site.server.port("submission"), timeout=30) as client:
        client.starttls(context=context)
        client.login(user, PASSWORD)
        client.send_message(message)


def unfolded_head(raw: bytes) -> str:
    """The header section with folded lines joined (RFC 5322 §2.2.3)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    return head.replace("\r\n ", " ").replace("\r\n\t", " ")


def letter(sender: str, recipient: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    message.set_content(f"{subject}\n\n会议在北京举行。\n")
    return message


@pytest.fixture
async def sites(tmp_path: Path) -> AsyncIterator[tuple[Site, Site, DnsTestServer]]:
    async with DnsTestServer() as dns:
        port = free_port_on(A_IP, B_IP)
        a = Site("A", A_IP, "a.test", tmp_path / "a", port, dns.address)
        b = Site("B", B_IP, "b.test", tmp_path / "b", port, dns.address)
        for site in (a, b):
            dns.add(site.domain, "MX", f"10 mx.{site.domain}.")
            dns.add(f"mx.{site.domain}", "A", site.ip)
            dns.add(site.domain, "TXT", f"v=spf1 ip4:{site.ip} -all")
            dns.add(f"_dmarc.{site.domain}", "TXT", "v=DMARC1; p=reject")
        try:
            for site in (a, b):
                server = await site.start()
                services = server.services
                assert services is not None
                # The first start created the domain (server.domain) and its administrator.
                key = await services.store.dkim_keys.create(site.domain, selector="s1", bits=1024)
                dns.add(f"s1._domainkey.{site.domain}", "TXT", key.public_txt)
            for site, user in ((a, "alice@a.test"), (b, "bob@b.test")):
                await site.services.directory.add_account(user, PASSWORD)
            yield a, b, dns
        finally:
            for site in (a, b):
                with contextlib.suppress(Exception):
                    await site.stop()


async def test_mail_from_a_reaches_b_signed_and_authenticated(sites: tuple[Site, Site, DnsTestServer]) -> None:
    a, b, _ = sites
    await asyncio.to_thread(submit, a, "alice@a.test", letter("alice@a.test", "bob@b.test", "你好 from A"))

    received = await wait_for(lambda: b.inbox("bob@b.test"))
    assert len(received) == 1
    raw = received[0]
    head = unfolded_head(raw)
    assert "Authentication-Results: mx.b.test;" in head
    assert "dkim=pass" in head and "header.d=a.test" in head
    assert "spf=pass" in head
    assert "dmarc=pass" in head
    assert "DKIM-Signature:" in head
    assert "会议在北京举行" in raw.decode("utf-8", "replace") or b"Content-Transfer-Encoding: base64" in raw
    # The queue on A is empty once B accepted the message.
    assert await wait_for(lambda: _queue_empty(a))


async def _queue_empty(site: Site) -> bool:
    return not await site.services.outbound.list()


async def test_spf_fail_when_the_sender_domain_does_not_list_the_ip(
        sites: tuple[Site, Site, DnsTestServer]) -> None:
    a, b, dns = sites
    # a.test now says only 127.0.0.9 may send for it; DMARC still passes through the aligned DKIM signature.
    dns.remove("a.test", "TXT")
    dns.add("a.test", "TXT", "v=spf1 ip4:127.0.0.9 -all")
    await asyncio.to_thread(submit, a, "alice@a.test", letter("alice@a.test", "bob@b.test", "spf should fail"))
    received = await wait_for(lambda: b.inbox("bob@b.test"))
    head = unfolded_head(received[0])
    assert "spf=fail" in head
    assert "dkim=pass" in head and "dmarc=pass" in head


async def test_message_waits_in_the_queue_while_b_is_down(sites: tuple[Site, Site, DnsTestServer]) -> None:
    a, b, _ = sites
    await b.stop()
    await asyncio.to_thread(submit, a, "alice@a.test", letter("alice@a.test", "bob@b.test", "held while down"))

    async def deferred() -> bool:
        queued = await a.services.outbound.list()
        return bool(queued) and any(rcpt.attempts >= 1 for item in queued for rcpt in item.recipients)

    await wait_for(deferred)
    await b.start()
    received = await wait_for(lambda: b.inbox("bob@b.test"), seconds=60)
    assert b"held while down" in received[0]
    assert await wait_for(lambda: _queue_empty(a))


async def test_unknown_user_on_b_bounces_to_the_sender_on_a(sites: tuple[Site, Site, DnsTestServer]) -> None:
    a, _, _ = sites
    await asyncio.to_thread(submit, a, "alice@a.test", letter("alice@a.test", "nobody@b.test", "to nobody"))

    async def bounce() -> list[bytes]:
        return [raw for raw in await a.inbox("alice@a.test") if b"multipart/report" in raw]

    found = await wait_for(bounce)
    dsn = found[0]
    assert b"report-type=delivery-status" in dsn
    assert b"nobody@b.test" in dsn
    assert b"Status: 5.1.1" in dsn
    # The original headers travel with the bounce.
    assert b"Subject: to nobody" in dsn
