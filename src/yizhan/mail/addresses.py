"""Mail addresses: parsing address headers, normalising and checking addresses.

Invariants: nothing here raises on any input. Address headers are parsed tolerantly after RFC 5322 §3.4
(mailbox, name-addr, group, quoted strings, comments, obsolete routes); garbage yields fewer addresses,
never an error. Addresses are compared case-insensitively throughout Yizhan, so `normalize_address`
lowercases the local part too.
"""

from __future__ import annotations

import functools
import re
from typing import Literal

from yizhan.mail.charsets import decode_header_value, fix_8bit
from yizhan.mail.model import Address

# What the scanner yields: a mailbox, or the start or end of an RFC 5322 §3.4 group (IMAP's envelope shows
# groups).
EntryKind = Literal["mailbox", "group_start", "group_end"]
AddressEntry = tuple[EntryKind, str, str]

# Headers longer than this are cut before scanning; no real address list comes close.
_MAX_VALUE = 256 * 1024


def parse_address_entries(value: str) -> tuple[AddressEntry, ...]:
    """Scan an address header into (kind, raw name, address) entries, keeping group boundaries.

    The name is the phrase with quoting removed but RFC 2047 words left encoded, as IMAP's ENVELOPE wants.
    """
    # The same header is scanned for the envelope and for the decoded addresses: short values are cached.
    if len(value) <= 2048:
        return _cached_entries(value)
    return _entries(value)


@functools.lru_cache(maxsize=512)
def _cached_entries(value: str) -> tuple[AddressEntry, ...]:
    return _entries(value)


def _entries(value: str) -> tuple[AddressEntry, ...]:
    try:
        return tuple(_scan(fix_8bit(value)[:_MAX_VALUE].replace("\r", "").replace("\n", "")))
    except Exception:
        return ()


# One token: a quoted string (RFC 5322 §3.2.4), an angle address, a special, or a run of other text.
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"?|<([^>]*)>?|([,:;(])|([^",:;<(]+)')
_QUOTED_PAIR = re.compile(r"\\(.)")


def _comment(value: str, i: int) -> tuple[str, int]:
    """The text of the RFC 5322 §3.2.2 comment opening at value[i] (comments nest), and the index after it."""
    depth, j, n, buf = 1, i + 1, len(value), []
    while j < n and depth:
        ch = value[j]
        if ch == "\\" and j + 1 < n:
            j += 1
            ch = value[j]
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if depth:
            buf.append(ch)
        j += 1
    return "".join(buf).strip(), j


def _scan(value: str) -> list[AddressEntry]:
    entries: list[AddressEntry] = []
    phrase: list[str] = []
    raw: list[str] = []
    comments: list[str] = []
    angle: str | None = None
    in_group = False

    def flush() -> None:
        nonlocal angle
        entry = _entry("".join(phrase).strip(), "".join(raw).strip(), " ".join(comments).strip(), angle)
        if entry is not None:
            entries.append(entry)
        phrase.clear()
        raw.clear()
        comments.clear()
        angle = None

    pos, n = 0, len(value)
    while pos < n:
        m = _TOKEN.match(value, pos)
        if m is None:  # pragma: no cover - the pattern matches any character
            break
        pos = m.end()
        quoted, addr, special, text = m.groups()
        if text is not None:
            phrase.append(text)
            raw.append(text)
        elif quoted is not None:
            phrase.append(_QUOTED_PAIR.sub(r"\1", quoted) if "\\" in quoted else quoted)
            raw.append(m.group(0))
        elif addr is not None:
            angle = addr
        elif special == ",":
            flush()
        elif special == "(":
            comment, pos = _comment(value, m.start())
            comments.append(comment)
        elif special == ":" and angle is None and not in_group:
            # A group starts: "name: a@b, c@d;" (RFC 5322 §3.4); the phrase so far is the group's name.
            entries.append(("group_start", "".join(phrase).strip(), ""))
            phrase.clear()
            raw.clear()
            comments.clear()
            in_group = True
        elif special == ";":
            flush()
            if in_group:
                entries.append(("group_end", "", ""))
                in_group = False
        else:
            phrase.append(special)
            raw.append(special)
    flush()
    if in_group:
        entries.append(("group_end", "", ""))
    return entries


def _entry(phrase: str, raw: str, comment: str, angle: str | None) -> AddressEntry | None:
    """Build one mailbox from what was scanned between two commas."""
    if angle is not None:
        addr = angle.strip()
        # RFC 5322 §4.4 obsolete route: "<@relay1,@relay2:user@host>".
        if ":" in addr:
            addr = addr.rsplit(":", 1)[1].strip()
        addr = "".join(addr.split())
        name = " ".join(phrase.split()) or comment
        if not addr and not name:
            return None
        return ("mailbox", name, addr)
    if not raw:
        return ("mailbox", comment, "") if comment else None
    tokens = raw.split()
    at = [t for t in tokens if "@" in t]
    if at:
        addr = at[-1].strip("<>\"'")
        rest = " ".join(t for t in tokens if t is not at[-1]).strip("\"' ")
        return ("mailbox", rest or comment, addr)
    if len(tokens) == 1:
        return ("mailbox", comment, tokens[0].strip("\"'"))
    return ("mailbox", " ".join(phrase.split()), "")


def parse_address_list(value: str) -> tuple[Address, ...]:
    """The mailboxes of an address header with decoded names; groups are flattened, garbage is skipped."""
    out: list[Address] = []
    for kind, name, addr in parse_address_entries(value):
        if kind != "mailbox":
            continue
        decoded = " ".join(decode_header_value(name).split()) if name else ""
        out.append(Address(name=decoded, addr=addr))
    return tuple(out)


def split_address(addr: str) -> tuple[str, str]:
    """(local part, domain) split at the last "@"; the domain is "" when there is no "@"."""
    local, at, domain = addr.strip().strip("<>").rpartition("@")
    if not at:
        return domain, ""
    return local, domain


def _domain_to_unicode(domain: str) -> str:
    """Show IDNA ("xn--") labels as Unicode so that both spellings of a domain compare equal."""
    labels = []
    for label in domain.split("."):
        if label.startswith("xn--"):
            try:
                label = label.encode("ascii").decode("idna")
            except (UnicodeError, ValueError):
                pass
        labels.append(label)
    return ".".join(labels)


def normalize_address(addr: str) -> str:
    """Canonical form for comparing addresses: stripped, lowercased, IDNA domain shown as Unicode."""
    try:
        local, domain = split_address(addr)
        if not domain:
            return local.lower()
        domain = _domain_to_unicode(domain.lower().rstrip("."))
        return f"{local.lower()}@{domain.lower()}"
    except Exception:
        return addr.strip().lower()


# Whitespace (Unicode's too), controls, DEL and the specials that never belong in an address part.
_BAD_IN_LOCAL = re.compile(r'[\s\x00-\x1f\x7f<>,;"()\[\]\\]')
_BAD_IN_DOMAIN = re.compile(r'[\s\x00-\x1f\x7f<>,;"()\\@]')


def is_valid_address(addr: str) -> bool:
    """A sanity check after RFC 5321 §4.1.2 and §4.5.3.1; UTF-8 local parts (RFC 6531) are allowed."""
    if not isinstance(addr, str) or addr.count("@") != 1:
        return False
    local, domain = addr.split("@")
    if not local or not domain:
        return False
    if _BAD_IN_LOCAL.search(local) or _BAD_IN_DOMAIN.search(domain):
        return False
    # RFC 5321 §4.5.3.1: local part at most 64 octets, domain at most 255.
    if len(local.encode("utf-8", "replace")) > 64 or len(domain.encode("utf-8", "replace")) > 255:
        return False
    if domain.startswith("[") and domain.endswith("]"):
        return len(domain) > 2
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    return all(label and not label.startswith("-") and not label.endswith("-") for label in domain.split("."))
