"""IMAP strings and the ENVELOPE, BODY and BODYSTRUCTURE responses, built from a message's raw bytes.

The MIME tree here (`parse_structure`) is located in the raw bytes, never re-serialised: every part records
the offsets of its header and body, so the sizes in BODYSTRUCTURE and the bytes the server returns for
BODY[1.2], BODY[1.MIME] or BODY[TEXT] come from the same numbers (RFC 3501 §6.4.5 and §7.4.2, RFC 9051
§6.4.5 and §7.5.2).

Invariants: nothing here raises on any input; multipart nesting is capped at `MAX_DEPTH`; a multipart whose
boundary is missing or never occurs is shown as text/plain. Results are valid Unicode strings: raw 8-bit
header bytes are decoded (UTF-8, else GB18030) and sent as literals whose length counts the UTF-8 octets, so
the server must encode responses as UTF-8.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field

from yizhan.mail.addresses import parse_address_entries
from yizhan.mail.charsets import decode_bytes

MAX_DEPTH = 50
_MAX_PARTS = 5000

# RFC 5322 §3.6.8: a field name is printable ASCII except ":"; obsolete syntax allows space before the colon.
# One field with its continuation lines (RFC 5322 §2.2.3 folding).
_FIELD = re.compile(rb"([!-9;-~]+)[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)(?:\n|\Z)")
# A run of header fields (`_FIELD` repeated, without groups), for finding where a header ends.
_FIELDS = re.compile(rb"(?:[!-9;-~]+[ \t]*:[^\n]*(?:\n[ \t][^\n]*)*(?:\n|\Z))*")
# RFC 2045 §5.1 parameters, tolerant of spaces and unterminated quotes.
_PARAM = re.compile(r';\s*([^\s=;"]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"?|[^;]*))?')
# Characters that cannot appear in an RFC 3501 §9 quoted string: CR, LF, NUL and everything outside ASCII.
_QUOTED_PAIR = re.compile(r"\\(.)")
_NEEDS_LITERAL = re.compile(r"[^\x01-\x09\x0b\x0c\x0e-\x7f]")


@dataclass(slots=True)
class MimePart:
    """One MIME entity in the raw message: [start, body_start) is its header, [body_start, end) its body."""

    start: int
    body_start: int
    end: int
    headers: list[tuple[str, str]]
    maintype: str = "text"
    subtype: str = "plain"
    # Content-Type parameters as written: lowercased names, unquoted values (RFC 2231 names kept as they are).
    params: tuple[tuple[str, str], ...] = ()
    parts: list[MimePart] = field(default_factory=list)
    # The encapsulated message of a message/rfc822 part.
    message: MimePart | None = None
    # The first value of each header by lowercase name, built from `headers`.
    index: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """The first value of header `name` (lowercase), unfolded, or None."""
        return self.index.get(name)

    def param(self, name: str) -> str | None:
        """A Content-Type parameter as written."""
        for key, value in self.params:
            if key == name:
                return value
        return None


def imap_string(value: str | bytes | None) -> str:
    """An RFC 3501 §4.3 / RFC 9051 §4.3 string: NIL, a quoted string, or a literal for CR, LF and 8-bit text.

    Bytes are decoded first (UTF-8, else GB18030). NUL cannot appear in either form and is removed.
    """
    if value is None:
        return "NIL"
    text = decode_bytes(value, None) if isinstance(value, bytes) else value
    if "\x00" in text:
        text = text.replace("\x00", "")
    if _NEEDS_LITERAL.search(text) is None:
        if "\\" in text or '"' in text:
            text = text.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + text + '"'
    data = text.encode("utf-8", "replace")
    return "{" + str(len(data)) + "}\r\n" + data.decode("utf-8")


def scan_headers(raw: bytes, start: int, end: int) -> tuple[list[tuple[str, str]], int]:
    """Parse the header starting at `start`; return (headers, offset where the body starts).

    The header ends at the first empty line (RFC 5322 §2.1), or, in broken mail, at the first line that is
    neither a field nor a continuation, like the email package does. A leading mbox "From " line is skipped.
    """
    if raw.startswith(b"\n", start, end):
        return [], start + 1
    if raw.startswith(b"\r\n", start, end):
        return [], start + 2
    header_end, body_start = _blank_line(raw, start, end)
    headers: list[tuple[str, str]] = []
    pos = start
    while pos < header_end:
        m = _FIELD.match(raw, pos, header_end)
        if m is None:
            line_end = raw.find(b"\n", pos, header_end)
            if pos == start and raw.startswith(b"From ", pos) and line_end > 0:
                pos = line_end + 1
                continue
            body_start = pos
            break
        pos = m.end()
        value = m.group(2)
        if b"\n" in value:
            value = value.replace(b"\r\n", b"").replace(b"\n", b"")
        text = value.decode("ascii") if value.isascii() else decode_bytes(value, None)
        if "\x00" in text:
            # NUL cannot be shown or sent over IMAP (RFC 3501 §4.3); it never carries meaning in a header.
            text = text.replace("\x00", "")
        headers.append((m.group(1).decode("ascii").lower(), text.strip()))
    return headers, min(body_start, end)


def _blank_line(raw: bytes, start: int, end: int) -> tuple[int, int]:
    """Where the first empty line in raw[start:end] begins (with the CR ending the line before it) and ends,
    like `\\r?\\n\\r?\\n` would match it, or (end, end). Two `find`s skip ahead much faster than the pattern,
    which has no literal start."""
    lf = raw.find(b"\n\n", start, end)
    crlf = raw.find(b"\n\r\n", start, end)
    if lf < 0 and crlf < 0:
        return end, end
    if crlf < 0 or 0 <= lf < crlf:
        found, after = lf, lf + 2
    else:
        found, after = crlf, crlf + 3
    if found > start and raw[found - 1] == 0x0D:
        found -= 1
    return found, after


def parse_params(value: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Split "main/value; a=b; c="d"" into the lowercased main value and (name, unquoted value) pairs."""
    # Content-Type and Content-Disposition are read several times per part: short values are cached.
    return _cached_params(value) if len(value) <= 1024 else _params(value)


@functools.lru_cache(maxsize=512)
def _cached_params(value: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return _params(value)


def _params(value: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    cut = value.find(";")
    main = (value if cut < 0 else value[:cut]).strip().lower()
    params: list[tuple[str, str]] = []
    if cut >= 0:
        for m in _PARAM.finditer(value, cut):
            raw = (m.group(2) or "").strip()
            if raw.startswith('"'):
                raw = raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:]
                if "\\" in raw:
                    raw = _QUOTED_PAIR.sub(r"\1", raw)
            params.append((m.group(1).lower(), raw))
    return main, tuple(params)


def _split_multipart(raw: bytes, start: int, end: int, boundary: bytes) -> tuple[list[tuple[int, int]], bool]:
    """Spans of the parts between RFC 2046 §5.1.1 delimiter lines, and whether the close delimiter was seen.

    The line break before a delimiter belongs to the delimiter, not to the part before it.
    """
    delimiter = b"--" + boundary
    marks: list[tuple[int, int]] = []
    closed = False
    pos = start
    while len(marks) <= _MAX_PARTS:
        i = raw.find(delimiter, pos, end)
        if i < 0:
            break
        pos = i + 1
        if i != start and raw[i - 1] != 0x0A:
            continue
        j = i + len(delimiter)
        newline = raw.find(b"\n", j, end)
        line_end = end if newline < 0 else newline + 1
        close = raw.startswith(b"--", j, end)
        # Only transport padding may follow the boundary on its line, so that "--abc" does not match "--abcd".
        if not close and raw[j:line_end].strip():
            continue
        marks.append((i, line_end))
        pos = line_end
        if close:
            closed = True
            break
    spans = []
    for (_, part_start), (next_start, _) in itertools.pairwise(marks):
        part_end = next_start
        if part_end > part_start and raw[part_end - 1] == 0x0A:
            part_end -= 1
            if part_end > part_start and raw[part_end - 1] == 0x0D:
                part_end -= 1
        spans.append((part_start, part_end))
    if marks and not closed:
        spans.append((marks[-1][1], end))
    return spans, closed


def _parse_part(raw: bytes, start: int, end: int, depth: int, defects: list[str], default: tuple[str, str]) -> MimePart:
    headers, body_start = scan_headers(raw, start, end)
    part = MimePart(start, body_start, end, headers, *default)
    part.index = dict(reversed(headers))
    content_type = part.header("content-type")
    if content_type:
        main, part.params = parse_params(content_type)
        maintype, _, subtype = main.partition("/")
        if maintype and subtype and " " not in main:
            part.maintype, part.subtype = maintype, subtype
        else:
            defects.append(f"invalid Content-Type {main[:40]!r}")
    if part.maintype == "multipart":
        boundary = part.param("boundary")
        spans: list[tuple[int, int]] = []
        if depth >= MAX_DEPTH:
            defects.append("multipart nesting too deep")
        elif not boundary:
            defects.append("multipart without boundary")
        else:
            spans, closed = _split_multipart(raw, body_start, end, boundary.encode("utf-8", "replace"))
            if not spans:
                defects.append("multipart boundary not found")
            elif not closed:
                defects.append("multipart without closing boundary")
        if not spans:
            # A multipart without parts cannot be described to IMAP; show its body as text instead.
            part.maintype, part.subtype = "text", "plain"
            part.params = tuple(p for p in part.params if p[0] == "charset")
            return part
        child_default = ("message", "rfc822") if part.subtype == "digest" else ("text", "plain")
        part.parts = [_parse_part(raw, s, e, depth + 1, defects, child_default) for s, e in spans]
    elif part.maintype == "message" and part.subtype in ("rfc822", "global") and depth < MAX_DEPTH:
        part.message = _parse_part(raw, body_start, end, depth + 1, defects, ("text", "plain"))
    return part


def parse_structure(raw: bytes, defects: list[str] | None = None) -> MimePart:
    """The MIME tree of a whole message; problems found are appended to `defects`. Never raises."""
    found: list[str] = [] if defects is None else defects
    try:
        return _parse_part(raw, 0, len(raw), 0, found, ("text", "plain"))
    except Exception as exc:
        found.append(f"structure unreadable: {type(exc).__name__}")
        return MimePart(0, 0, len(raw), [])


def body_start_of(raw: bytes) -> int:
    """Where the top-level body starts: exactly `scan_headers(raw, 0, len(raw))[1]`, without decoding a header.

    The fields are matched by one pattern run in C (`_FIELDS`, `_FIELD` repeated): it stops where `scan_headers`'
    loop would, since `_FIELD` never matches empty and always ends the same way.
    """
    end = len(raw)
    if raw.startswith(b"\n"):
        return 1
    if raw.startswith(b"\r\n"):
        return 2
    header_end, body_start = _blank_line(raw, 0, end)
    match = _FIELDS.match(raw, 0, header_end)
    pos = match.end() if match else 0
    if pos == 0 and raw.startswith(b"From "):
        line_end = raw.find(b"\n", 0, header_end)
        if line_end > 0:
            match = _FIELDS.match(raw, line_end + 1, header_end)
            pos = match.end() if match else line_end + 1
    if pos < header_end:
        body_start = pos
    return min(body_start, end)


def parse_top_bounds(raw: bytes) -> MimePart:
    """The top-level entity's bounds only (no headers, no parts): what FETCH needs for BODY[], HEADER,
    HEADER.FIELDS, TEXT and RFC822.HEADER/TEXT of a whole message (ENVELOPE and BODYSTRUCTURE are stored)."""
    try:
        return MimePart(0, body_start_of(raw), len(raw), [])
    except Exception:
        return MimePart(0, 0, len(raw), [])


def find_section(root: MimePart, section: tuple[int, ...]) -> MimePart | None:
    """The part named by an RFC 3501 §6.4.5 section number such as (1, 2), or None when there is none.

    A non-multipart message has one part, numbered 1; the parts of an encapsulated message/rfc822 are numbered
    under the part itself.
    """
    part = root
    for index, number in enumerate(section):
        if index and part.message is not None:
            part = part.message
        if part.parts:
            if not 1 <= number <= len(part.parts):
                return None
            part = part.parts[number - 1]
        elif number != 1:
            return None
    return part


def _addresses(value: str | None) -> str:
    """An envelope address list: ((name adl mailbox host) ...), groups as RFC 3501 §7.4.2 describes them."""
    if not value:
        return "NIL"
    items = []
    for kind, name, addr in parse_address_entries(value):
        if kind == "group_start":
            items.append(f"(NIL NIL {imap_string(name)} NIL)")
        elif kind == "group_end":
            items.append("(NIL NIL NIL NIL)")
        else:
            local, at, domain = addr.rpartition("@")
            mailbox = (local if at else domain) or "MISSING_MAILBOX"
            host = domain if at and domain else "MISSING_DOMAIN"
            items.append(f"({imap_string(name or None)} NIL {imap_string(mailbox)} {imap_string(host)})")
    return "(" + "".join(items) + ")" if items else "NIL"


def build_envelope(headers: list[tuple[str, str]]) -> str:
    """The RFC 3501 §7.4.2 ENVELOPE (RFC 9051 §7.5.2) from raw, undecoded header values.

    Sender and Reply-To default to From when absent or empty, as the RFC requires of the server.
    """
    first: dict[str, str] = {}
    for key, value in headers:
        first.setdefault(key, value)

    def nstring(name: str) -> str:
        value = first.get(name)
        return imap_string(value) if value else "NIL"

    from_ = _addresses(first.get("from"))
    sender = _addresses(first.get("sender"))
    reply_to = _addresses(first.get("reply-to"))
    fields = [
        nstring("date"),
        nstring("subject"),
        from_,
        from_ if sender == "NIL" else sender,
        from_ if reply_to == "NIL" else reply_to,
        _addresses(first.get("to")),
        _addresses(first.get("cc")),
        _addresses(first.get("bcc")),
        nstring("in-reply-to"),
        nstring("message-id"),
    ]
    return "(" + " ".join(fields) + ")"


def _param_list(params: tuple[tuple[str, str], ...]) -> str:
    if not params:
        return "NIL"
    return "(" + " ".join(f"{imap_string(k.upper())} {imap_string(v)}" for k, v in params) + ")"


def _disposition(part: MimePart) -> str:
    value = part.header("content-disposition")
    if not value:
        return "NIL"
    kind, params = parse_params(value)
    if not kind:
        return "NIL"
    return f"({imap_string(kind.upper())} {_param_list(params)})"


def _language(part: MimePart) -> str:
    value = part.header("content-language")
    tags = [t.strip() for t in value.split(",") if t.strip()] if value else []
    if not tags:
        return "NIL"
    if len(tags) == 1:
        return imap_string(tags[0])
    return "(" + " ".join(imap_string(t) for t in tags) + ")"


def _nheader(part: MimePart, name: str) -> str:
    value = part.header(name)
    return imap_string(value) if value else "NIL"


def _lines(raw: bytes, start: int, end: int) -> int:
    count = raw.count(b"\n", start, end)
    if end > start and raw[end - 1] != 0x0A:
        count += 1
    return count


def build_body(part: MimePart, raw: bytes, extended: bool = True) -> str:
    """BODYSTRUCTURE (extended=True) or BODY (False) of `part`, per RFC 3501 §7.4.2 / RFC 9051 §7.5.2."""
    return build_bodies(part, raw)[1 if extended else 0]


def build_bodies(part: MimePart, raw: bytes) -> tuple[str, str]:
    """(BODY, BODYSTRUCTURE) of `part` in one walk; they differ only by the extension data."""
    if part.parts:
        # body-type-mpart: the parts, the subtype, then body-ext-mpart (params, disposition, language,
        # location).
        children = [build_bodies(p, raw) for p in part.parts]
        subtype = " " + imap_string(part.subtype.upper())
        body = "(" + "".join(c[0] for c in children) + subtype + ")"
        extension = (
            f" {_param_list(part.params)} {_disposition(part)} {_language(part)} {_nheader(part, 'content-location')}"
        )
        return body, "(" + "".join(c[1] for c in children) + subtype + extension + ")"
    encoding = (part.header("content-transfer-encoding") or "7BIT").strip().upper() or "7BIT"
    fields = [
        imap_string(part.maintype.upper()),
        imap_string(part.subtype.upper()),
        _param_list(part.params),
        _nheader(part, "content-id"),
        _nheader(part, "content-description"),
        imap_string(encoding),
        str(part.end - part.body_start),
    ]
    basic = " ".join(fields)
    extended = basic
    if part.message is not None:
        # body-type-msg: envelope, body and line count of the encapsulated message.
        envelope = build_envelope(part.message.headers)
        lines = str(_lines(raw, part.body_start, part.end))
        inner = build_bodies(part.message, raw)
        basic += f" {envelope} {inner[0]} {lines}"
        extended += f" {envelope} {inner[1]} {lines}"
    elif part.maintype == "text":
        lines = str(_lines(raw, part.body_start, part.end))
        basic += " " + lines
        extended += " " + lines
    # body-ext-1part: MD5, disposition, language, location.
    extended += (
        f" {_nheader(part, 'content-md5')} {_disposition(part)} {_language(part)} {_nheader(part, 'content-location')}"
    )
    return "(" + basic + ")", "(" + extended + ")"


def imap_structure(raw: bytes, root: MimePart | None = None) -> tuple[str, str, str]:
    """(ENVELOPE, BODY, BODYSTRUCTURE) of a raw message; never raises."""
    try:
        tree = root if root is not None else parse_structure(raw)
        body, bodystructure = build_bodies(tree, raw)
        return build_envelope(tree.headers), body, bodystructure
    except Exception:
        empty = '("TEXT" "PLAIN" NIL NIL NIL "7BIT" 0 0'
        return "(" + " ".join(["NIL"] * 10) + ")", empty + ")", empty + " NIL NIL NIL NIL)"
