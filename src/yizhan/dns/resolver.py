"""DNS lookups for delivery and sender authentication, on dnspython's asyncio resolver.

`Resolver` answers the questions the rest of Yizhan asks: where to deliver for a domain (`mx`, RFC 5321 §5.1 with
null MX per RFC 7505), the addresses of a host (`addresses`), TXT records (`txt`, for SPF, DKIM keys and DMARC) and
raw records of any type (`query`, for the SPF evaluator's A/AAAA/MX/PTR lookups).

Invariants:
- A name that does not exist (NXDOMAIN) or has no record of the type asked (NODATA) gives an empty answer, never an
  exception; a malformed name gives an empty answer too.
- A lookup that cannot be answered now (SERVFAIL from every server, timeout, refused, no server configured) raises
  `yizhan.util.errors.TemporaryFailure`, so callers answer 4xx / temperror and try again later.
- Every lookup is bounded by `timeout` seconds in total.
- Answers are cached for at most their TTL (an LRU of `CACHE_SIZE` entries); TTL 0 is never reused. Conclusions
  drawn from answers (`remember`/`recall`, e.g. SPF results) are kept no longer than the answers they came from.
- Host names in answers are lowercase, without the trailing dot.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdata
import dns.rdatatype
import dns.resolver
import dns.reversename

from yizhan.config.settings import DnsConfig, Settings, parse_nameserver
from yizhan.util.errors import TemporaryFailure

__all__ = ["MxAnswer", "Resolver", "parse_nameserver"]

CACHE_SIZE = 10_000
# How long an empty answer (NXDOMAIN, no record of the type) may be relied on by callers that cache conclusions.
NEGATIVE_TTL = 60


@dataclass(frozen=True)
class MxAnswer:
    """Where mail for a domain goes.

    `hosts` are (preference, host) pairs, lowest preference first (ties in name order; a sender may shuffle ties,
    RFC 5321 §5.1). `null_mx` means the domain accepts no mail (RFC 7505): deliveries to it fail permanently.
    `implicit` means the domain has no MX but has addresses, so the domain itself is the one host (RFC 5321 §5.1).
    Empty `hosts` without `null_mx` means the domain does not exist or has neither MX nor address records.
    """

    hosts: tuple[tuple[int, str], ...]
    null_mx: bool = False
    implicit: bool = False


def _host(name: dns.name.Name | str) -> str:
    return str(name).rstrip(".").lower()


class Resolver:
    """Asynchronous DNS resolver. `nameservers` are "host" or "host:port"; None or [] uses the system's."""

    def __init__(self, nameservers: list[str] | None = None, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self._unconfigured = False
        if nameservers:
            self._resolver = dns.asyncresolver.Resolver(configure=False)
            self._resolver.nameservers = [
                dns.nameserver.Do53Nameserver(host, port) for host, port in map(parse_nameserver, nameservers)
            ]
        else:
            try:
                self._resolver = dns.asyncresolver.Resolver()
            except dns.resolver.NoResolverConfiguration:
                self._resolver = dns.asyncresolver.Resolver(configure=False)
                self._unconfigured = True
        self._resolver.lifetime = timeout
        self._resolver.timeout = timeout
        # Answers are kept for their TTL (bounded in number), so a burst of mail from one domain asks once.
        self._resolver.cache = dns.resolver.LRUCache(CACHE_SIZE)
        self._conclusions: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def recall(self, key: Hashable) -> Any | None:
        """A conclusion drawn from DNS answers (e.g. an SPF result) that `remember` stored and that has not expired."""
        found = self._conclusions.get(key)
        if found is None:
            return None
        expires, value = found
        if expires <= time.monotonic():
            del self._conclusions[key]
            return None
        self._conclusions.move_to_end(key)
        return value

    def remember(self, key: Hashable, value: Any, ttl: float) -> None:
        """Keep `value` for `ttl` seconds: no longer than the shortest TTL of the answers it was drawn from."""
        if ttl <= 0:
            return
        self._conclusions[key] = (time.monotonic() + ttl, value)
        self._conclusions.move_to_end(key)
        while len(self._conclusions) > CACHE_SIZE:
            self._conclusions.popitem(last=False)

    @classmethod
    def from_config(cls, config: DnsConfig) -> Resolver:
        return cls(list(config.nameservers) or None, config.timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> Resolver:
        """The resolver the server uses: `dns.nameservers` from the settings, else the system's."""
        return cls.from_config(settings.dns)

    async def query(self, name: str, rtype: str) -> list[dns.rdata.Rdata]:
        """Raw records of type `rtype` at `name` (CNAMEs followed); [] when none; TemporaryFailure when unknowable."""
        return (await self.query_with_ttl(name, rtype))[0]

    async def query_with_ttl(self, name: str, rtype: str) -> tuple[list[dns.rdata.Rdata], int]:
        """`query`, with how many seconds the answer may be kept: its TTL, or NEGATIVE_TTL for an empty one."""
        if self._unconfigured:
            raise TemporaryFailure("no DNS server is configured (set dns.nameservers)")
        if not name.strip().rstrip("."):
            return [], NEGATIVE_TTL  # the empty name (or the root) holds nothing for mail
        try:
            qname = dns.name.from_text(name.rstrip(".") + ".")
            rdtype = dns.rdatatype.from_text(rtype)
        except (dns.exception.DNSException, ValueError):
            return [], NEGATIVE_TTL
        try:
            answer = await self._resolver.resolve(qname, rdtype, search=False, raise_on_no_answer=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.YXDOMAIN):
            return [], NEGATIVE_TTL
        except dns.resolver.LifetimeTimeout as exc:
            raise TemporaryFailure(f"DNS lookup of {name} {rtype} timed out") from exc
        except dns.resolver.NoNameservers as exc:
            raise TemporaryFailure(f"DNS lookup of {name} {rtype} failed (server failure)") from exc
        except dns.exception.DNSException as exc:
            raise TemporaryFailure(f"DNS lookup of {name} {rtype} failed: {exc}") from exc
        except OSError as exc:
            raise TemporaryFailure(f"DNS lookup of {name} {rtype} failed: {exc.strerror or exc}") from exc
        if answer.rrset is None:
            return [], NEGATIVE_TTL
        # Time left before the (possibly cached) answer expires.
        remaining = int(answer.expiration - time.time()) if answer.expiration else answer.rrset.ttl
        return list(answer.rrset), max(0, min(answer.rrset.ttl, remaining))

    async def mx(self, domain: str) -> MxAnswer:
        """Mail exchangers of `domain`: MX records, null MX (RFC 7505), else the implicit MX (RFC 5321 §5.1)."""
        records = await self.query(domain, "MX")
        pairs = [(int(r.preference), _host(r.exchange)) for r in records]  # type: ignore[attr-defined]
        # RFC 7505 §3: a null MX is one record of preference 0 whose exchange is the root ".". A domain must not
        # mix it with other MX records; when one does, the real hosts are used and the root is skipped.
        real = sorted((p, h) for p, h in pairs if h)
        if pairs and not real:
            return MxAnswer(hosts=(), null_mx=True)
        if real:
            return MxAnswer(hosts=tuple(real))
        if await self.addresses(domain):
            return MxAnswer(hosts=((0, _host(domain)),), implicit=True)
        return MxAnswer(hosts=())

    async def addresses(self, host: str) -> list[str]:
        """IPv4 then IPv6 addresses of `host`. Raises TemporaryFailure only when nothing could be learnt."""
        results = await asyncio.gather(self.query(host, "A"), self.query(host, "AAAA"), return_exceptions=True)
        found: list[str] = []
        failure: BaseException | None = None
        for result in results:
            if isinstance(result, BaseException):
                if not isinstance(result, TemporaryFailure):
                    raise result
                failure = result
            else:
                found.extend(r.address for r in result)  # type: ignore[attr-defined]
        if failure is not None and not found:
            raise failure
        return found

    async def txt(self, name: str) -> list[str]:
        """TXT records of `name`, each record's strings joined (RFC 7208 §3.3), decoded as UTF-8."""
        records = await self.query(name, "TXT")
        return [b"".join(r.strings).decode("utf-8", "replace") for r in records]  # type: ignore[attr-defined]

    async def ptr(self, ip: str) -> list[str]:
        """Names of an IP address (PTR), e.g. for the Received header."""
        try:
            name = dns.reversename.from_address(ip)
        except (dns.exception.DNSException, ValueError):
            return []
        return [_host(r.target) for r in await self.query(str(name), "PTR")]  # type: ignore[attr-defined]
