"""Message bytes as the SMTP server receives them: line endings, header lookup, and fields a submission lacks.

- `normalize_newlines`: RFC 5321 §2.3.8 allows only CRLF as a line end. aiosmtpd ends DATA only at
  CRLF "." CRLF, so a bare LF or bare CR never ends the data (no SMTP smuggling); what remains in the content is
  turned into CRLF, as Postfix's `smtpd_forbid_bare_newline = normalize` does, so that nothing downstream (a
  relay, an IMAP client) can read a bare "\\n.\\n" as the end of a message either.
- `header_values`: the unfolded values of one header field, read from the header section only.
- `complete_submission`: Date and Message-ID added when missing (RFC 6409 §8.2, §8.3).

Invariants: nothing here raises on any input; bytes are otherwise kept as they are.
"""

from __future__ import annotations

import re
import secrets
from email.utils import formatdate

_NEWLINE = re.compile(rb"\r\n|\r|\n")
_FIELD_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:", re.MULTILINE)


def normalize_newlines(data: bytes) -> bytes:
    """Every CRLF, bare CR and bare LF as CRLF."""
    # Every CR and every LF belongs to a CRLF exactly when the three counts are equal (counting copies nothing).
    pairs = data.count(b"\r\n")
    if data.count(b"\r") == pairs and data.count(b"\n") == pairs:
        return data
    return _NEWLINE.sub(b"\r\n", data)


def header_section(data: bytes) -> bytes:
    """The header section with its last CRLF, without the empty line and body (RFC 5322 §2.1)."""
    if data.startswith(b"\r\n"):
        return b""
    end = data.find(b"\r\n\r\n")
    return data if end < 0 else data[:end + 2]


def header_values(data: bytes, name: str) -> list[str]:
    """The unfolded values of every field called `name` (case-insensitive), decoded as UTF-8 with replacement."""
    head = header_section(data)
    wanted = name.lower().encode()
    values = []
    for field in re.split(rb"\r\n(?![ \t])", head):
        match = _FIELD_NAME.match(field)
        if match and match.group(1).lower() == wanted:
            value = field[match.end():].replace(b"\r\n", b"")
            values.append(value.decode("utf-8", "replace").strip())
    return values


def complete_submission(data: bytes, sender_domain: str) -> bytes:
    """`data` with a Date and a Message-ID field prepended when it has none."""
    added = b""
    if not header_values(data, "Date"):
        added += b"Date: " + formatdate(localtime=False, usegmt=True).encode() + b"\r\n"
    if not header_values(data, "Message-ID"):
        added += f"Message-ID: <{secrets.token_hex(16)}@{_ascii_domain(sender_domain)}>\r\n".encode()
    return added + data


def _ascii_domain(domain: str) -> str:
    """The domain in A-labels (RFC 5890), for a Message-ID that stays ASCII."""
    try:
        ascii_form = domain.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_form = ""
    return re.sub(r"[^A-Za-z0-9.-]", "", ascii_form) or "localhost"
