"""DKIM (RFC 6376): verifying the signatures of incoming mail, signing outgoing mail, making keys. Via dkimpy.

`verify` checks every DKIM-Signature (up to `MAX_SIGNATURES`) in a worker thread; the public keys are fetched
through our `Resolver` (`<selector>._domainkey.<domain>` TXT, RFC 6376 §3.6.2). Results are the RFC 8601 §2.7.1
words: pass, fail (signature or body hash does not match), neutral, temperror (key lookup could not be done now),
permerror (malformed signature, missing or unusable key). No signature at all gives an empty list (dkim=none).

`sign` returns the DKIM-Signature header (relaxed/relaxed, rsa-sha256) to prepend; it is CPU work: call it in a
thread. `generate_key` makes an RSA key pair (PKCS#1 PEM private key, base64 SubjectPublicKeyInfo for p=).

Invariants: `verify` never raises, whatever the bytes; keys shorter than 1024 bits fail verification (RFC 8301 §3.2).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from dataclasses import dataclass

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from yizhan.authn.bridge import BlockingLookups, run_blocking
from yizhan.dns.resolver import Resolver
from yizhan.util.errors import InvalidInput, TemporaryFailure

log = logging.getLogger(__name__)

MAX_SIGNATURES = 5
MIN_KEY_BITS = 1024
MAX_KEY_BITS = 4096
# The headers `sign` covers when present (RFC 6376 §5.4.1); From is always signed.
SIGNED_HEADERS = ("From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To", "In-Reply-To", "References",
                  "MIME-Version", "Content-Type", "Content-Transfer-Encoding")
_HEADER_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:", re.MULTILINE)


@dataclass(frozen=True)
class DkimResult:
    """One signature's outcome. `domain` is d=, `selector` s=, `b` the first characters of b= (RFC 6008)."""

    result: str
    domain: str
    selector: str
    b: str = ""
    reason: str = ""


def _text(value: bytes | None) -> str:
    return (value or b"").decode("ascii", "replace")


def _tags(header_value: bytes) -> dict[bytes, bytes]:
    try:
        return dict(dkim.util.parse_tag_value(header_value))
    except Exception:  # dkimpy raises its own errors on malformed tag lists
        return {}


class _KeyFetcher:
    """dkimpy's `dnsfunc`: fetches the key TXT through our resolver and remembers what went wrong."""

    def __init__(self, bridge: BlockingLookups) -> None:
        self.bridge = bridge
        self.temporary = False
        self.missing = False

    def __call__(self, name: bytes, timeout: float = 5) -> bytes | None:
        try:
            records = self.bridge.txt(name.decode("ascii", "replace"))
        except TemporaryFailure as exc:
            self.temporary = True
            raise dkim.DnsTimeoutError(str(exc)) from exc
        keys = [r for r in records if "p=" in r]
        if not keys:
            self.missing = True
            return None
        return keys[0].encode("utf-8", "replace")


def _verify_one(message: dkim.DKIM, index: int, header_value: bytes, bridge: BlockingLookups) -> DkimResult:
    tags = _tags(header_value)
    domain, selector = _text(tags.get(b"d")).lower(), _text(tags.get(b"s"))
    b = re.sub(r"\s+", "", _text(tags.get(b"b")))[:8]
    fetch = _KeyFetcher(bridge)
    try:
        ok = message.verify(idx=index, dnsfunc=fetch)
    except dkim.ValidationError as exc:
        reason = str(exc)
        # RFC 6376 §6.1.3: a body that does not match its hash is a failed signature, not a broken one.
        result = "fail" if "body hash mismatch" in reason else "permerror"
        return DkimResult(result, domain, selector, b, reason[:200])
    except dkim.DKIMException as exc:
        return DkimResult("permerror", domain, selector, b, str(exc)[:200])
    except Exception as exc:  # dkimpy can fail in other ways on hostile input; never crash on mail
        log.info("DKIM verification of d=%s s=%s failed: %r", domain, selector, exc)
        return DkimResult("permerror", domain, selector, b, "the signature could not be evaluated")
    if ok:
        return DkimResult("pass", domain, selector, b)
    if fetch.temporary:
        return DkimResult("temperror", domain, selector, b, "key lookup failed")
    if fetch.missing:
        return DkimResult("permerror", domain, selector, b, "no key for signature")
    return DkimResult("fail", domain, selector, b, "signature did not verify")


def _header_names(raw: bytes) -> list[bytes]:
    """Lowercased names of the header fields (the block before the first empty line, CRLF or LF)."""
    end = raw.find(b"\r\n\r\n")
    end = len(raw) if end < 0 else end
    alt = raw.find(b"\n\n")
    if 0 <= alt < end:
        end = alt
    return [m.group(1).lower() for m in _HEADER_NAME.finditer(raw[:end])]


def _verify_all(raw: bytes, bridge: BlockingLookups) -> list[DkimResult]:
    if b"dkim-signature" not in _header_names(raw):
        return []
    try:
        message = dkim.DKIM(raw, minkey=MIN_KEY_BITS, timeout=5)
    except Exception as exc:  # unparseable header block
        return [DkimResult("permerror", "", "", "", f"message cannot be parsed: {str(exc)[:100]}")]
    signatures = [(i, value) for i, (name, value) in enumerate(
        (n, v) for n, v in message.headers if n.lower() == b"dkim-signature")]
    return [_verify_one(message, index, value, bridge) for index, value in signatures[:MAX_SIGNATURES]]


async def verify(raw: bytes, resolver: Resolver, deadline: float = 20.0) -> list[DkimResult]:
    """The result of each DKIM signature of `raw`, topmost first; [] when the message is not signed."""
    if b"dkim-signature" not in _header_names(raw):
        # Not signed: no need for a verifier thread.
        return []
    bridge = BlockingLookups(resolver, asyncio.get_running_loop(), deadline=deadline)
    try:
        return await run_blocking(_verify_all, raw, bridge)
    except Exception as exc:  # a fault of ours or dkimpy's must not refuse the mail
        log.warning("DKIM verification failed unexpectedly: %r", exc)
        return [DkimResult("permerror", "", "", "", "the signature could not be evaluated")]


def sign(raw: bytes, domain: str, selector: str, private_key_pem: bytes) -> bytes:
    """The `DKIM-Signature: ...\\r\\n` header (folded) to prepend to `raw`. Blocking: call it in a thread.

    Raises InvalidInput when the message has no From header or the key cannot be used."""
    present = set(_header_names(raw))
    if b"from" not in present:
        raise InvalidInput("cannot DKIM-sign a message without a From header")
    include = [h.encode() for h in SIGNED_HEADERS if h.lower().encode() in present]
    try:
        header: bytes = dkim.sign(raw, selector.encode(), domain.encode(), private_key_pem,
                                  canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=b"rsa-sha256",
                                  include_headers=include, linesep=b"\r\n")
    except dkim.DKIMException as exc:
        raise InvalidInput(f"cannot DKIM-sign: {exc}") from exc
    return header


def generate_key(bits: int = 2048) -> tuple[bytes, str]:
    """A new RSA key: (PKCS#1 PEM private key, base64 public key for the p= tag). Blocking: call it in a thread."""
    if not MIN_KEY_BITS <= bits <= MAX_KEY_BITS:
        raise InvalidInput(f"a DKIM key must have {MIN_KEY_BITS} to {MAX_KEY_BITS} bits (2048 is usual)")
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, base64.b64encode(public).decode("ascii")


def txt_record(public_key: str) -> str:
    """The TXT value to publish at `<selector>._domainkey.<domain>` (RFC 6376 §3.6.1)."""
    return f"v=DKIM1; k=rsa; p={public_key}"
