"""Modified UTF-7 for mailbox names (RFC 3501 §5.1.3; RFC 9051 §5.1 keeps it for clients without UTF8=ACCEPT).

Printable ASCII (0x20-0x7E) stands for itself except `&`, written `&-`; every other run of characters is written
`&` + modified BASE64 (`,` for `/`, no padding) of its UTF-16BE + `-`.

Invariants: `encode` never raises and always yields the one canonical form; `decode` is strict and raises only
`ParseError`: raw characters outside printable ASCII, an unterminated or empty-but-not-`&-` shift, bad BASE64,
non-zero padding bits, an odd number of octets, unpaired surrogates, printable ASCII hidden in a shift, and two
adjacent shifts are all refused, so `encode(decode(s)) == s` for every `s` that decodes.
"""

from __future__ import annotations

import base64
import binascii
import re

from yizhan.protocols.imap.errors import ParseError

_B64_CHARS = re.compile(r"[A-Za-z0-9+,]*")


def _shift(run: str) -> str:
    data = run.encode("utf-16-be", "surrogatepass")
    return "&" + base64.b64encode(data).decode("ascii").rstrip("=").replace("/", ",") + "-"


def encode(name: str) -> str:
    """The modified UTF-7 form of `name`."""
    out: list[str] = []
    pending: list[str] = []
    for ch in name:
        if "\x20" <= ch <= "\x7e":
            if pending:
                out.append(_shift("".join(pending)))
                pending = []
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    if pending:
        out.append(_shift("".join(pending)))
    return "".join(out)


def _unshift(encoded: str) -> str:
    if not _B64_CHARS.fullmatch(encoded):
        raise ParseError("invalid modified BASE64 in mailbox name")
    if len(encoded) % 4 == 1:
        raise ParseError("truncated modified BASE64 in mailbox name")
    padded = encoded.replace(",", "/") + "=" * (-len(encoded) % 4)
    try:
        data = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise ParseError("invalid modified BASE64 in mailbox name") from None
    if base64.b64encode(data).decode("ascii").rstrip("=") != encoded.replace(",", "/"):
        raise ParseError("non-zero padding bits in modified BASE64")
    if len(data) % 2:
        raise ParseError("modified UTF-7 shift holds an odd number of octets")
    try:
        text = data.decode("utf-16-be")
    except UnicodeDecodeError:
        raise ParseError("invalid UTF-16 in mailbox name") from None
    if any("\x20" <= ch <= "\x7e" for ch in text):
        raise ParseError("printable ASCII must not be encoded in modified UTF-7")
    return text


def decode(name: str) -> str:
    """The Unicode name written as `name` in modified UTF-7; ParseError when it is not strictly valid."""
    out: list[str] = []
    i = 0
    n = len(name)
    previous_shift = False
    while i < n:
        ch = name[i]
        if not "\x20" <= ch <= "\x7e":
            raise ParseError("mailbox name must be modified UTF-7 (enable UTF8=ACCEPT for UTF-8)")
        if ch != "&":
            out.append(ch)
            i += 1
            previous_shift = False
            continue
        end = name.find("-", i + 1)
        if end < 0:
            raise ParseError("unterminated modified UTF-7 shift in mailbox name")
        if end == i + 1:
            out.append("&")
            previous_shift = False
        else:
            if previous_shift:
                raise ParseError("adjacent modified UTF-7 shifts in mailbox name")
            out.append(_unshift(name[i + 1:end]))
            previous_shift = True
        i = end + 1
    return "".join(out)
