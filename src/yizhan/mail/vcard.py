"""vCard files: reading 2.1, 3.0 and 4.0 (RFC 2426, RFC 6350) into `ContactCard`s, and writing 3.0 or 4.0.

Reading is tolerant and never raises: several cards per file; UTF-8, UTF-16 (with BOM) or GB18030 bytes (Chinese
Outlook and Foxmail); folded lines (RFC 6350 §3.2) and vCard 2.1 quoted-printable values with soft line breaks and
a CHARSET parameter; bare 2.1 parameters (`TEL;CELL:`); group prefixes (`item1.EMAIL`). Lines that cannot be read
are skipped; a card cut short (no END:VCARD) is kept. Properties other than FN, N, EMAIL, TEL, ORG, TITLE, NOTE and
CATEGORIES are ignored (photos included).

Writing produces CRLF lines folded at 75 octets without splitting a UTF-8 sequence, with text values escaped
(RFC 6350 §3.4).
"""

from __future__ import annotations

import codecs
import quopri
import re
from collections.abc import Iterable

from yizhan.mail.charsets import decode_bytes
from yizhan.mail.contactcard import ContactCard

# A file larger than this is cut (the service refuses large files before they get here).
MAX_INPUT = 16 * 1024 * 1024

_EMAIL_LABELS = {"work": "work", "home": "home", "other": "other"}
_TEL_LABELS = {"cell": "mobile", "mobile": "mobile", "work": "work", "home": "home", "fax": "fax",
               "pager": "pager", "voice": "", "other": "other", "main": "work"}
_TEL_TYPES = {"mobile": "cell", "work": "work", "home": "home", "fax": "fax", "pager": "pager"}


def decode_text_file(data: bytes) -> str:
    """Bytes of a text file as text: BOMs honoured, else UTF-8, else GB18030 (never raises)."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, "replace")
    return decode_bytes(data, None)


def _split_unquoted(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    parts.append("".join(buf))
    return parts


def _split_escaped(value: str, sep: str) -> list[str]:
    """Split at `sep` not preceded by a backslash escape; escapes are kept for `_unescape`."""
    parts: list[str] = []
    buf: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            buf.append(value[i:i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return parts


_ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\", ":": ":"}


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), value).strip()


def _logical_lines(text: str) -> list[str]:
    """Unfold continuation lines (leading space or tab) and quoted-printable soft line breaks."""
    out: list[str] = []
    for line in re.split(r"\r\n|\n|\r", text):
        if out and line[:1] in (" ", "\t"):
            out[-1] += line[1:]
        elif out and out[-1].endswith("=") and "QUOTED-PRINTABLE" in out[-1].split(":", 1)[0].upper():
            out[-1] = out[-1][:-1] + line
        elif line.strip():
            out.append(line)
    return out


def _parse_line(line: str) -> tuple[str, dict[str, list[str]], str] | None:
    """(NAME, {PARAM: [values]}, raw value) of a content line, or None."""
    head_and_value = _split_unquoted(line, ":")
    if len(head_and_value) < 2:
        return None
    head, value = head_and_value[0], ":".join(head_and_value[1:])
    pieces = _split_unquoted(head, ";")
    name = pieces[0].rsplit(".", 1)[-1].strip().upper()
    params: dict[str, list[str]] = {}
    for piece in pieces[1:]:
        key, eq, val = piece.partition("=")
        if not eq:
            # vCard 2.1 bare parameters: TEL;CELL;PREF, EMAIL;INTERNET, NOTE;QUOTED-PRINTABLE.
            key, val = ("ENCODING", key) if key.strip().upper() in ("QUOTED-PRINTABLE", "BASE64", "B") else (
                "TYPE", key)
        values = [v.strip().strip('"') for v in val.split(",")]
        params.setdefault(key.strip().upper(), []).extend(v for v in values if v)
    return name, params, value


def _decode_value(params: dict[str, list[str]], value: str) -> str:
    encoding = [e.upper() for e in params.get("ENCODING", [])]
    if "QUOTED-PRINTABLE" in encoding:
        raw = quopri.decodestring(value.encode("utf-8", "replace"))
        charsets = params.get("CHARSET")
        return decode_bytes(raw, charsets[0] if charsets else None)
    return value


def _types(params: dict[str, list[str]]) -> list[str]:
    return [t.lower() for t in params.get("TYPE", [])]


def _preference(params: dict[str, list[str]]) -> int:
    """Lower sorts first: PREF=1 (4.0) or TYPE=pref (2.1, 3.0) before the rest."""
    pref = params.get("PREF")
    if pref:
        try:
            return int(pref[0])
        except ValueError:
            return 100
    return 0 if "pref" in _types(params) else 101


class _CardBuilder:
    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.emails: list[tuple[int, str, str]] = []
        self.phones: list[tuple[int, str, str]] = []
        self.groups: list[str] = []

    def add(self, name: str, params: dict[str, list[str]], raw: str) -> None:
        value = _decode_value(params, raw)
        if name == "FN":
            self.fields["display_name"] = _unescape(value)
        elif name == "N":
            parts = [_unescape(p) for p in _split_escaped(value, ";")] + ["", ""]
            self.fields["family_name"], self.fields["given_name"] = parts[0], parts[1]
        elif name == "EMAIL":
            address = _unescape(value).removeprefix("mailto:").strip()
            label = next((_EMAIL_LABELS[t] for t in _types(params) if t in _EMAIL_LABELS), "")
            if address:
                self.emails.append((_preference(params), address, label))
        elif name == "TEL":
            number = _unescape(value).removeprefix("tel:").strip()
            label = next((_TEL_LABELS[t] for t in _types(params) if _TEL_LABELS.get(t)), "")
            if number:
                self.phones.append((_preference(params), number, label))
        elif name == "ORG":
            self.fields["organisation"] = " ".join(
                p for p in (_unescape(x) for x in _split_escaped(value, ";")) if p)
        elif name in ("TITLE", "NOTE"):
            self.fields["title" if name == "TITLE" else "notes"] = _unescape(value)
        elif name == "CATEGORIES":
            self.groups.extend(g for g in (_unescape(x) for x in _split_escaped(value, ",")) if g)

    def card(self) -> ContactCard:
        emails = tuple((a, lab) for _, a, lab in sorted(self.emails, key=lambda e: e[0]))
        phones = tuple((n, lab) for _, n, lab in sorted(self.phones, key=lambda p: p[0]))
        return ContactCard(emails=emails, phones=phones, groups=tuple(dict.fromkeys(self.groups)), **self.fields)


def parse_vcards(data: bytes | str) -> list[ContactCard]:
    """Every card in a vCard file, in order (never raises; unreadable content yields fewer or emptier cards)."""
    try:
        text = decode_text_file(data[:MAX_INPUT]) if isinstance(data, bytes) else data[:MAX_INPUT]
        cards: list[ContactCard] = []
        builder: _CardBuilder | None = None
        for line in _logical_lines(text):
            parsed = _parse_line(line)
            if parsed is None:
                continue
            name, params, value = parsed
            if name == "BEGIN" and value.strip().upper() == "VCARD":
                if builder is not None:
                    cards.append(builder.card())
                builder = _CardBuilder()
            elif name == "END" and value.strip().upper() == "VCARD":
                if builder is not None:
                    cards.append(builder.card())
                builder = None
            elif builder is not None:
                builder.add(name, params, value)
        if builder is not None:
            cards.append(builder.card())
        return cards
    except Exception:
        return []


def _escape(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            .replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n"))


def fold_line(line: str, limit: int = 75) -> str:
    """Fold a content line at `limit` octets, never inside a UTF-8 sequence (RFC 6350 §3.2)."""
    out: list[str] = []
    current, size = "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        room = limit if not out else limit - 1
        if size + n > room:
            out.append(current)
            current, size = "", 0
        current += ch
        size += n
    out.append(current)
    return "\r\n ".join(out)


def write_vcards(cards: Iterable[ContactCard], version: str = "3.0") -> str:
    """The cards as one vCard file (version "3.0" or "4.0"), CRLF line ends."""
    v4 = version == "4.0"
    lines: list[str] = []
    for card in cards:
        props = ["BEGIN:VCARD", f"VERSION:{'4.0' if v4 else '3.0'}", f"FN:{_escape(card.name())}",
                 f"N:{_escape(card.family_name)};{_escape(card.given_name)};;;"]
        for i, (address, label) in enumerate(card.emails):
            types = [label] if label in ("work", "home") else []
            if v4:
                params = (f";TYPE={','.join(types)}" if types else "") + (";PREF=1" if i == 0 else "")
            else:
                params = ";TYPE=" + ",".join(["INTERNET", *types, *(["pref"] if i == 0 else [])])
            props.append(f"EMAIL{params}:{_escape(address)}")
        for number, label in card.phones:
            tel_type = _TEL_TYPES.get(label)
            props.append(f"TEL{';TYPE=' + tel_type if tel_type else ''}:{_escape(number)}")
        if card.organisation:
            props.append(f"ORG:{_escape(card.organisation)}")
        if card.title:
            props.append(f"TITLE:{_escape(card.title)}")
        if card.notes:
            props.append(f"NOTE:{_escape(card.notes)}")
        if card.groups:
            props.append("CATEGORIES:" + ",".join(_escape(g) for g in card.groups))
        props.append("END:VCARD")
        lines.extend(fold_line(p) for p in props)
    return "".join(line + "\r\n" for line in lines)
