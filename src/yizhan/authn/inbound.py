"""The checks of an incoming message, as the SMTP server runs them after DATA: SPF, DKIM, then DMARC, summed up in
an Authentication-Results header (RFC 8601) and a verdict (does the sender's DMARC policy ask us to reject it?).

    verdict = await evaluate(raw, client_ip=..., helo=..., mail_from=..., resolver=..., authserv_id=hostname)
    if verdict.dmarc_reject and settings say to honour it: reply 550 5.7.1
    else: store verdict.authentication_results + Received: + raw (after remove_forged_results)

Invariants: `evaluate` never raises on any message or any DNS answer: unparseable mail gets dkim=permerror or none and
dmarc=permerror, DNS that cannot answer gets temperror. The header is one complete field, folded, ending in CRLF,
with every value quoted or sanitised so no input can inject a line break or a forged result.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from yizhan.authn import dkim as dkim_mod
from yizhan.authn import dmarc as dmarc_mod
from yizhan.authn import spf as spf_mod
from yizhan.authn.dkim import DkimResult
from yizhan.authn.dmarc import DmarcResult
from yizhan.authn.spf import SpfResult
from yizhan.dns.resolver import Resolver

log = logging.getLogger(__name__)

_SAFE_ADDRESS = re.compile(r"^[\w!#$%&'*+/=?^`{|}~.-]{1,64}@[\w.-]{1,253}$")
_SAFE_TOKEN = re.compile(r"^[\w.-]{1,253}$")
_MAX_VALUE = 320
_FOLD = "\r\n\t"


@dataclass(frozen=True)
class InboundVerdict:
    spf: SpfResult
    dkim: tuple[DkimResult, ...]
    dmarc: DmarcResult
    authentication_results: str  # "Authentication-Results: ...\r\n", ready to prepend
    dmarc_reject: bool  # the From domain's policy is reject and applies to this failing message
    dmarc_quarantine: bool  # the policy is quarantine (or a reject sampled down to it): file as junk

    @property
    def rejection_reason(self) -> str:
        """Why the DMARC policy refuses this message, for the text of a 550 5.7.1 reply (plain ASCII, one line)."""
        dkim = ", ".join(f"{d.result} for {d.domain or '?'}" for d in self.dkim) or "none"
        text = (f"DMARC policy of {self.dmarc.from_domain} rejects mail that fails authentication "
                f"(SPF {self.spf.result} for {self.spf.domain or '?'}, DKIM {dkim})")
        return "".join(ch if " " <= ch <= "~" else "?" for ch in text)[:400]


def _clean(text: str) -> str:
    # Controls and Unicode line or paragraph separators never reach the header.
    return "".join(ch for ch in text if ch == " " or ch.isprintable())[:_MAX_VALUE]


def _value(text: str) -> str:
    """A pvalue (RFC 8601 §2.2): an address or token as is, anything else a quoted-string."""
    text = _clean(text)
    if _SAFE_ADDRESS.match(text) or _SAFE_TOKEN.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(text: str) -> str:
    text = _clean(text).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"({text})"


def _authserv(authserv_id: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9.-]", "", authserv_id)[:253]
    return cleaned or "localhost"


def format_authentication_results(authserv_id: str, spf: SpfResult, dkim: tuple[DkimResult, ...],
                                  dmarc: DmarcResult) -> str:
    """The complete header field, one result per folded line (RFC 8601 §2.2, §2.7)."""
    parts: list[str] = []
    prop = "smtp.mailfrom" if spf.identity == "mailfrom" else "smtp.helo"
    identity = spf.sender if spf.identity == "mailfrom" else spf.sender.partition("@")[2]
    parts.append(f"spf={spf.result} {prop}={_value(identity)}" if identity else f"spf={spf.result}")
    if not dkim:
        parts.append("dkim=none")
    for d in dkim:
        text = f"dkim={d.result}"
        if d.result != "pass" and d.reason:
            text += " " + _comment(d.reason)
        if d.domain:
            text += f" header.d={_value(d.domain)}"
        if d.selector:
            text += f" header.s={_value(d.selector)}"
        if d.b:
            text += f" header.b={_value(d.b)}"
        parts.append(text)
    text = f"dmarc={dmarc.result}"
    if dmarc.policy:
        text += " " + _comment(f"p={dmarc.policy} dis={dmarc.disposition}")
    elif dmarc.reason and dmarc.result == "permerror":
        text += " " + _comment(dmarc.reason)
    if dmarc.from_domain:
        text += f" header.from={_value(dmarc.from_domain)}"
    parts.append(text)
    return f"Authentication-Results: {_authserv(authserv_id)};{_FOLD}" + f";{_FOLD}".join(parts) + "\r\n"


async def evaluate(raw: bytes, *, client_ip: str, helo: str, mail_from: str, resolver: Resolver,
                   authserv_id: str) -> InboundVerdict:
    """SPF and DKIM (concurrently), then DMARC, for a message received from `client_ip`. Never raises."""
    spf_task = spf_mod.check_host(client_ip, mail_from, helo, resolver)
    dkim_task = dkim_mod.verify(raw, resolver)
    spf_result, dkim_list = await asyncio.gather(spf_task, dkim_task)
    dkim_results = tuple(dkim_list)
    try:
        dmarc_result = await dmarc_mod.evaluate(raw, spf_result, list(dkim_results), resolver)
    except Exception as exc:  # a fault of ours must not refuse the mail
        log.warning("DMARC evaluation failed unexpectedly: %r", exc)
        dmarc_result = DmarcResult("permerror", "", reason="DMARC could not be evaluated")
    failing = dmarc_result.result == "fail"
    return InboundVerdict(
        spf=spf_result, dkim=dkim_results, dmarc=dmarc_result,
        authentication_results=format_authentication_results(authserv_id, spf_result, dkim_results, dmarc_result),
        dmarc_reject=failing and dmarc_result.disposition == "reject",
        dmarc_quarantine=failing and dmarc_result.disposition == "quarantine",
    )


_AR_FIELD = re.compile(rb"^Authentication-Results[ \t]*:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)\r?\n",
                       re.IGNORECASE | re.MULTILINE)


def remove_forged_results(raw: bytes, authserv_id: str) -> bytes:
    """`raw` without the Authentication-Results fields that claim to come from us (RFC 8601 §5): a sender must not
    be able to forge our verdict. Call it after `evaluate`, before storing. Other servers' fields are kept."""
    crlf, lf = raw.find(b"\r\n\r\n"), raw.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        cut = crlf + 2  # keep the last field's CRLF in the header block
    elif lf >= 0:
        cut = lf + 1
    else:
        cut = len(raw)
    head, body = raw[:cut], raw[cut:]
    ours = _authserv(authserv_id).lower().encode()

    def keep(match: re.Match[bytes]) -> bytes:
        value = re.sub(rb"\([^)]*\)", b"", match.group(1)).strip()
        claimed = re.split(rb"[\s;]", value, maxsplit=1)[0].lower() if value else b""
        return b"" if claimed == ours else match.group(0)

    return _AR_FIELD.sub(keep, head) + body
