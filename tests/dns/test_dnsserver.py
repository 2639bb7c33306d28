"""The test DNS server itself answers as a real authoritative server would, over UDP and TCP."""

from __future__ import annotations

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest

from tests.support.dnsserver import DnsTestServer


def ask(server: DnsTestServer, name: str, rtype: str, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rtype)
    if tcp:
        return dns.query.tcp(query, "127.0.0.1", port=server.port, timeout=3)
    return dns.query.udp(query, "127.0.0.1", port=server.port, timeout=3)


@pytest.mark.parametrize("tcp", [False, True])
def test_answers_nxdomain_nodata_and_records(tcp: bool) -> None:
    with DnsTestServer() as server:
        assert server.address == f"127.0.0.1:{server.port}" and server.port > 0
        server.add("Example.COM.", "A", "127.0.0.2")
        server.add("example.com", "MX", "10 mx.example.com.")
        unknown = ask(server, "nowhere.example", "A", tcp)
        assert unknown.rcode() == dns.rcode.NXDOMAIN and not unknown.answer
        nodata = ask(server, "example.com", "TXT", tcp)
        assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer and nodata.authority
        found = ask(server, "EXAMPLE.com", "A", tcp)
        assert [rdata.to_text() for rrset in found.answer for rdata in rrset] == ["127.0.0.2"]
        server.remove("example.com", "A")
        assert not ask(server, "example.com", "A", tcp).answer
        assert ask(server, "example.com", "MX", tcp).answer
        server.remove("example.com")
        assert ask(server, "example.com", "MX", tcp).rcode() == dns.rcode.NXDOMAIN
        server.add("example.com", "A", "127.0.0.2")
        server.servfail("example.com")
        assert ask(server, "example.com", "A", tcp).rcode() == dns.rcode.SERVFAIL
        server.servfail("example.com", False)
        assert ask(server, "example.com", "A", tcp).rcode() == dns.rcode.NOERROR


def test_bad_records_are_refused_and_servers_stop() -> None:
    server = DnsTestServer()
    server.start()
    port = server.port
    with pytest.raises(ValueError):
        server.add("example.com", "A", "not an address")
    server.stop()
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(dns.message.make_query("example.com", "A"), "127.0.0.1", port=port, timeout=0.3)
