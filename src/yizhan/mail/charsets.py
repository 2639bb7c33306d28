"""Charset decoding for mail: bodies, RFC 2047 header words and raw 8-bit header bytes.

Invariants: no function here raises on any input, and every result is a valid Unicode string (no lone
surrogates), so it can be stored and indexed as is. Labels that are wrong in practice are corrected:
gb2312/GBK text is decoded as GB18030 (a superset, since mail labelled gb2312 is very often GBK), Big5 as
Big5-HKSCS, and unknown or missing charsets are guessed as UTF-8, then GB18030, then Latin-1.
"""

from __future__ import annotations

import binascii
import codecs
import functools
import re

# Labels that must be decoded with a wider codec than their name says (see FIELD-NOTES, "Charsets").
_ALIASES: dict[str, str] = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "chinese": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "windows-874": "cp874",
    "iso-8859-8-i": "iso8859-8",
    "iso-8859-6-i": "iso8859-6",
    "ks_c_5601-1987": "cp949",
    "unicode-1-1-utf-7": "utf-7",
}

# Labels that promise nothing useful; their data is guessed instead (ASCII-labelled mail often holds UTF-8).
_GUESS_LABELS = frozenset(
    {"us-ascii", "ascii", "ansi_x3.4-1968", "us", "unknown-8bit", "x-unknown", "unknown", "default"}
)

# Python codecs that are not charsets a mail could honestly use; decoding with them would produce nonsense.
_BLOCKED_CODECS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "mbcs"})

# RFC 2047 §2: encoded-word = "=?" charset "?" encoding "?" encoded-text "?=" (charset may carry RFC 2231 §5
# "*lang").
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,80})\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_NEWLINE = re.compile(r"[\r\n]+")
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NOT_B64 = bytes(b for b in range(256) if b not in _B64_ALPHABET)


@functools.lru_cache(maxsize=512)
def resolve_charset(label: str | None) -> str | None:
    """The Python codec name to decode `label` with, or None when the data should be guessed instead."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()[:64]
    # RFC 2231 §5 lets a charset carry a language: "utf-8*en".
    name = name.split("*", 1)[0]
    if name in _ALIASES:
        return _ALIASES[name]
    if not name or name in _GUESS_LABELS:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name.replace("_", "-") in _BLOCKED_CODECS:
        return None
    return _ALIASES.get(info.name, info.name)


def _guess(data: bytes) -> str:
    """Decode bytes of unknown charset: UTF-8, then GB18030, then Latin-1."""
    if data.isascii():
        return data.decode("ascii")
    for codec in ("utf-8", "gb18030"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    # A few bad bytes (a truncated part, one stray byte) should not turn the whole text into Latin-1 mojibake.
    for codec in ("utf-8", "gb18030"):
        text = data.decode(codec, "replace")
        if text.count("\ufffd") <= len(data) // 50 + 1:
            return text
    return data.decode("latin-1")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode `data` labelled with `charset` (which may be wrong, unknown or missing); never raises."""
    if not data:
        return ""
    try:
        codec = resolve_charset(charset)
        if codec is None:
            return _guess(data)
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            if codec == "utf-8":
                # Mail labelled UTF-8 that is not is usually GBK from a misconfigured client.
                return _guess(data)
            return data.decode(codec, "replace")
    except Exception:
        return data.decode("latin-1")


def b64decode_loose(data: bytes) -> bytes:
    """Base64 decoding that tolerates line breaks, garbage characters, missing padding and truncation."""
    try:
        data = data.translate(None, _NOT_B64)
        extra = len(data) % 4
        if extra == 1:
            data = data[:-1]
        elif extra:
            data += b"=" * (4 - extra)
        return binascii.a2b_base64(data)
    except (binascii.Error, ValueError):
        return b""


def fix_8bit(value: str) -> str:
    """Turn a string carrying raw bytes as surrogate escapes (email's compat32 headers) into real text."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return _guess(value.encode("utf-8", "surrogateescape"))


def _decode_word(encoding: str, text: str) -> bytes:
    """The bytes of one encoded-word's text (RFC 2047 §4.1 B and §4.2 Q encodings)."""
    data = text.encode("ascii", "replace")
    if encoding in "bB":
        return b64decode_loose(data)
    return binascii.a2b_qp(data, header=True)


def decode_header_value(raw: str | bytes) -> str:
    """Decode a header value: unfold it, decode RFC 2047 encoded-words and raw 8-bit bytes; never raises.

    Adjacent encoded-words in the same charset are joined as bytes before decoding, because many mailers
    split a multi-byte character across two words. Whitespace between adjacent encoded-words is dropped
    (RFC 2047 §6.2).
    """
    try:
        if isinstance(raw, str):
            # ASCII (most header values) cannot carry surrogate-escaped bytes: no need to check.
            text = raw if raw.isascii() else fix_8bit(raw)
        else:
            text = decode_bytes(raw, None)
        if "\n" in text or "\r" in text:
            text = _NEWLINE.sub("", _FOLD.sub("", text))
        if "=?" not in text:
            return text.replace("\x00", "")
        # Pieces are either literal text (charset None) or the joined bytes of adjacent words in one charset.
        pieces: list[tuple[str | None, str | bytearray]] = []
        pos = 0
        last_was_word = False
        for m in _ENCODED_WORD.finditer(text):
            between = text[pos : m.start()]
            if between and not (last_was_word and between.isspace()):
                pieces.append((None, between))
            charset = m.group(1).split("*", 1)[0].lower()
            data = _decode_word(m.group(2), m.group(3))
            previous = pieces[-1] if pieces else None
            if last_was_word and previous is not None and previous[0] == charset and isinstance(previous[1], bytearray):
                previous[1].extend(data)
            else:
                pieces.append((charset, bytearray(data)))
            last_was_word = True
            pos = m.end()
        pieces.append((None, text[pos:]))
        out = []
        for charset, piece in pieces:
            out.append(decode_bytes(bytes(piece), charset) if isinstance(piece, bytearray) else piece)
        return "".join(out).replace("\x00", "")
    except Exception:
        if isinstance(raw, bytes):
            return raw.decode("latin-1")
        return raw.encode("utf-8", "replace").decode("utf-8", "replace")
