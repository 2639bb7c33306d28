"""HTML mail to plain text, for search and previews, using only the standard library's html.parser.

Invariants: `html_to_text` never raises; it drops what is not shown (script, style, head, title, template),
turns block elements and <br> into single line breaks, unescapes entities and collapses whitespace. It is not a
sanitiser: its output is plain text and is never rendered as HTML.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content is not shown to the reader.
_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "object", "iframe", "svg"})

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
_SPACES = re.compile(r"[ \t\f\v\r\u00a0\u200b\u3000]+")
_BLANK_LINES = re.compile(r"\n{2,}")


class _TextParser(HTMLParser):
    """Collects visible text; `skip` counts the open elements whose content is dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip: dict[str, int] = {}
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip[tag] = self.skip.get(tag, 0) + 1
        elif tag == "pre":
            self.pre += 1
        elif tag == "body":
            # Broken mail often leaves <head> open; the body starts regardless.
            self.skip.pop("head", None)
            self.skip.pop("title", None)
        if tag in _BLOCK:
            self.parts.append("\n")
        elif tag in _CELL:
            self.parts.append(" ")
        elif tag == "img" and not self.skip:
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f" {alt} ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Self-closing tags (<br/>, <img/>) open nothing, so they must not start a skipped region.
        if tag in _SKIP:
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        count = self.skip.get(tag)
        if count is not None:
            if count <= 1:
                del self.skip[tag]
            else:
                self.skip[tag] = count - 1
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag in _BLOCK:
            self.parts.append("\n")
        elif tag in _CELL:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            # Line breaks in the source are spaces, except inside <pre>.
            self.parts.append(data if self.pre else data.replace("\n", " "))


def html_to_text(html: str) -> str:
    """Visible text of an HTML document, one paragraph per line, whitespace collapsed; never raises."""
    parser = _TextParser()
    try:
        parser.feed(html)
        parser.close()
    except Exception:
        # html.parser can still assert on some broken markup; keep the text read so far.
        pass
    try:
        text = "".join(parser.parts)
        lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
        return _BLANK_LINES.sub("\n", "\n".join(lines)).strip().replace("\x00", "")
    except Exception:
        return ""
