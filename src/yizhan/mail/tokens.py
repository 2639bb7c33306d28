"""Text to search tokens for an SQLite FTS5 table that uses the `unicode61` tokenizer.

The store keeps message text in an FTS5 table created with `tokenize = "unicode61 remove_diacritics 2"`.
`unicode61` treats a whole run of Han characters as one token, so this module rewrites text before it is
indexed and before it is queried:

* Text is normalised with NFKC (fullwidth ＡＢＣ becomes ABC, halfwidth katakana become fullwidth), invisible
  joiners and variation selectors are dropped, and everything is lowercased.
* A run of CJK characters (Han, kana, Hangul, bopomofo) becomes its overlapping character pairs
  followed by its last character alone: 北京会议 → `北京 京会 会议 议`. The extra last character lets a
  one-character query find a character that only ends a run (市 in 北京市). A run of one character is
  that character.
* Any other run of letters and digits is kept as one word; `unicode61` sees the same word. Everything else
  (punctuation, symbols, emoji, `_`) is a separator, so alice.wong@example.com is indexed as
  `alice wong example com` and a query for the whole address is the phrase of those four words.

Invariants:

* `index_text` and `match_expression` share one segmentation, so for any text T and any contiguous
  piece W of T that is a whole CJK word, a whole word or (with prefix=True) the start of a word, the
  expression built from W matches a row whose column holds `index_text(T)`. The tests check this
  against a real FTS5 table.
* Every phrase in an expression contains only letters, digits and spaces inside double quotes, and
  holds at least one token `unicode61` keeps. No user input can reach FTS5 query syntax, and no
  empty phrase (which would silently match nothing) is ever produced.
* Pairs are never formed across punctuation or spaces: 北京。会议 never yields 京会.
* Pure and stdlib only; no function raises on any `str` input.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "SearchDocument",
    "column_expression",
    "index_text",
    "index_tokens",
    "match_expression",
]

@dataclass(frozen=True, slots=True)
class SearchDocument:
    """The tokenised text of one message for the search index, one `index_text` string per column."""

    subject: str = ""
    sender: str = ""
    recipients: str = ""
    body: str = ""
    attachments: str = ""


# Queries longer than this are cut before parsing, and only this many terms are kept, so one pasted page
# cannot turn into an expression FTS5 takes seconds to run.
MAX_QUERY_CHARS = 4096
MAX_QUERY_TERMS = 64

# Code point ranges treated as CJK: each character in a run of these is paired with its neighbour. Punctuation
# inside the blocks (・ ゠ ゛ ゜) is left out so that it separates runs, as `unicode61` does.
_CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x1100, 0x11FF),  # Hangul Jamo.
    (0x3005, 0x3007),  # 々 〆 〇.
    (0x3021, 0x3029),  # Hangzhou numerals.
    (0x3031, 0x3035),  # Kana repeat marks.
    (0x3038, 0x303C),  # More Hangzhou numerals, 〻 and 〼.
    (0x3041, 0x3096),  # Hiragana.
    (0x309D, 0x309F),  # Hiragana iteration marks and ゟ.
    (0x30A1, 0x30FA),  # Katakana.
    (0x30FC, 0x30FF),  # ー, katakana iteration marks and ヿ.
    (0x3105, 0x312F),  # Bopomofo.
    (0x3131, 0x318E),  # Hangul compatibility jamo.
    (0x31A0, 0x31BF),  # Bopomofo extended.
    (0x31F0, 0x31FF),  # Katakana phonetic extensions.
    (0x3400, 0x4DBF),  # CJK extension A.
    (0x4E00, 0x9FFF),  # CJK unified ideographs.
    (0xA960, 0xA97F),  # Hangul Jamo extended A.
    (0xAC00, 0xD7A3),  # Hangul syllables.
    (0xD7B0, 0xD7FF),  # Hangul Jamo extended B.
    (0xF900, 0xFAFF),  # CJK compatibility ideographs.
    (0x1AFF0, 0x1B16F),  # Kana extended B, kana supplement, kana extended A, small kana extension.
    (0x20000, 0x2FA1F),  # CJK extensions B to F and the compatibility supplement.
    (0x30000, 0x323AF),  # CJK extensions G and H.
)

# Letters that Python calls alphanumeric but that `unicode61` (Unicode 6.1 tables) treats as separators;
# a word made only of them would give an empty phrase, so they are separators here too.
_NOT_WORD_RANGES: tuple[tuple[int, int], ...] = ((0x19B0, 0x19C0), (0x19C8, 0x19C9), (0x1CF2, 0x1CF3))


def _char_class(ranges: Iterable[tuple[int, int]]) -> str:
    """A regular expression character class body listing the given inclusive code point ranges."""
    return "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in ranges)


def _mark_ranges() -> list[tuple[int, int]]:
    """Inclusive ranges of combining marks (categories Mn, Mc, Me) below U+20000, found once at import."""
    ranges: list[tuple[int, int]] = []
    for cp in range(0x0300, 0x20000):
        if unicodedata.category(chr(cp))[0] == "M":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return ranges


_CJK = _char_class(_CJK_RANGES)
_NOT_WORD = _char_class(_NOT_WORD_RANGES)
_MARKS = _char_class(_mark_ranges())

# A segment is either a CJK run or a word: a letter or digit that is not CJK, then more of those or combining
# marks (so Indic and decomposed Latin words stay whole). A word always starts with a character `unicode61`
# keeps, which is what guarantees non-empty phrases.
_WORD_START = rf"(?![{_CJK}{_NOT_WORD}])[^\W_]"
_SEGMENT_RE = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>{_WORD_START}(?:{_WORD_START}|[{_MARKS}])*)")

# Characters deleted before segmentation: soft hyphen, zero-width joiners, word joiner, byte order mark
# and the variation selectors that may follow a Han character.
_DELETE = {cp: None for cp in (0x00AD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)}
_DELETE.update({cp: None for cp in range(0xFE00, 0xFE10)})
_DELETE.update({cp: None for cp in range(0xE0100, 0xE01F0)})

# A user's term: a "quoted phrase" (ASCII or curly quotes, an unclosed quote runs to the end) or a bare word.
_TERM_RE = re.compile(r'"(?P<q1>[^"]*)"?|“(?P<q2>[^”]*)”?|(?P<bare>[^\s"“]+)')


def _normalise(text: str) -> str:
    """NFKC, without invisible joiners or variation selectors, lowercased."""
    return unicodedata.normalize("NFKC", text).translate(_DELETE).lower()


def _segments(text: str) -> list[tuple[bool, str]]:
    """The CJK runs and words of already normalised text, in order, as (is_cjk, run) pairs."""
    return [(m.lastgroup == "cjk", m.group()) for m in _SEGMENT_RE.finditer(text)]


def _pairs(run: str) -> list[str]:
    """Overlapping character pairs of a CJK run of two or more characters."""
    return [run[i : i + 2] for i in range(len(run) - 1)]


def index_tokens(text: str) -> list[str]:
    """The tokens `index_text` joins with spaces, for stores that take a list (a PostgreSQL tsvector)."""
    tokens: list[str] = []
    for is_cjk, run in _segments(_normalise(text)):
        if is_cjk and len(run) > 1:
            tokens.extend(_pairs(run))
            tokens.append(run[-1])
        else:
            tokens.append(run)
    return tokens


# The fast path of `index_text` handles text made only of ASCII, Latin letters, general and CJK punctuation,
# fullwidth forms and CJK of the Basic Multilingual Plane; anything else (combining marks, other scripts, astral
# CJK, variation selectors, unassigned code points) is segmented exactly by `index_tokens`. The fast path's
# character classes hold only BMP ranges, which `re` compiles into one bitmap test per character (a class with
# astral ranges is tested range by range).
_CJK_BMP = _char_class((lo, hi) for lo, hi in _CJK_RANGES if hi <= 0xFFFF)
_CJK_SPLIT_RE = re.compile(rf"([{_CJK_BMP}]+)")
_SLOW_PATH_RE = re.compile(rf"[^\x00-\u024f\u2000-\u206f\u3000-\u303f\uff00-\uffef{_CJK_BMP}]")
# The characters of `_DELETE` the fast path can meet (the others send text to the slow path).
_FAST_DELETE = ("\u00ad", "\u200b", "\u200c", "\u200d", "\u2060")
# Fullwidth ASCII (！ ， ： ； ？ ...) and the ideographic space, common in Chinese text, mapped to what NFKC
# makes of them. Each maps to one ASCII character, its own full decomposition, so NFKC of the text is unchanged
# by the mapping; afterwards most Chinese text is already NFKC and skips the (slow) normalisation.
_FULLWIDTH = {chr(cp): unicodedata.normalize("NFKC", chr(cp)) for cp in [*range(0xFF01, 0xFF5F), 0x3000]}
_FULLWIDTH_RE = re.compile("[\uff01-\uff5e\u3000]")
# Pair expansion works on UTF-32 code units in arrays (see `_expand_runs`).
_SPACE = array("I", [ord(" ")])
_RUN_JOINT = re.compile("\x00 \x00[^ ] ")


def _expand_runs(runs: list[str]) -> list[str]:
    """Each CJK run as its overlapping pairs and its last character, spaced (北京会议 → 北京 京会 会议 议; a run of one
    character stays as it is), computed for all runs at once without a Python step per character or run.

    The runs are joined by NUL (never in a run) into J of n characters; the output interleaves J, J shifted by
    one and spaces: J0 J1 ␠ J1 J2 ␠ … J(n-1). Around each NUL this yields `X\0 \0Y ` (the end of one run and the
    start of the next), which `_RUN_JOINT` turns back into a single NUL to split on.
    """
    joined = array("I")
    joined.frombytes("\x00".join(runs).encode("utf-32-le"))
    out = _SPACE * (3 * len(joined) - 2)
    out[0::3] = joined
    out[1::3] = joined[1:]
    return _RUN_JOINT.sub("\x00", out.tobytes().decode("utf-32-le")).split("\x00")


def index_text(text: str) -> str:
    """The string to store in an FTS5 column for `text`: the same tokens as `index_tokens`, once `unicode61`
    has split it (non-CJK text is left for `unicode61` to split into words, which is much faster here).

    >>> index_text("北京会议 Agenda: alice.wong@example.com").split()
    ['北京', '京会', '会议', '议', 'agenda:', 'alice.wong@example.com']
    """
    if not text.isascii():
        if _SLOW_PATH_RE.search(text):
            return " ".join(index_tokens(text))
        for char in set(_FULLWIDTH_RE.findall(text)):
            text = text.replace(char, _FULLWIDTH[char])
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
            # NFKC can leave the fast path's characters (U+FFE8 → U+2502, U+FA6C → U+242EE).
            if _SLOW_PATH_RE.search(text):
                return " ".join(index_tokens(text))
        for char in _FAST_DELETE:
            if char in text:
                text = text.replace(char, "")
        parts = _CJK_SPLIT_RE.split(text)
        if len(parts) > 1:
            # CJK runs (odd items) spaced from their neighbours: " ".join puts one space on each side.
            parts[1::2] = _expand_runs(parts[1::2])
            text = " ".join(parts).strip()
    return text.lower()


def _phrase(text: str, prefix: bool) -> str | None:
    """One FTS5 phrase for one term or quoted phrase, or None when it holds no token.

    CJK runs inside the phrase are written as they are indexed, except that the last run leaves out its
    trailing single character, because the matching text may continue the run. A last run of one
    character and, when `prefix` is set, a last word become prefix queries.
    """
    segments = _segments(text)
    if not segments:
        return None
    tokens: list[str] = []
    last = len(segments) - 1
    for i, (is_cjk, run) in enumerate(segments):
        if is_cjk and len(run) > 1:
            tokens.extend(_pairs(run))
            if i != last:
                tokens.append(run[-1])
        else:
            tokens.append(run)
    last_cjk, last_run = segments[last]
    star = (last_cjk and len(last_run) == 1) or (not last_cjk and prefix)
    return '"' + " ".join(tokens) + '"' + ("*" if star else "")


def match_expression(text: str, prefix: bool = True) -> str | None:
    """An FTS5 MATCH expression requiring every term of a user's text, or None when nothing is searchable.

    Bare terms are split on white space; a term like alice.wong@example.com becomes one phrase. "Quoted
    phrases" stay phrases and are matched exactly (no prefix on their last word). With `prefix` set, the last
    word of each bare term matches any word it starts.

    >>> match_expression("北京会议 agenda")
    '"北京 京会 会议" AND "agenda"*'
    >>> match_expression('京 "Q3 report" OR (x*)', prefix=False)
    '"京"* AND "q3 report" AND "or" AND "x"'
    """
    normalised = _normalise(text[:MAX_QUERY_CHARS])
    parts: list[str] = []
    for m in _TERM_RE.finditer(normalised):
        bare = m.group("bare")
        if bare is not None:
            phrase = _phrase(bare, prefix)
        else:
            phrase = _phrase(m.group("q1") or m.group("q2") or "", False)
        if phrase is not None and phrase not in parts:
            parts.append(phrase)
            if len(parts) >= MAX_QUERY_TERMS:
                break
    if not parts:
        return None
    return " AND ".join(parts)


def column_expression(column: str | Sequence[str], text: str, prefix: bool = True) -> str | None:
    """`match_expression(text, prefix)` restricted to one or more columns, or None when nothing is searchable.

    Column names are written as FTS5 strings, so any name is safe; they must name columns of the table.

    >>> column_expression("subject", "季度报告")
    '"subject" : ("季度 度报 报告")'
    >>> column_expression(("from_addr", "to_addr"), "alice")
    '{"from_addr" "to_addr"} : ("alice"*)'
    """
    expression = match_expression(text, prefix)
    if expression is None:
        return None
    names = [column] if isinstance(column, str) else list(column)
    if not names:
        raise ValueError("column_expression needs at least one column")
    quoted = ['"' + name.replace('"', '""') + '"' for name in names]
    colset = quoted[0] if len(quoted) == 1 else "{" + " ".join(quoted) + "}"
    return f"{colset} : ({expression})"
