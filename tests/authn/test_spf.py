"""SPF (RFC 7208) through pyspf with every lookup answered by the project's DNS server on loopback."""

from __future__ import annotations

import pytest

from tests.support.dnsserver import DnsTestServer
from yizhan.authn.spf import check_host
from yizhan.dns.resolver import Resolver


@pytest.fixture
def resolver(dns_server: DnsTestServer) -> Resolver:
    return Resolver([dns_server.address], timeout=2.0)


async def test_pass_for_listed_ip(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("example.org", "TXT", "v=spf1 ip4:127.0.0.0/24 -all")
    result = await check_host("127.0.0.1", "bob@example.org", "mail.example.org", resolver)
    assert (result.result, result.identity, result.domain) == ("pass", "mailfrom", "example.org")
    # The lookups really went to our server.
    assert ("example.org", "TXT") in dns_server.queries


async def test_fail_and_softfail_for_other_ip(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("example.org", "TXT", "v=spf1 ip4:127.0.0.9 -all")
    dns_server.add("soft.example", "TXT", "v=spf1 ip4:127.0.0.9 ~all")
    assert (await check_host("127.0.0.1", "bob@example.org", "h.example", resolver)).result == "fail"
    assert (await check_host("127.0.0.1", "bob@soft.example", "h.example", resolver)).result == "softfail"


async def test_none_without_record(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("example.org", "TXT", "some other text")
    assert (await check_host("127.0.0.1", "bob@example.org", "h.example", resolver)).result == "none"
    assert (await check_host("127.0.0.1", "bob@nowhere.example", "h.example", resolver)).result == "none"


async def test_include_a_and_mx_mechanisms(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("example.org", "TXT", "v=spf1 include:_spf.provider.example mx -all")
    dns_server.add("_spf.provider.example", "TXT", "v=spf1 a:out.provider.example -all")
    dns_server.add("out.provider.example", "A", "127.0.0.3")
    dns_server.add("example.org", "MX", "10 mx.example.org.")
    dns_server.add("mx.example.org", "A", "127.0.0.4")
    assert (await check_host("127.0.0.3", "bob@example.org", "h", resolver)).result == "pass"
    assert (await check_host("127.0.0.4", "bob@example.org", "h", resolver)).result == "pass"
    assert (await check_host("127.0.0.5", "bob@example.org", "h", resolver)).result == "fail"


async def test_temperror_when_dns_fails(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("example.org", "TXT", "v=spf1 -all")
    dns_server.servfail("example.org")
    assert (await check_host("127.0.0.1", "bob@example.org", "h", resolver)).result == "temperror"


async def test_permerror_for_broken_record(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("example.org", "TXT", "v=spf1 ip4:not-an-ip -all")
    assert (await check_host("127.0.0.1", "bob@example.org", "h", resolver)).result == "permerror"
    dns_server.add("loop.example", "TXT", "v=spf1 include:loop.example -all")
    assert (await check_host("127.0.0.1", "bob@loop.example", "h", resolver)).result == "permerror"


async def test_null_sender_checks_helo(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("mail.example.org", "TXT", "v=spf1 ip4:127.0.0.1 -all")
    result = await check_host("127.0.0.1", "", "mail.example.org", resolver)
    assert (result.result, result.identity, result.sender) == ("pass", "helo", "postmaster@mail.example.org")


async def test_bad_input_never_raises(resolver: Resolver) -> None:
    assert (await check_host("127.0.0.1", "no-at-sign", "", resolver)).result == "none"
    assert (await check_host("not-an-ip", "bob@example.org", "h", resolver)).result == "permerror"
    assert (await check_host("127.0.0.1", "bob@[127.0.0.1]", "h", resolver)).result == "none"


async def test_ipv4_mapped_client_address(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("example.org", "TXT", "v=spf1 ip4:127.0.0.1 -all")
    assert (await check_host("::ffff:127.0.0.1", "bob@example.org", "h", resolver)).result == "pass"
    dns_server.add("v6.example", "TXT", "v=spf1 ip6:::1 -all")
    assert (await check_host("::1", "bob@v6.example", "h", resolver)).result == "pass"
    assert (await check_host("::2", "bob@v6.example", "h", resolver)).result == "fail"


async def test_a_result_is_reused_only_within_the_ttl_of_its_answers(dns_server: DnsTestServer,
                                                                      resolver: Resolver) -> None:
    # Records with a TTL: a second message from the same client and sender is not evaluated again.
    dns_server.add("cached.test", "TXT", "v=spf1 include:inner.cached.test -all", ttl=300)
    dns_server.add("inner.cached.test", "TXT", "v=spf1 ip4:192.0.2.7 -all", ttl=300)
    first = await check_host("192.0.2.7", "a@cached.test", "mx.cached.test", resolver)
    asked = len(dns_server.queries)
    again = await check_host("192.0.2.7", "a@cached.test", "mx.cached.test", resolver)
    assert first.result == again.result == "pass" and len(dns_server.queries) == asked
    # Another client address is evaluated on its own.
    assert (await check_host("192.0.2.8", "a@cached.test", "mx.cached.test", resolver)).result == "fail"
    # One answer with TTL 0 among them: nothing is kept, so a changed record counts at once.
    dns_server.add("zero.test", "TXT", "v=spf1 include:inner.zero.test -all", ttl=300)
    dns_server.add("inner.zero.test", "TXT", "v=spf1 ip4:192.0.2.7 -all", ttl=0)
    assert (await check_host("192.0.2.7", "a@zero.test", "mx.zero.test", resolver)).result == "pass"
    dns_server.remove("inner.zero.test", "TXT")
    dns_server.add("inner.zero.test", "TXT", "v=spf1 -all", ttl=0)
    assert (await check_host("192.0.2.7", "a@zero.test", "mx.zero.test", resolver)).result == "fail"
