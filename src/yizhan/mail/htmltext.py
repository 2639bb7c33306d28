"""HTML mail to plain text, for search and previews: one pass of a regular expression over the markup.

Invariants: `html_to_text` never raises; it drops what is not shown (script, style, head, title, template, ...),
turns block elements and <br> into single line breaks, unescapes entities and collapses whitespace. It is not a
sanitiser: its output is plain text and is never rendered as HTML. It reads markup the way the standard
library's html.parser does for the cases that matter to search (tags, comments, declarations, script and style
content read raw up to their end tag), at a fraction of its cost: only tags are visited, never characters.
"""

from __future__ import annotations

import re
from html import unescape

# Elements whose content is not shown to the reader.
_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "object", "iframe", "svg"})
# Elements whose content is raw text up to their end tag (HTML's raw text elements, as html.parser reads them).
_RAW = frozenset({"script", "style"})

# Elements that start and end a line (HTML Living Standard block-level rendering, roughly).
_BLOCK = frozenset(
    {
        "p", "div", "br", "tr", "li", "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot",
        "blockquote", "pre", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header",
        "footer", "nav", "aside", "form", "address", "figure", "figcaption", "main", "center", "caption",
        "fieldset", "legend", "details", "summary", "body", "html",
    }
)  # fmt: skip

_CELL = frozenset({"td", "th"})
# A tag (start, end or self-closing; attribute values may hold ">"), a comment, a declaration, a
# processing instruction, or "</" without a name (a bogus comment to html.parser, dropped).
_MARKUP = re.compile(
    r"""<(?:(/?)([a-zA-Z][^\t\n\r\f />\x00]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|!--.*?--!?>|(?P<open>!--[^>]*>|!--[^<]*)"""
    r"""|![^>]*>|\?[^>]*>|/(?![a-zA-Z])[^>]*>)""",
    re.DOTALL,
)
_ALT = re.compile(r"""(?:^|[\s/"'])alt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\f\v\r\u00a0\u200b\u3000]+")
_BLANK_LINES = re.compile(r"\n{2,}")


def _raw_text_end(html: str, tag: str, start: int) -> int:
    """Where the raw text of `tag` opened before `start` ends: after its end tag, or the end of the document."""
    close = re.compile(rf"</{tag}\s*>", re.IGNORECASE).search(html, start)
    return close.end() if close else len(html)


def html_to_text(html: str) -> str:
    """Visible text of an HTML document, one paragraph per line, whitespace collapsed; never raises."""
    try:
        return _text(html)
    except Exception:
        return ""


def _text(html: str) -> str:
    parts: list[str] = []
    skip: dict[str, int] = {}
    pre = 0
    pos = 0
    length = len(html)
    while pos < length:
        match = _MARKUP.search(html, pos)
        end = match.start() if match else length
        if end > pos and not skip:
            data = html[pos:end]
            if "&" in data:
                data = unescape(data)
            # Line breaks in the source are spaces, except inside <pre>.
            parts.append(data if pre else data.replace("\n", " "))
        if match is None:
            break
        pos = match.end()
        name = match.group(2)
        if name is None:
            if match.group("open") is not None and not skip:
                # A comment never closed is text up to the next ">" (or "<"), as html.parser reads it.
                parts.append(unescape(match.group()))
            continue
        tag = name.lower()
        if match.group(1):
            count = skip.get(tag)
            if count is not None:
                if count <= 1:
                    del skip[tag]
                else:
                    skip[tag] = count - 1
            if tag == "pre" and pre:
                pre -= 1
            if tag in _BLOCK:
                parts.append("\n")
            elif tag in _CELL:
                parts.append(" ")
            continue
        attrs = match.group(3)
        if attrs.endswith("/"):
            # Self-closing tags (<br/>, <img/>) open nothing, so they must not start a skipped region.
            if tag in _SKIP:
                continue
        elif tag in _RAW:
            # Raw text is never shown: skip to its end tag.
            pos = _raw_text_end(html, tag, pos)
            continue
        elif tag in _SKIP:
            skip[tag] = skip.get(tag, 0) + 1
        elif tag == "pre":
            pre += 1
        elif tag == "body":
            # Broken mail often leaves <head> open; the body starts regardless.
            skip.pop("head", None)
            skip.pop("title", None)
        if tag in _BLOCK:
            parts.append("\n")
        elif tag in _CELL:
            parts.append(" ")
        elif tag == "img" and not skip:
            alt = _ALT.search(attrs)
            if alt:
                value = unescape(next(g for g in alt.groups() if g is not None))
                if value:
                    parts.append(f" {value} ")
    text = "".join(parts)
    lines = (line.strip() for line in _SPACES.sub(" ", text).split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(lines)).strip().replace("\x00", "")
