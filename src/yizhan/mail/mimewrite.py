"""Writing MIME: header fields, addresses, parameters and bodies encoded for any MTA (7-bit clean where possible).

- Unstructured text (Subject, names) that is not plain ASCII becomes RFC 2047 §4.1 "B" encoded-words in UTF-8,
  at most 75 characters each (§2), never splitting a character (§5), folded onto continuation lines.
- File names go in both forms readers look for: `filename*` with RFC 2231 §3-§4 percent-encoding (and
  continuations for long names) in Content-Disposition, and an RFC 2047 encoded `name` in Content-Type for
  older readers (Outlook, Foxmail); RFC 2231 §4 says `filename*` wins where both are understood.
- Bodies: text in UTF-8 as 7bit when it is short-lined ASCII, else quoted-printable (mostly Latin text) or base64
  (mostly CJK, where QP would triple the size); binary data in base64 (RFC 2045 §6.8, lines of 76).
- Every line ends in CRLF and no header line exceeds 998 octets (RFC 5322 §2.1.1); CR, LF and other control
  characters in any value are replaced, so no input can add a header field.

Invariants: pure, never raises (values are cleaned, not refused; refusing is `compose.py`'s job).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from urllib.parse import quote

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')
_TOKEN_SAFE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# The longest UTF-8 chunk whose base64 fits an encoded-word of 75 characters ("=?utf-8?B?" + text + "?=").
_WORD_BYTES = 45


def clean(value: str) -> str:
    """One line of header text: control characters (CR and LF included) become spaces, whitespace collapsed."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def new_boundary() -> str:
    # "=_" never occurs in base64 or quoted-printable output (RFC 2045 §6.7 encodes "=" itself).
    return "=_yz_" + secrets.token_hex(12)


def encoded_words(text: str) -> list[str]:
    """RFC 2047 encoded-words for `text`, each at most 75 characters, whole UTF-8 characters in each."""
    words = []
    chunk = b""
    for char in text:
        data = char.encode("utf-8", "replace")
        if len(chunk) + len(data) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += data
    if chunk:
        words.append(chunk)
    return ["=?utf-8?B?" + base64.b64encode(w).decode("ascii") + "?=" for w in words]


def _needs_encoding(text: str) -> bool:
    return not text.isascii() or "=?" in text


def fold(name: str, pieces: list[str]) -> str:
    """A header field `name: pieces…` (pieces joined by spaces), folded before a piece that would take the line
    past 76 characters (RFC 5322 §2.2.3)."""
    line = name + ":"
    lines: list[str] = []
    for piece in pieces:
        if len(line) + 1 + len(piece) > 76 and line != name + ":":
            lines.append(line)
            line = " " + piece
        else:
            line += " " + piece
    lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def unstructured(name: str, value: str) -> str:
    """An unstructured field (RFC 5322 §3.2.5) such as Subject, encoded when it is not plain ASCII."""
    text = clean(value)
    if not text:
        return f"{name}: \r\n"
    # A word too long to fold is encoded too, so no line can pass 998 octets.
    if _needs_encoding(text) or any(len(word) > 200 for word in text.split(" ")):
        return fold(name, encoded_words(text))
    return fold(name, text.split(" "))


def display_name(name: str) -> str:
    """An RFC 5322 §3.4 display name: an atom phrase, a quoted string, or encoded-words."""
    name = clean(name)
    if not name:
        return ""
    if _needs_encoding(name):
        return " ".join(encoded_words(name))
    if _SPECIALS.search(name):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return name


def ascii_address(addr: str) -> str:
    """The address with an internationalised domain in IDNA (A-label) form; a UTF-8 local part stays (RFC 6532)."""
    local, at, domain = addr.rpartition("@")
    if not at or domain.isascii():
        return addr
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return addr


def mailbox(name: str, addr: str) -> str:
    phrase = display_name(name)
    address = ascii_address(clean(addr))
    if not address:
        return phrase  # An unfinished entry of a draft: kept as a name only.
    return f"{phrase} <{address}>" if phrase else address


def address_field(name: str, mailboxes: list[tuple[str, str]]) -> str:
    """An address list field, one mailbox per folded line when long."""
    items = [mailbox(n, a) for n, a in mailboxes]
    return fold(name, [item + ("," if i < len(items) - 1 else "") for i, item in enumerate(items)])


def _quoted_param(key: str, value: str) -> str:
    return f'{key}="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filename_params(filename: str) -> tuple[list[str], list[str]]:
    """(Content-Type parameters, Content-Disposition parameters) naming a file, as described above."""
    name = clean(filename).replace("/", "_").replace("\\", "_")[:255] or "attachment"
    if not _needs_encoding(name):
        return [_quoted_param("name", name)], [_quoted_param("filename", name)]
    # RFC 2231 §7: attribute-char excludes "*", "'" and "%" among others; quote() leaves only unreserved ones.
    encoded = quote(name.encode("utf-8"), safe="")
    chunks = [encoded[i : i + 60] for i in range(0, len(encoded), 60)]
    # Never split a %XX escape between two continuations.
    fixed: list[str] = []
    carry = ""
    for chunk in chunks:
        chunk = carry + chunk
        cut = chunk.rfind("%", max(len(chunk) - 2, 0))
        if cut >= 0 and cut > len(chunk) - 3:
            carry, chunk = chunk[cut:], chunk[:cut]
        else:
            carry = ""
        fixed.append(chunk)
    if carry:
        fixed.append(carry)
    fixed = [c for c in fixed if c]
    if len(fixed) == 1:
        disposition = [f"filename*=utf-8''{fixed[0]}"]
    else:
        disposition = [f"filename*{i}*={'utf-8' + chr(39) * 2 if i == 0 else ''}{c}" for i, c in enumerate(fixed)]
    return [f'name="{" ".join(encoded_words(name))}"'], disposition


def param_header(name: str, value: str, params: list[str]) -> str:
    """`name: value; p1; p2`, folded between parameters and at the spaces inside quoted values (folding white
    space may appear in a quoted string, RFC 5322 §3.2.4, and unfolding keeps the space)."""
    items = [value, *params]
    pieces: list[str] = []
    for i, item in enumerate(items):
        words = (item + (";" if i < len(items) - 1 else "")).split(" ")
        pieces.extend(w for w in words if w)
    return fold(name, pieces)


def token(value: str, fallback: str) -> str:
    """A MIME type or subtype token (RFC 2045 §5.1), or `fallback` when `value` is not one."""
    value = (value or "").strip().lower()
    return value if _TOKEN_SAFE.match(value) else fallback


def content_type_pair(value: str, fallback: str = "application/octet-stream") -> tuple[str, str]:
    main, _, sub = (value or "").partition(";")[0].partition("/")
    main, sub = token(main, ""), token(sub, "")
    if not main or not sub:
        return tuple(fallback.split("/", 1))  # type: ignore[return-value]
    return main, sub


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def base64_body(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + b"\r\n"


def text_body(text: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, encoded body) of UTF-8 text with CRLF line ends."""
    text = crlf(text.replace("\x00", ""))
    if not text.endswith("\r\n"):
        text += "\r\n"
    data = text.encode("utf-8", "replace")
    if data.isascii() and all(len(line) <= 900 for line in data.split(b"\r\n")):
        return "7bit", data
    non_ascii = sum(1 for c in text if ord(c) > 127)
    if non_ascii * 3 > len(text):
        return "base64", base64_body(data)
    qp = binascii.b2a_qp(data.replace(b"\r\n", b"\n"), istext=True).replace(b"\n", b"\r\n")
    return "quoted-printable", qp if qp.endswith(b"\r\n") else qp + b"\r\n"


__all__ = ["address_field", "base64_body", "clean", "content_type_pair", "crlf", "display_name", "encoded_words",
           "filename_params", "fold", "mailbox", "new_boundary", "param_header", "text_body", "unstructured"]
