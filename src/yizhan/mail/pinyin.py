"""Search keys for names: the normalised name and its words, full pinyin and pinyin initials (张三 → "zhangsan",
"zs"), so that autocomplete is a prefix lookup on stored keys.

Pure and never raising. pypinyin is loaded on first use and without its phrase dictionary (PYPINYIN_NO_PHRASES:
about 12 MB instead of 56 MB resident); readings of single characters are what names need. Because a character
can have several readings and surnames often take the rarer one (曾 zeng/ceng, 单 shan/dan, 区 ou/qu), keys are
made for each reading of the first Han character (at most `MAX_VARIANTS`, the most common first); the other
characters take their most common reading.
"""

from __future__ import annotations

import itertools
import os
import unicodedata
from collections.abc import Callable
from functools import lru_cache

MAX_VARIANTS = 4
# Keys longer than this are cut (a key is for prefix search; nobody types 100 characters to autocomplete).
MAX_KEY = 100


def normalise_key(text: str) -> str:
    """NFKC, lowercase, whitespace runs to one space, trimmed and cut to MAX_KEY characters."""
    try:
        return " ".join(unicodedata.normalize("NFKC", text).casefold().split())[:MAX_KEY]
    except Exception:
        return ""


def _is_han(ch: str) -> bool:
    code = ord(ch)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3134F or ch == "〇"


@lru_cache(maxsize=1)
def _reader() -> Callable[[str], list[str]]:
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    from pypinyin import Style, pinyin

    def readings(ch: str) -> list[str]:
        found = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore", v_to_u=False)
        return [r for r in (found[0] if found else []) if r.isascii() and r.isalpha()]

    return readings


@lru_cache(maxsize=4096)
def _char_readings(ch: str) -> tuple[str, ...]:
    try:
        return tuple(dict.fromkeys(_reader()(ch)))
    except Exception:
        return ()


def _syllables(text: str) -> list[tuple[str, ...]]:
    """The text as alternatives per unit: the readings of a Han character (the first one with all its readings,
    later ones with the most common), or a run of other letters and digits."""
    units: list[tuple[str, ...]] = []
    word = ""
    first_han = True
    for ch in text:
        if _is_han(ch):
            if word:
                units.append((word,))
                word = ""
            readings = _char_readings(ch)
            if readings:
                units.append(readings[:MAX_VARIANTS] if first_han else readings[:1])
                first_han = False
        elif ch.isalnum():
            word += ch
        elif word:
            units.append((word,))
            word = ""
    if word:
        units.append((word,))
    return units


def pinyin_variants(text: str) -> list[tuple[str, str]]:
    """(full pinyin, initials) for the likely readings of `text`, most common first; [] when it has no Han."""
    text = normalise_key(text)
    if not any(_is_han(ch) for ch in text):
        return []
    out: list[tuple[str, str]] = []
    for combo in itertools.product(*_syllables(text)):
        full = "".join(combo)[:MAX_KEY]
        initials = "".join(s[0] for s in combo if s)[:MAX_KEY]
        if (full, initials) not in out:
            out.append((full, initials))
    return out


def name_keys(name: str) -> list[tuple[str, str]]:
    """Search keys of a name as (kind, key): the whole name, each later word, the given name of a Chinese name
    (张三丰 → "三丰", "sanfeng", "sf"), and pinyin keys (full and initials of each variant)."""
    keys: list[tuple[str, str]] = []
    norm = normalise_key(name)
    if not norm:
        return keys
    keys.append(("name", norm))
    for word in norm.split(" ")[1:]:
        keys.append(("name", word))
    compact = norm.replace(" ", "")
    if 2 <= len(compact) <= 4 and all(_is_han(ch) for ch in compact):
        keys.append(("name", compact[1:]))
        for full, initials in pinyin_variants(compact[1:])[:1]:
            keys.append(("pinyin", full))
            keys.append(("pinyin", initials))
    for full, initials in pinyin_variants(norm):
        keys.append(("pinyin", full))
        keys.append(("pinyin", initials))
    return list(dict.fromkeys(k for k in keys if k[1]))


def sort_key(name: str) -> str:
    """How names sort: Han characters by their most common pinyin, everything lowercased (张三 sorts as
    "zhang san", between "Yvonne" and "Zoe")."""
    norm = normalise_key(name)
    parts: list[str] = []
    for ch in norm:
        if _is_han(ch):
            readings = _char_readings(ch)
            parts.append((readings[0] if readings else ch) + " ")
        else:
            parts.append(ch)
    return " ".join("".join(parts).split())[:MAX_KEY]
