"""Plain-text mail bodies for the web: format=flowed undone, quoted lines as block quotes, links made clickable.

- `unflow` reads RFC 3676 text: a line ending in a space continues on the next line of the same quote depth
  (the space is removed with DelSp=yes, §4.2), space-stuffing is undone (§4.4), and the signature separator
  "-- " is never joined (§4.3).
- `text_to_html` escapes everything and builds only `<div>`, `<blockquote>`, `<br>` and `<a>` with http, https or
  mailto links, so its output is safe HTML by construction (the renderer still passes it through the sanitiser).
- `quote_text` prefixes lines with "> " for a reply (RFC 3676 §4.5: quote marks without a space between them).

Invariants: pure and never raises; input beyond `MAX_TEXT_CHARS` is cut.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

MAX_TEXT_CHARS = 1024 * 1024

# A URL runs to whitespace, angle brackets, quotes or CJK punctuation; trailing ASCII punctuation is not part of it.
_LINK = re.compile(
    r"(?P<url>(?:https?://|www\.)[^\s<>\"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]+)"
    r"|(?P<mail>(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
)
_TRAILING = ".,;:!?)]}'\"*"


@dataclass(frozen=True, slots=True)
class TextLine:
    """One logical line: its quote depth and its text (quote marks and stuffing removed)."""

    depth: int
    text: str


def _split_quote(line: str) -> tuple[int, str]:
    depth = 0
    i = 0
    while i < len(line) and line[i] == ">":
        depth += 1
        i += 1
        # "> > text" (a space between marks) is common in non-flowed mail; read it as depth 2 too.
        if i + 1 < len(line) and line[i] == " " and line[i + 1] == ">":
            i += 1
    rest = line[i:]
    return depth, rest


def unflow(text: str, flowed: bool, delsp: bool = False) -> list[TextLine]:
    """Logical lines of a text body (RFC 3676 §4 when `flowed`); quote depth read for non-flowed text too."""
    lines: list[TextLine] = []
    pending: TextLine | None = None
    for raw_line in text[:MAX_TEXT_CHARS].replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        depth, rest = _split_quote(raw_line)
        if flowed:
            if rest.startswith(" "):
                rest = rest[1:]  # Space-stuffing (§4.4) or the space after quote marks.
            soft = rest.endswith(" ") and rest != "-- "
            if soft and delsp:
                rest = rest[:-1]
        else:
            if depth and rest.startswith(" "):
                rest = rest[1:]
            soft = False
        if pending is not None and pending.depth == depth:
            pending = TextLine(depth, pending.text + rest)
        else:
            if pending is not None:
                lines.append(pending)
            pending = TextLine(depth, rest)
        if not soft:
            lines.append(pending)
            pending = None
    if pending is not None:
        lines.append(pending)
    # A final newline makes an empty last line; it is not shown.
    while lines and not lines[-1].text and not lines[-1].depth:
        lines.pop()
    return lines


def linkify(text: str) -> str:
    """Escaped text with URLs and mail addresses turned into links that open in a new tab."""
    out: list[str] = []
    pos = 0
    for m in _LINK.finditer(text):
        target = m.group()
        end = m.end()
        if m.group("url"):
            while target and target[-1] in _TRAILING:
                # Keep a closing parenthesis that closes one opened inside the URL (Wikipedia links).
                if target[-1] == ")" and target.count("(") >= target.count(")"):
                    break
                target = target[:-1]
                end -= 1
            if not target or target.lower() in ("http://", "https://", "www."):
                continue
            href = target if "://" in target else "http://" + target
        else:
            href = "mailto:" + target
        out.append(html.escape(text[pos : m.start()], quote=False))
        out.append(f'<a href="{html.escape(href, quote=True)}" target="_blank" rel="noopener noreferrer">'
                   f"{html.escape(target, quote=False)}</a>")
        pos = end
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def text_to_html(text: str, flowed: bool = False, delsp: bool = False) -> str:
    """Safe HTML for a plain-text body: one `<div>` with pre-wrapped lines, quotes as nested `<blockquote>`s."""
    try:
        lines = unflow(text, flowed, delsp)
        out = ['<div style="white-space: pre-wrap; overflow-wrap: break-word">']
        depth = 0
        first = True
        for line in lines:
            if line.depth != depth:
                while depth < line.depth:
                    out.append('<blockquote style="margin: 0 0 0 .8ex; border-left: 2px solid #ccc; '
                               'padding-left: 1ex">')
                    depth += 1
                while depth > line.depth:
                    out.append("</blockquote>")
                    depth -= 1
                first = True
            if not first:
                out.append("<br>")
            out.append(linkify(line.text))
            first = False
        out.append("</blockquote>" * depth)
        out.append("</div>")
        return "".join(out)
    except Exception:
        return "<div>" + html.escape(text[:MAX_TEXT_CHARS]) + "</div>"


def quote_text(text: str) -> str:
    """`text` quoted for a reply: each line prefixed with ">" (and a space before unquoted text)."""
    out = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        out.append(">" + line if line.startswith(">") else "> " + line if line else ">")
    return "\n".join(out)


__all__ = ["TextLine", "linkify", "quote_text", "text_to_html", "unflow"]
