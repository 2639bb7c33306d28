"""SPF: is the connecting IP allowed to send for the MAIL FROM domain? RFC 7208 `check_host()` via pyspf.

pyspf evaluates the record (mechanisms, macros, include/redirect, the 10-lookup and 2-void-lookup limits of
RFC 7208 §4.6.4); its DNS lookups are routed through our `Resolver` (the configured name servers) by overriding
`spf.query.dns`, since pyspf's own lookups go to the system resolver. It runs in a worker thread.

Identity (RFC 7208 §2.4): the MAIL FROM address; with a null reverse-path, "postmaster@<HELO>" (the HELO identity).

Invariants: `check_host` never raises. Results are the RFC 7208 §2.6 words: none, neutral, pass, fail, softfail,
temperror, permerror. DNS that cannot answer now gives temperror; malformed input gives permerror or none.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

import spf

from yizhan.authn.bridge import BlockingLookups, run_blocking
from yizhan.dns.resolver import Resolver
from yizhan.util.errors import TemporaryFailure

log = logging.getLogger(__name__)

RESULTS = ("none", "neutral", "pass", "fail", "softfail", "temperror", "permerror")
# pyspf uses the RFC 4408 spellings for two of them.
_RENAMED = {"error": "temperror", "unknown": "permerror", "ambiguous": "permerror"}
_MAX_LABEL = 63


@dataclass(frozen=True)
class SpfResult:
    """The outcome for one identity: `result` is an RFC 7208 §2.6 word; `identity` is "mailfrom" or "helo"."""

    result: str
    identity: str
    sender: str  # the address checked: the MAIL FROM, or postmaster@HELO
    domain: str  # the domain whose policy was evaluated ("" when there was none to evaluate)
    explanation: str = ""


class _Query(spf.query):
    """pyspf's evaluator with its DNS answered by our resolver (pyspf's `dns` rewritten for that)."""

    lookups_bridge: BlockingLookups

    def dns(self, name: Any, qtype: str, cnames: Any = None, ignore_void: bool = False) -> list[Any]:
        if not name:
            raise spf.PermError("empty domain name in a lookup")
        host = str(name).rstrip(".").lower()
        if not all(0 < len(label) <= _MAX_LABEL for label in host.split(".")):
            return []  # not a valid DNS name: nothing there (as pyspf does)
        key = (host, qtype)
        if key in self.cache:
            result: list[Any] = self.cache[key]
        else:
            result = self._lookup(host, qtype)
            self.cache[key] = result
        # RFC 7208 §4.6.4: more than two lookups answering nothing is a permerror.
        if not result and not ignore_void:
            self.void_lookups += 1
            if self.void_lookups > spf.MAX_VOID_LOOKUPS:
                raise spf.PermError(f"void lookup limit of {spf.MAX_VOID_LOOKUPS} exceeded")
        return result

    def _lookup(self, host: str, qtype: str) -> list[Any]:
        try:
            records = self.lookups_bridge.query(host, qtype)
        except TemporaryFailure as exc:
            raise spf.TempError(str(exc)) from exc
        if qtype in ("A", "AAAA"):
            return [r.address for r in records]
        if qtype == "MX":
            return [(int(r.preference), str(r.exchange).rstrip(".")) for r in records]
        if qtype == "PTR":
            return [r.target.to_text(True) for r in records]
        if qtype in ("TXT", "SPF"):
            return [tuple(r.strings) for r in records]
        return []


def _check(ip: str, sender: str, helo: str, bridge: BlockingLookups) -> tuple[str, str]:
    query = _Query(i=ip, s=sender, h=helo, strict=True)
    query.lookups_bridge = bridge
    result, _code, explanation = query.check()
    return _RENAMED.get(result, result), str(explanation or "")


# The longest an SPF result is reused, whatever the TTLs (seconds).
MAX_REMEMBERED = 300


async def check_host(ip: str, mail_from: str, helo: str, resolver: Resolver, deadline: float = 20.0) -> SpfResult:
    """Evaluate SPF for a message from `ip` with envelope sender `mail_from` ("" for the null path) after `helo`."""
    mail_from = mail_from.strip().strip("<>")
    helo = helo.strip().rstrip(".").lower()
    if mail_from:
        identity, sender = "mailfrom", mail_from
        domain = mail_from.rpartition("@")[2].rstrip(".").lower()
    else:
        identity, sender, domain = "helo", f"postmaster@{helo}", helo
    if not domain or "." not in domain or domain.startswith("["):
        # An address literal or a bare word has no SPF policy to look up (RFC 7208 §4.3).
        return SpfResult("none", identity, sender, "", "no domain to check")
    try:
        address = ipaddress.ip_address(ip.strip().strip("[]"))
    except ValueError:
        return SpfResult("permerror", identity, sender, domain, "not an IP address")
    # A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; SPF's ip4: mechanisms must see them as IPv4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    ip = str(address)
    # The same client, sender and HELO within the TTL of every DNS answer the evaluation used get the same result
    # (a burst of mail from one sender is evaluated once).
    key = ("spf", ip, sender, helo or domain)
    remembered = resolver.recall(key)
    if remembered is not None:
        result, explanation = remembered
        return SpfResult(result, identity, sender, domain, explanation)
    bridge = BlockingLookups(resolver, asyncio.get_running_loop(), deadline=deadline)
    try:
        result, explanation = await run_blocking(_check, ip, sender, helo or domain, bridge)
        if result in RESULTS and result not in ("temperror", "permerror"):
            resolver.remember(key, (result, explanation), min(bridge.min_ttl, MAX_REMEMBERED))
    except TemporaryFailure as exc:
        return SpfResult("temperror", identity, sender, domain, str(exc))
    except Exception as exc:  # pyspf raises assorted errors on hostile input; bad input must never crash us
        log.info("SPF evaluation for %s from %s failed: %r", domain, ip, exc)
        return SpfResult("permerror", identity, sender, domain, "the SPF check could not be evaluated")
    if result not in RESULTS:
        result = "permerror"
    return SpfResult(result, identity, sender, domain, explanation)
