"""DMARC (RFC 7489): does an aligned SPF or DKIM pass vouch for the domain in From, and what does its owner ask?

Steps: the RFC 5322.From domain (exactly one address, §6.6.1); the policy record at `_dmarc.<from domain>`, else at
`_dmarc.<organizational domain>` (§6.6.3; the organizational domain comes from the Public Suffix List via
publicsuffix2, §3.2), whose `sp=` then applies; identifier alignment of the SPF-authenticated domain and each
passing DKIM d= (relaxed: same organizational domain; strict: the same name; §3.1); result pass when either aligns.
A failing message gets the policy (p/sp), sampled by pct= (§6.6.4: not sampled means one step milder).

Invariants: nothing here raises on any input. DNS that cannot answer now gives temperror; a From that is missing,
repeated or has no domain gives permerror; no policy record gives none.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import publicsuffix2

from yizhan.authn.dkim import DkimResult
from yizhan.authn.spf import MAX_REMEMBERED, SpfResult
from yizhan.dns.resolver import Resolver
from yizhan.mail.addresses import parse_address_list, split_address
from yizhan.mail.charsets import fix_8bit
from yizhan.util.errors import TemporaryFailure

POLICIES = ("none", "quarantine", "reject")
_MAX_HEADER_BLOCK = 256 * 1024
_TAG = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", re.DOTALL)


@dataclass(frozen=True)
class DmarcRecord:
    """A parsed policy record (RFC 7489 §6.3); `domain` is where it was found."""

    domain: str
    p: str
    sp: str
    pct: int = 100
    adkim: str = "r"
    aspf: str = "r"
    rua: tuple[str, ...] = ()


@dataclass(frozen=True)
class DmarcResult:
    """`result`: pass, fail, none, temperror or permerror. `policy` is the policy that applies to this From domain
    ("" when there is no record); `disposition` what to do after pct sampling (none, quarantine, reject)."""

    result: str
    from_domain: str
    policy: str = ""
    disposition: str = "none"
    record_domain: str = ""
    spf_aligned: bool = False
    dkim_aligned: bool = False
    reason: str = ""


@functools.lru_cache(maxsize=4096)
def a_label(domain: str) -> str:
    """The domain in ASCII (IDNA A-labels), lowercase, without the final dot; unconvertible names are kept as given,
    so internationalised names compare equal whichever form each side uses (RFC 8616 §4)."""
    name = domain.strip().rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


@functools.lru_cache(maxsize=4096)
def organizational_domain(domain: str) -> str:
    """The registrable domain (RFC 7489 §3.2): sub.example.co.uk → example.co.uk."""
    name = a_label(domain)
    if not name:
        return ""
    try:
        found = publicsuffix2.get_sld(name)
    except Exception:  # publicsuffix2 on odd input; fall back to the name itself
        return name
    return str(found or name)


def aligned(domain: str, authenticated: str, mode: str) -> bool:
    """Identifier alignment (RFC 7489 §3.1): strict is the same name, relaxed the same organizational domain."""
    a, b = a_label(domain), a_label(authenticated)
    if not a or not b:
        return False
    if mode == "s":
        return a == b
    return organizational_domain(a) == organizational_domain(b)


def parse_record(text: str, domain: str) -> DmarcRecord | None:
    """A DMARC record, or None when `text` is not one (RFC 7489 §6.3: v=DMARC1 first, p= required)."""
    parts = text.split(";")
    first = _TAG.match(parts[0])
    if not first or first.group(1).lower() != "v" or first.group(2) != "DMARC1":
        return None
    tags: dict[str, str] = {}
    for part in parts[1:]:
        match = _TAG.match(part)
        if match:
            tags.setdefault(match.group(1).lower(), match.group(2))
    p = tags.get("p", "").lower()
    rua = tuple(u.strip() for u in tags.get("rua", "").split(",") if u.strip())
    if p not in POLICIES:
        # §6.6.3: a record with a bad or missing p= but a valid rua= is treated as p=none; otherwise it is ignored.
        if not rua:
            return None
        p = "none"
    sp = tags.get("sp", "").lower()
    sp = sp if sp in POLICIES else p
    try:
        pct = min(100, max(0, int(tags.get("pct", "100"))))
    except ValueError:
        pct = 100
    adkim = "s" if tags.get("adkim", "r").lower() == "s" else "r"
    aspf = "s" if tags.get("aspf", "r").lower() == "s" else "r"
    return DmarcRecord(domain=domain, p=p, sp=sp, pct=pct, adkim=adkim, aspf=aspf, rua=rua)


async def _record_at(domain: str, resolver: Resolver) -> DmarcRecord | None:
    # A published policy is reused within the TTL of the answer it came from, at most 5 minutes, as SPF results
    # are (authn/spf.py): a burst of mail from one domain parses its record once. An empty answer is not kept
    # here (the resolver's own cache applies), so a record published a moment ago counts at once.
    key = ("dmarc", domain.lower())
    remembered = resolver.recall(key)
    if remembered is not None:
        return remembered[0]
    rdatas, ttl = await resolver.query_with_ttl(f"_dmarc.{domain}", "TXT")
    texts = [b"".join(r.strings).decode("utf-8", "replace") for r in rdatas]  # type: ignore[attr-defined]
    records = [r for r in (parse_record(t, domain) for t in texts) if r is not None]
    # §6.6.3: more than one record means no policy is found.
    record = records[0] if len(records) == 1 else None
    if texts:
        resolver.remember(key, (record,), min(ttl, MAX_REMEMBERED))
    return record


async def find_policy(from_domain: str, resolver: Resolver) -> DmarcRecord | None:
    """The record for `from_domain` or, failing that, its organizational domain's. Raises TemporaryFailure."""
    record = await _record_at(from_domain, resolver)
    if record is not None:
        return record
    org = organizational_domain(from_domain)
    if org and org != from_domain:
        return await _record_at(org, resolver)
    return None


_FOLDING = re.compile(r"\r?\n[ \t]")
_FROM_NAME = re.compile(r"from[ \t]*:", re.IGNORECASE)


def header_from_domain(raw: bytes) -> tuple[str | None, str]:
    """The domain of the single From address, or (None, why not) (RFC 7489 §6.6.1)."""
    end = raw.find(b"\r\n\r\n")
    alt = raw.find(b"\n\n")
    ends = [e for e in (end, alt) if e >= 0]
    block = raw[: min(ends) if ends else len(raw)][:_MAX_HEADER_BLOCK]
    text = fix_8bit(block.decode("utf-8", "surrogateescape"))
    unfolded = _FOLDING.sub(" ", text)
    values = [line.split(":", 1)[1] for line in unfolded.splitlines()
              if line[:4].lower() == "from" and _FROM_NAME.match(line)]
    if len(values) != 1:
        return None, "no From header" if not values else "several From headers"
    addresses = [a.addr for a in parse_address_list(values[0]) if a.addr]
    if len(addresses) != 1:
        return None, "From must hold exactly one address"
    domain = a_label(split_address(addresses[0])[1])
    if not domain or domain.startswith("["):
        return None, "From address has no domain"
    return domain, ""


def _disposition(policy: str, pct: int, sample: Callable[[], float]) -> str:
    if pct >= 100 or sample() * 100 < pct:
        return policy
    # §6.6.4: a message not sampled gets the next milder policy.
    return {"reject": "quarantine", "quarantine": "none"}.get(policy, "none")


async def evaluate(raw: bytes, spf: SpfResult, dkim: list[DkimResult], resolver: Resolver,
                   sample: Callable[[], float] = random.random) -> DmarcResult:
    """The DMARC result for a message whose SPF and DKIM results are known. Never raises."""
    from_domain, why = header_from_domain(raw)
    if from_domain is None:
        return DmarcResult("permerror", "", reason=why)
    try:
        record = await find_policy(from_domain, resolver)
    except TemporaryFailure as exc:
        return DmarcResult("temperror", from_domain, reason=str(exc))
    if record is None:
        return DmarcResult("none", from_domain)
    policy = record.p if record.domain == from_domain else record.sp
    spf_ok = spf.result == "pass" and aligned(from_domain, spf.domain, record.aspf)
    dkim_ok = any(d.result == "pass" and aligned(from_domain, d.domain, record.adkim) for d in dkim)
    if spf_ok or dkim_ok:
        return DmarcResult("pass", from_domain, policy, "none", record.domain, spf_ok, dkim_ok)
    # §6.6.2: an aligned check that could not be done now is not a failure; never act on a passing DNS outage.
    if (spf.result == "temperror" and aligned(from_domain, spf.domain, record.aspf)) or any(
            d.result == "temperror" and aligned(from_domain, d.domain, record.adkim) for d in dkim):
        return DmarcResult("temperror", from_domain, policy, "none", record.domain,
                           reason="an aligned SPF or DKIM check failed temporarily")
    return DmarcResult("fail", from_domain, policy, _disposition(policy, record.pct, sample), record.domain,
                       reason="no aligned SPF or DKIM pass")
