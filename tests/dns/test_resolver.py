"""The resolver against the project's real DNS server on loopback: MX rules of RFC 5321 §5.1 and RFC 7505, addresses,
TXT joining, and the difference between "no such record" (empty) and "cannot know now" (TemporaryFailure)."""

from __future__ import annotations

import socket

import pytest
from dns.message import make_query
from dns.query import tcp as tcp_query

from tests.support.dnsserver import DnsTestServer
from yizhan.config.settings import ConfigError, load_settings
from yizhan.dns.resolver import MxAnswer, Resolver, parse_nameserver
from yizhan.util.errors import TemporaryFailure


@pytest.fixture
def resolver(dns_server: DnsTestServer) -> Resolver:
    return Resolver([dns_server.address], timeout=3.0)


async def test_mx_sorted_by_preference(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("example.com", "MX", "20 backup.example.com.")
    dns_server.add("example.com", "MX", "10 MX1.Example.com.")
    dns_server.add("example.com", "MX", "30 third.example.net.")
    answer = await resolver.mx("example.com")
    assert answer == MxAnswer(hosts=((10, "mx1.example.com"), (20, "backup.example.com"),
                                     (30, "third.example.net")))


async def test_null_mx_means_no_mail(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("nomail.example", "MX", "0 .")
    dns_server.add("nomail.example", "A", "127.0.0.5")
    answer = await resolver.mx("nomail.example")
    assert answer.null_mx and answer.hosts == () and not answer.implicit


async def test_implicit_mx_when_only_addresses(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("plain.example", "A", "127.0.0.7")
    answer = await resolver.mx("plain.example")
    assert answer == MxAnswer(hosts=((0, "plain.example"),), implicit=True)


async def test_nxdomain_and_nodata_are_empty(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("exists.example", "TXT", "hello")
    assert await resolver.mx("nowhere.example") == MxAnswer(hosts=())
    assert await resolver.mx("exists.example") == MxAnswer(hosts=())
    assert await resolver.addresses("nowhere.example") == []
    assert await resolver.txt("nowhere.example") == []
    assert await resolver.txt("") == []
    assert await resolver.txt("bad..name") == []
    assert await resolver.mx("") == MxAnswer(hosts=()) and await resolver.mx(".") == MxAnswer(hosts=())
    assert await resolver.addresses("x" * 300) == []


async def test_addresses_v4_and_v6(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("mx.example.com", "A", "127.0.0.2")
    dns_server.add("mx.example.com", "AAAA", "::1")
    assert await resolver.addresses("mx.example.com") == ["127.0.0.2", "::1"]


async def test_cname_followed(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("alias.example.com", "CNAME", "real.example.com")
    dns_server.add("real.example.com", "A", "127.0.0.9")
    assert await resolver.addresses("alias.example.com") == ["127.0.0.9"]


async def test_long_txt_split_and_joined(dns_server: DnsTestServer, resolver: Resolver) -> None:
    value = "v=DKIM1; k=rsa; p=" + "A" * 600
    dns_server.add("sel._domainkey.example.com", "TXT", value)
    dns_server.add("sel._domainkey.example.com", "TXT", "second")
    # The zone really holds several strings of at most 255 bytes (asked over TCP, where the whole record fits).
    response = tcp_query(make_query("sel._domainkey.example.com", "TXT"), "127.0.0.1", port=dns_server.port,
                         timeout=3)
    strings = [s for rrset in response.answer for rdata in rrset for s in rdata.strings]
    assert max(len(s) for s in strings) == 255 and len(strings) == 4
    assert sorted(await resolver.txt("sel._domainkey.example.com")) == sorted([value, "second"])


async def test_records_change_at_runtime(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("example.com", "TXT", "v=spf1 -all")
    assert await resolver.txt("example.com") == ["v=spf1 -all"]
    dns_server.remove("example.com", "TXT")
    assert await resolver.txt("example.com") == []


async def test_servfail_is_temporary(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("broken.example", "MX", "10 mx.broken.example.")
    dns_server.servfail("broken.example")
    with pytest.raises(TemporaryFailure):
        await resolver.mx("broken.example")
    with pytest.raises(TemporaryFailure):
        await resolver.txt("broken.example")


async def test_silent_server_times_out_as_temporary() -> None:
    # A UDP socket that never answers: the lookup must end within the timeout as a temporary failure.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        resolver = Resolver([f"127.0.0.1:{silent.getsockname()[1]}"], timeout=0.5)
        with pytest.raises(TemporaryFailure):
            await resolver.txt("example.com")


def test_parse_nameserver() -> None:
    assert parse_nameserver("127.0.0.1") == ("127.0.0.1", 53)
    assert parse_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_nameserver("::1") == ("::1", 53)
    assert parse_nameserver("[::1]:5353") == ("::1", 5353)
    for bad in ("dns.google", "127.0.0.1:0", "127.0.0.1:x", "[::1"):
        with pytest.raises(ValueError):
            parse_nameserver(bad)


def test_settings_choose_the_name_servers(dns_server: DnsTestServer) -> None:
    settings = load_settings(None, environ={"YIZHAN_DNS__NAMESERVERS": f"{dns_server.address}, ::1"})
    assert settings.dns.nameservers == [dns_server.address, "::1"]
    resolver = Resolver.from_settings(load_settings(None, environ={}, overrides={
        "dns": {"nameservers": [dns_server.address], "timeout": 1.5}}))
    assert resolver.timeout == 1.5
    with pytest.raises(ConfigError, match=r"dns\.nameservers"):
        load_settings(None, environ={}, overrides={"dns": {"nameservers": ["dns.example.com"]}})


async def test_resolver_from_settings_uses_the_test_server(dns_server: DnsTestServer) -> None:
    dns_server.add("example.com", "MX", "5 mx.example.com.")
    resolver = Resolver.from_settings(load_settings(None, environ={}, overrides={
        "dns": {"nameservers": [dns_server.address]}}))
    assert (await resolver.mx("example.com")).hosts == ((5, "mx.example.com"),)


async def test_large_answer_falls_back_to_tcp(dns_server: DnsTestServer, resolver: Resolver) -> None:
    values = [f"record {i} " + "x" * 400 for i in range(5)]  # about 2 KB: more than a UDP answer may carry
    for value in values:
        dns_server.add("big.example", "TXT", value)
    assert sorted(await resolver.txt("big.example")) == sorted(values)
    assert ("big.example", "TXT") in dns_server.tcp_queries


async def test_nothing_cached_across_changes(dns_server: DnsTestServer, resolver: Resolver) -> None:
    # Negative answers too: a record added after a "no such name" is seen at once by the same resolver.
    assert await resolver.txt("later.example") == []
    assert await resolver.mx("later.example") == MxAnswer(hosts=())
    dns_server.add("later.example", "A", "127.0.0.1")
    assert await resolver.txt("later.example") == []
    dns_server.add("later.example", "TXT", "now")
    dns_server.add("later.example", "MX", "1 mx.later.example.")
    assert await resolver.txt("later.example") == ["now"]
    assert (await resolver.mx("later.example")).hosts == ((1, "mx.later.example"),)


async def test_ptr(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("5.0.0.127.in-addr.arpa", "PTR", "Client.Example.")
    assert await resolver.ptr("127.0.0.5") == ["client.example"]
    assert await resolver.ptr("127.0.0.6") == []
    assert await resolver.ptr("not an address") == []
