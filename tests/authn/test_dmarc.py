"""DMARC (RFC 7489) and the whole inbound evaluation, against the project's DNS server: aligned DKIM, aligned SPF,
p=reject on failure, the organizational-domain fallback, and a well-formed Authentication-Results field."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from tests.mail.malformed import malformed_corpus
from tests.mailfactory import make_message
from tests.support.dnsserver import DnsTestServer
from yizhan.authn.dkim import generate_key, sign, txt_record
from yizhan.authn.dmarc import aligned, header_from_domain, organizational_domain, parse_record
from yizhan.authn.inbound import InboundVerdict, evaluate, remove_forged_results
from yizhan.dns.resolver import Resolver


@pytest.fixture(scope="module")
def key() -> tuple[bytes, str]:
    return generate_key(1024)


@pytest.fixture
def resolver(dns_server: DnsTestServer) -> Resolver:
    return Resolver([dns_server.address], timeout=2.0)


async def check(raw: bytes, resolver: Resolver, mail_from: str = "bounce@mailer.example",
                ip: str = "127.0.0.1") -> InboundVerdict:
    return await evaluate(raw, client_ip=ip, helo="client.example", mail_from=mail_from, resolver=resolver,
                          authserv_id="mx.yizhan.test")


async def test_pass_via_aligned_dkim(dns_server: DnsTestServer, resolver: Resolver, key: tuple[bytes, str]) -> None:
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=reject")
    dns_server.add("sel._domainkey.mail.example.org", "TXT", txt_record(key[1]))
    raw = make_message(sender="Bob <bob@example.org>")
    # Signed by a subdomain: aligned under relaxed mode. SPF is for an unrelated envelope domain (not aligned).
    verdict = await check(sign(raw, "mail.example.org", "sel", key[0]) + raw, resolver)
    assert verdict.dkim[0].result == "pass"
    assert (verdict.dmarc.result, verdict.dmarc.dkim_aligned, verdict.dmarc.spf_aligned) == ("pass", True, False)
    assert not verdict.dmarc_reject
    assert "dmarc=pass (p=reject dis=none) header.from=example.org" in verdict.authentication_results


async def test_strict_dkim_alignment_rejects_subdomain(dns_server: DnsTestServer, resolver: Resolver,
                                                       key: tuple[bytes, str]) -> None:
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=reject; adkim=s")
    dns_server.add("sel._domainkey.mail.example.org", "TXT", txt_record(key[1]))
    raw = make_message(sender="bob@example.org")
    verdict = await check(sign(raw, "mail.example.org", "sel", key[0]) + raw, resolver)
    assert verdict.dkim[0].result == "pass" and verdict.dmarc.result == "fail" and verdict.dmarc_reject


async def test_pass_via_aligned_spf(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=quarantine")
    dns_server.add("bounces.example.org", "TXT", "v=spf1 ip4:127.0.0.1 -all")
    verdict = await check(make_message(sender="bob@example.org"), resolver, mail_from="b@bounces.example.org")
    assert verdict.spf.result == "pass"
    assert (verdict.dmarc.result, verdict.dmarc.spf_aligned) == ("pass", True)
    assert not verdict.dmarc_quarantine


async def test_fail_with_reject_policy(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=reject; rua=mailto:dmarc@example.org")
    dns_server.add("example.org", "TXT", "v=spf1 ip4:127.0.0.99 -all")
    verdict = await check(make_message(sender="bob@example.org"), resolver, mail_from="bob@example.org")
    assert verdict.spf.result == "fail" and verdict.dkim == ()
    assert (verdict.dmarc.result, verdict.dmarc.policy, verdict.dmarc.disposition) == ("fail", "reject", "reject")
    assert verdict.dmarc_reject
    assert verdict.rejection_reason == ("DMARC policy of example.org rejects mail that fails authentication "
                                        "(SPF fail for example.org, DKIM none)")


async def test_quarantine_and_none_policies(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=quarantine")
    verdict = await check(make_message(sender="bob@example.org"), resolver)
    assert verdict.dmarc.result == "fail" and verdict.dmarc_quarantine and not verdict.dmarc_reject
    dns_server.remove("_dmarc.example.org")
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=none")
    verdict = await check(make_message(sender="bob@example.org"), resolver)
    assert verdict.dmarc.result == "fail" and not verdict.dmarc_quarantine and not verdict.dmarc_reject


async def test_pct_zero_softens_reject(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=reject; pct=0")
    verdict = await check(make_message(sender="bob@example.org"), resolver)
    assert verdict.dmarc.result == "fail" and verdict.dmarc.disposition == "quarantine" and not verdict.dmarc_reject


async def test_organizational_domain_policy(dns_server: DnsTestServer, resolver: Resolver) -> None:
    # No record at _dmarc.sub.example.org: the one of example.org applies, with its sp= for subdomains.
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=none; sp=reject")
    verdict = await check(make_message(sender="bob@sub.example.org"), resolver)
    assert (verdict.dmarc.result, verdict.dmarc.record_domain, verdict.dmarc.policy) == ("fail", "example.org",
                                                                                        "reject")
    assert verdict.dmarc_reject
    assert ("_dmarc.sub.example.org", "TXT") in dns_server.queries


async def test_no_policy_is_none(resolver: Resolver) -> None:
    verdict = await check(make_message(sender="bob@example.org"), resolver)
    assert verdict.dmarc.result == "none" and not verdict.dmarc_reject
    assert "dmarc=none header.from=example.org" in verdict.authentication_results


async def test_dns_failure_is_temperror_never_reject(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=reject")
    dns_server.servfail("_dmarc.example.org")
    verdict = await check(make_message(sender="bob@example.org"), resolver)
    assert verdict.dmarc.result == "temperror" and not verdict.dmarc_reject


@pytest.mark.parametrize("raw", [
    b"",
    b"no headers at all",
    b"From: a@example.org\r\nFrom: b@example.org\r\n\r\nx",
    b"From: a@example.org, b@example.org\r\n\r\nx",
    b"From: undisclosed\r\n\r\nx",
    b"\xff\xfe\x00From: \xe4\xb8\xad <\xff@\xff>\r\n\r\n",
])
async def test_malformed_from_is_permerror_not_a_crash(resolver: Resolver, raw: bytes) -> None:
    verdict = await check(raw, resolver)
    assert verdict.dmarc.result == "permerror" and not verdict.dmarc_reject
    assert verdict.authentication_results.endswith("\r\n")


async def test_authentication_results_is_well_formed(dns_server: DnsTestServer, resolver: Resolver,
                                                     key: tuple[bytes, str]) -> None:
    dns_server.add("example.org", "TXT", "v=spf1 ip4:127.0.0.1 -all")
    dns_server.add("sel._domainkey.example.org", "TXT", txt_record(key[1]))
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=reject")
    raw = make_message(sender="Bob <bob@example.org>")
    verdict = await check(sign(raw, "example.org", "sel", key[0]) + raw, resolver, mail_from="bob@example.org")
    header = verdict.authentication_results
    assert header.startswith("Authentication-Results: mx.yizhan.test;\r\n\t") and header.endswith("\r\n")
    assert all(line.startswith("\t") for line in header.split("\r\n")[1:-1])
    # A mail parser reads it back as one field with the three results.
    parsed = email.message_from_bytes(header.encode() + raw, policy=email.policy.default)
    value = " ".join(str(parsed["Authentication-Results"]).split())
    assert value.startswith("mx.yizhan.test; spf=pass smtp.mailfrom=bob@example.org; dkim=pass header.d=example.org "
                            "header.s=sel header.b=")
    assert value.endswith("; dmarc=pass (p=reject dis=none) header.from=example.org")


async def test_hostile_envelope_cannot_inject_lines(resolver: Resolver) -> None:
    verdict = await evaluate(make_message(sender="bob@example.org"), client_ip="127.0.0.1", helo="x",
                             mail_from='evil"\r\nX-Injected: 1@example.org', resolver=resolver,
                             authserv_id="mx\r\nX-Bad: 1")
    header = verdict.authentication_results
    assert "\r\nX-" not in header and header.count("\r\n") == 4
    assert re.search(r'smtp\.mailfrom="evil\\"X-Injected: 1@example.org"', header)


def test_remove_forged_results() -> None:
    raw = (b"Authentication-Results: mx.yizhan.test; dmarc=pass\r\n"
           b"Authentication-Results: other.example; spf=pass\r\n"
           b"Subject: x\r\nauthentication-results: MX.YIZHAN.TEST;\r\n\tdkim=pass\r\n\r\n"
           b"Authentication-Results: mx.yizhan.test; in the body\r\n")
    cleaned = remove_forged_results(raw, "mx.yizhan.test")
    assert cleaned == (b"Authentication-Results: other.example; spf=pass\r\nSubject: x\r\n\r\n"
                       b"Authentication-Results: mx.yizhan.test; in the body\r\n")


def test_record_parsing_and_alignment() -> None:
    record = parse_record("v=DMARC1; p=Reject; sp=none; pct=50; adkim=s; rua=mailto:a@x.example", "x.example")
    assert record is not None and (record.p, record.sp, record.pct, record.adkim, record.aspf) == (
        "reject", "none", 50, "s", "r")
    assert parse_record("v=spf1 -all", "x") is None
    assert parse_record("v=DMARC1; p=bogus", "x") is None
    fallback = parse_record("v=DMARC1; rua=mailto:a@x.example", "x")
    assert fallback is not None and fallback.p == "none"
    assert organizational_domain("a.b.example.co.uk") == "example.co.uk"
    assert aligned("example.org", "mail.example.org", "r") and not aligned("example.org", "mail.example.org", "s")
    assert not aligned("example.org", "example.net", "r")
    assert header_from_domain(b"From: =?utf-8?q?B=C3=B6b?= <bob@Example.ORG>\r\n\r\n") == ("example.org", "")


async def test_aligned_spf_temperror_is_not_a_failure(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=reject")
    dns_server.add("example.org", "TXT", "v=spf1 include:broken.example.org -all")
    dns_server.add("broken.example.org", "TXT", "v=spf1 -all")
    dns_server.servfail("broken.example.org")
    verdict = await check(make_message(sender="bob@example.org"), resolver, mail_from="bob@example.org")
    assert verdict.spf.result == "temperror"
    assert verdict.dmarc.result == "temperror" and not verdict.dmarc_reject


async def test_malformed_corpus_never_raises(dns_server: DnsTestServer, resolver: Resolver) -> None:
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=reject")
    for name, raw in malformed_corpus().items():
        for candidate in (raw, b"DKIM-Signature: v=1; d=example.org; s=x; b=; bh=\r\n" + raw):
            verdict = await check(candidate, resolver)
            header = verdict.authentication_results
            assert header.startswith("Authentication-Results: mx.yizhan.test;") and header.endswith("\r\n"), name
            assert "\n" not in header.replace("\r\n\t", "").rstrip("\r\n"), name


async def test_many_signatures_are_bounded(dns_server: DnsTestServer, resolver: Resolver,
                                           key: tuple[bytes, str]) -> None:
    dns_server.add("sel._domainkey.example.org", "TXT", txt_record(key[1]))
    raw = make_message(sender="bob@example.org")
    signature = sign(raw, "example.org", "sel", key[0])
    verdict = await check(signature * 40 + raw, resolver)
    assert [d.result for d in verdict.dkim] == ["pass"] * 5


async def test_spf_lookup_limit_is_permerror(dns_server: DnsTestServer, resolver: Resolver) -> None:
    # RFC 7208 §4.6.4: more than 10 mechanisms that need DNS is a permerror, however the chain is built.
    dns_server.add("example.org", "TXT", "v=spf1 " + " ".join(f"include:i{n}.example.org" for n in range(12))
                   + " -all")
    for n in range(12):
        dns_server.add(f"i{n}.example.org", "TXT", "v=spf1 ip4:10.0.0.1 -all")
    verdict = await check(make_message(sender="bob@example.org"), resolver, mail_from="bob@example.org")
    assert verdict.spf.result == "permerror"
    assert len([q for q in dns_server.queries if q[0].startswith("i")]) <= 10


async def test_internationalised_domain_aligns(dns_server: DnsTestServer, resolver: Resolver,
                                               key: tuple[bytes, str]) -> None:
    # The From header holds U-labels, the DKIM d= and DNS hold A-labels: they are the same domain.
    dns_server.add("_dmarc.xn--fsqu00a.xn--fiqs8s", "TXT", "v=DMARC1; p=reject")
    dns_server.add("sel._domainkey.xn--fsqu00a.xn--fiqs8s", "TXT", txt_record(key[1]))
    raw = "From: 张三 <zhang@例子.中国>\r\nSubject: 你好\r\n\r\nhi\r\n".encode()
    verdict = await check(sign(raw, "xn--fsqu00a.xn--fiqs8s", "sel", key[0]) + raw, resolver)
    assert verdict.dkim[0].result == "pass"
    assert (verdict.dmarc.result, verdict.dmarc.from_domain) == ("pass", "xn--fsqu00a.xn--fiqs8s")
    assert not verdict.dmarc_reject


async def test_a_policy_is_reused_only_within_the_ttl_of_its_record(dns_server: DnsTestServer,
                                                                    resolver: Resolver) -> None:
    # A record with a TTL: the next message from that domain does not ask for it again.
    dns_server.add("_dmarc.kept.test", "TXT", "v=DMARC1; p=reject", ttl=300)
    first = await check(make_message(sender="bob@kept.test"), resolver)
    asked = [q for q in dns_server.queries if "_dmarc.kept.test" in str(q)]
    again = await check(make_message(sender="bob@kept.test"), resolver)
    assert first.dmarc_reject and again.dmarc_reject and asked
    assert [q for q in dns_server.queries if "_dmarc.kept.test" in str(q)] == asked
    # TTL 0: nothing is kept, so a changed policy counts at once.
    dns_server.add("_dmarc.fresh.test", "TXT", "v=DMARC1; p=reject", ttl=0)
    assert (await check(make_message(sender="bob@fresh.test"), resolver)).dmarc_reject
    dns_server.remove("_dmarc.fresh.test")
    dns_server.add("_dmarc.fresh.test", "TXT", "v=DMARC1; p=none", ttl=0)
    verdict = await check(make_message(sender="bob@fresh.test"), resolver)
    assert verdict.dmarc.result == "fail" and not verdict.dmarc_reject and not verdict.dmarc_quarantine
