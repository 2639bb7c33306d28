"""The `Received` trace field the server prepends to every message it accepts (RFC 5321 §4.4).

    Received: from HELO ([IP])
            by HOSTNAME (Yizhan) with ESMTPSA id ID
            (TLSv1.3 TLS_AES_256_GCM_SHA384 256 bits)
            for <RCPT>; DATE

The "with" keyword follows RFC 3848 (ESMTP, ESMTPA, ESMTPS, ESMTPSA, LMTP...) and RFC 6531 §3.7.3 (UTF8SMTP...,
when the transaction used SMTPUTF8). "for" is written only when there is one recipient, so a message to several
does not tell each of them the others.

Invariants: the field is ASCII (but for an internationalised recipient under SMTPUTF8, in UTF-8), folded with
CRLF + TAB, ends with CRLF; values coming from the client (HELO name) are reduced to a safe set of characters,
so no input can inject a line or a field.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass
from email.utils import formatdate

_SAFE_HELO = re.compile(r"[^A-Za-z0-9.\-\[\]:_]")


@dataclass(frozen=True)
class Trace:
    helo: str
    client_ip: str
    hostname: str
    lmtp: bool = False
    extended: bool = True
    utf8: bool = False
    tls: str = ""  # "TLSv1.3 TLS_AES_256_GCM_SHA384 256 bits", empty without TLS
    authenticated: bool = False
    recipients: tuple[str, ...] = ()


def with_keyword(trace: Trace) -> str:
    """RFC 3848 / RFC 6531 protocol type."""
    if trace.lmtp:
        base = "UTF8LMTP" if trace.utf8 else "LMTP"
    elif trace.utf8:
        base = "UTF8SMTP"
    elif trace.extended:
        base = "ESMTP"
    else:
        return "SMTP"
    return base + ("S" if trace.tls else "") + ("A" if trace.authenticated else "")


# A trace ID must be unique, not secret: a random prefix per process and a counter. (A getrandom call per message
# gave up the GIL on the event loop's thread, which then waited to win it back.)
_ID_PREFIX = secrets.token_hex(3).upper()
_ID_SERIAL = itertools.count(int.from_bytes(secrets.token_bytes(4), "big"))


def new_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_SERIAL) & 0xFFFFFFFFFF:010X}"


def received_field(trace: Trace, queue_id: str | None = None, date: str | None = None) -> bytes:
    helo = _SAFE_HELO.sub("", trace.helo)[:100] or "unknown"
    ip = _SAFE_HELO.sub("", trace.client_ip)[:64] or "unknown"
    lines = [f"Received: from {helo} ([{ip}])",
             f"by {_SAFE_HELO.sub('', trace.hostname)[:100] or 'localhost'} (Yizhan) with {with_keyword(trace)}"
             f" id {queue_id or new_id()}"]
    if trace.tls:
        lines.append("(" + re.sub(r"[^A-Za-z0-9._ -]", "", trace.tls)[:120] + ")")
    if len(trace.recipients) == 1:
        recipient = "".join(ch for ch in trace.recipients[0] if ch.isprintable() and ch not in "<>\r\n")[:320]
        lines.append(f"for <{recipient}>;")
    else:
        lines[-1] += ";"
    lines.append(date or formatdate(localtime=False, usegmt=True))
    return "\r\n\t".join(lines).encode("utf-8", "replace") + b"\r\n"
