"""DKIM (RFC 6376): sign with a generated key, publish it on the test DNS server, verify; tampering and missing keys."""

from __future__ import annotations

import pytest

from tests.mailfactory import make_message
from tests.support.dnsserver import DnsTestServer
from yizhan.authn.dkim import generate_key, sign, txt_record, verify
from yizhan.dns.resolver import Resolver
from yizhan.util.errors import InvalidInput


@pytest.fixture(scope="module")
def key() -> tuple[bytes, str]:
    return generate_key(1024)


@pytest.fixture
def resolver(dns_server: DnsTestServer) -> Resolver:
    return Resolver([dns_server.address], timeout=2.0)


def signed(key: tuple[bytes, str], raw: bytes | None = None, domain: str = "example.org") -> bytes:
    raw = raw or make_message(sender="Bob <bob@example.org>")
    return sign(raw, domain, "sel", key[0]) + raw


async def test_sign_then_verify_passes(dns_server: DnsTestServer, resolver: Resolver,
                                       key: tuple[bytes, str]) -> None:
    dns_server.add("sel._domainkey.example.org", "TXT", txt_record(key[1]))
    message = signed(key)
    header = message.split(b"\r\n\r\n")[0].decode()
    assert header.startswith("DKIM-Signature: ") and "c=relaxed/relaxed" in header and "a=rsa-sha256" in header
    assert "d=example.org" in header and "s=sel" in header
    results = await verify(message, resolver)
    assert [(r.result, r.domain, r.selector) for r in results] == [("pass", "example.org", "sel")]
    assert results[0].b and len(results[0].b) == 8


async def test_2048_bit_key_signs_and_verifies(dns_server: DnsTestServer, resolver: Resolver) -> None:
    big = generate_key()
    # A 2048-bit key's TXT value is longer than 255 bytes: the zone splits it, the resolver joins it.
    assert len(txt_record(big[1])) > 255
    dns_server.add("sel._domainkey.example.org", "TXT", txt_record(big[1]))
    assert [r.result for r in await verify(signed(big), resolver)] == ["pass"]


async def test_tampered_body_or_header_fails(dns_server: DnsTestServer, resolver: Resolver,
                                             key: tuple[bytes, str]) -> None:
    dns_server.add("sel._domainkey.example.org", "TXT", txt_record(key[1]))
    message = signed(key)
    assert [r.result for r in await verify(message.replace(b"Hello there.", b"Hello THERE."), resolver)] == ["fail"]
    assert [r.result for r in await verify(message.replace(b"Subject: Hello", b"Subject: Pay"), resolver)] == [
        "fail"]


async def test_missing_key_is_permerror(resolver: Resolver, key: tuple[bytes, str]) -> None:
    results = await verify(signed(key), resolver)
    assert [(r.result, r.domain) for r in results] == [("permerror", "example.org")]


async def test_wrong_key_fails(dns_server: DnsTestServer, resolver: Resolver, key: tuple[bytes, str]) -> None:
    other = generate_key(1024)
    dns_server.add("sel._domainkey.example.org", "TXT", txt_record(other[1]))
    assert [r.result for r in await verify(signed(key), resolver)] == ["fail"]


async def test_key_lookup_failure_is_temperror(dns_server: DnsTestServer, resolver: Resolver,
                                               key: tuple[bytes, str]) -> None:
    dns_server.add("sel._domainkey.example.org", "TXT", txt_record(key[1]))
    dns_server.servfail("sel._domainkey.example.org")
    assert [r.result for r in await verify(signed(key), resolver)] == ["temperror"]


async def test_unsigned_and_malformed_mail_never_raise(resolver: Resolver) -> None:
    assert await verify(make_message(), resolver) == []
    assert await verify(b"", resolver) == []
    assert await verify(b"\x00\xff garbage without headers", resolver) == []
    broken = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; garbage\r\nFrom: a@b\r\n\r\nbody\r\n"
    results = await verify(broken, resolver)
    assert [r.result for r in results] == ["permerror"]


def test_sign_refuses_message_without_from(key: tuple[bytes, str]) -> None:
    with pytest.raises(InvalidInput):
        sign(b"Subject: x\r\n\r\nbody\r\n", "example.org", "sel", key[0])
    with pytest.raises(InvalidInput):
        generate_key(512)
