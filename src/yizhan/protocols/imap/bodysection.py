"""BODY[section]<partial> content (RFC 9051 §6.4.5, RFC 3501 §6.4.5): the exact octets of a message a section names.

Pure: raw bytes and the MIME tree located in them (`mail.imapformat.parse_structure`) in, bytes out; nothing is
re-encoded, so sizes agree with RFC822.SIZE and BODYSTRUCTURE. Invariants: never raises on any message; a section
that does not exist yields None (sent as NIL); HEADER.FIELDS keeps the matching fields as they are written
(folded lines included) followed by the empty line; a partial range beyond the end yields an empty string.
"""

from __future__ import annotations

import functools
import re

from yizhan.mail.imapformat import MimePart, find_section
from yizhan.protocols.imap.commands import Section

_LINE = re.compile(rb"[^\n]*\n|[^\n]+\Z")


@functools.lru_cache(maxsize=256)
def _wanted(names: tuple[str, ...]) -> frozenset[bytes]:
    return frozenset(name.lower().encode("ascii", "replace") for name in names)


def _header_fields(block: bytes, names: tuple[str, ...], exclude: bool) -> bytes:
    wanted = _wanted(names)
    out: list[bytes] = []
    keep = False
    for line in _LINE.findall(block):
        if line in (b"\r\n", b"\n"):
            break
        if line[:1] in (b" ", b"\t"):
            if keep:
                out.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        keep = (name in wanted) != exclude
        if keep:
            out.append(line)
    return b"".join(out) + b"\r\n"


def section_bytes(raw: bytes, root: MimePart, section: Section) -> bytes | None:
    """The octets `section` names in `raw`, or None when the message has no such part."""
    part: MimePart | None = root
    if section.part:
        part = find_section(root, section.part)
        if part is None:
            return None
        if section.text == "MIME":
            return raw[part.start:part.body_start]
        if section.text is None:
            return raw[part.body_start:part.end]
        # HEADER, HEADER.FIELDS and TEXT of a part name the encapsulated message of a message/rfc822 part.
        part = part.message
        if part is None:
            return None
    assert part is not None
    if section.text is None:
        return raw[part.start:part.end]
    if section.text == "TEXT":
        return raw[part.body_start:part.end]
    header = raw[part.start:part.body_start]
    if section.text == "HEADER":
        return header
    return _header_fields(header, section.fields, exclude=section.text == "HEADER.FIELDS.NOT")


def partial(data: bytes, origin: int, length: int) -> bytes:
    """RFC 9051 §6.4.5: octets from `origin`, at most `length` of them; empty when origin is past the end."""
    return data[origin:origin + length]
