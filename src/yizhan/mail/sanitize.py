"""HTML mail made safe to show in a browser: nh3 (ammonia) with allowlists, CSS inlined and checked, images gated.

What `sanitize_html` guarantees about its output, whatever the input (see tests/mail/xss_corpus.py):
- Only the tags of `TAGS` and the attributes of `ATTRIBUTES` survive; `<script>`, `<style>`, `<svg>`, `<math>`,
  `<iframe>`, `<object>`, `<embed>`, `<form>`, `<base>`, `<meta>`, `<link>` … are removed (the first ones with their
  content), as are comments and every event handler (`on*`).
- URLs in `href` and `src` use only the schemes http, https, mailto and cid; relative URLs and `data:` are dropped
  (Gmail and Outlook.com drop `data:` images too, so senders do not rely on them, and refusing them keeps the CSP
  free of `img-src data:`). A `cid:` image becomes the URL the caller's `part_url` gives for that Content-ID.
- `<style>` blocks are inlined into `style` attributes first (css-inline, never loading anything), so no rule can
  reach beyond the element it was written for; every `style` attribute is then parsed (tinycss2) and keeps only
  declarations of `CSS_PROPERTIES` whose values call no function besides colours and arithmetic, and whose `url()`
  is a `cid:` part or (when allowed) a proxied remote image. `expression()`, `behavior`, `-moz-binding`,
  `@import` and `javascript:` in CSS never survive.
- Remote images (`<img src=http(s)://…>`, protocol-relative `//…`, CSS `url(http…)`) are never loaded directly:
  unless the caller allows them, the URL moves to `data-remote-src` (and is dropped from CSS) and the result says
  the message had some; when allowed, they point at the caller's `proxy_url(url)`.
- Links get `target="_blank"` and `rel="noopener noreferrer"`.

Invariants: pure (no I/O, no network: css-inline is told never to load stylesheets) and never raises; input beyond
`MAX_HTML_CHARS` is cut (the HTML parser closes whatever the cut leaves open). Callback results are checked too: a
`part_url` or `proxy_url` answer that is not an http(s) URL or a site-absolute path is dropped.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

import css_inline
import nh3
import tinycss2
import tinycss2.ast
from tinycss2.serializer import serialize_url

MAX_HTML_CHARS = 2 * 1024 * 1024
# Stylesheets are inlined only in documents up to this size (inlining costs selectors x elements).
_MAX_INLINE_CHARS = 1024 * 1024
_MAX_STYLE_CHARS = 16 * 1024
_MAX_URL_CHARS = 4096

TAGS = frozenset({
    "a", "abbr", "acronym", "address", "article", "aside", "b", "bdi", "bdo", "big", "blockquote", "br", "caption",
    "center", "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "i",
    "img", "ins", "kbd", "li", "main", "mark", "nav", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp",
    "section", "small", "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
})  # fmt: skip

# Removed with everything inside them (the rest of the non-allowlisted tags keep their text).
CONTENT_TAGS = frozenset({
    "script", "style", "title", "noscript", "template", "iframe", "object", "embed", "applet", "svg", "math",
    "frameset", "frame", "noframes", "noembed", "xmp", "select", "textarea", "button", "head", "audio", "video",
    "canvas", "plaintext",
})  # fmt: skip

_COMMON = {"style", "title", "dir", "lang", "align", "valign", "width", "height", "bgcolor"}
ATTRIBUTES: dict[str, set[str]] = {
    "*": _COMMON,
    "a": {"href", "name"},
    "img": {"src", "alt", "border", "hspace", "vspace"},
    "table": {"border", "cellpadding", "cellspacing", "summary"},
    "td": {"colspan", "rowspan", "nowrap"},
    "th": {"colspan", "rowspan", "nowrap", "scope"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value", "type"},
    "col": {"span"},
    "colgroup": {"span"},
    "time": {"datetime"},
    "hr": {"size", "noshade", "color"},
    "details": {"open"},
}

_BOX = [f"{p}{s}" for p in ("margin", "padding") for s in ("", "-top", "-right", "-bottom", "-left")]
_BORDER = [f"border{side}{part}" for side in ("", "-top", "-right", "-bottom", "-left")
           for part in ("", "-color", "-style", "-width")]
CSS_PROPERTIES = frozenset({
    "color", "background", "background-color", "background-image", "background-repeat", "background-position",
    "background-size", "font", "font-family", "font-size", "font-style", "font-weight", "font-variant",
    "text-align", "text-decoration", "text-decoration-color", "text-decoration-line", "text-decoration-style",
    "text-indent", "text-transform", "text-shadow", "line-height", "letter-spacing", "word-spacing", "white-space",
    "word-wrap", "word-break", "overflow-wrap", "vertical-align", "direction", "width", "height", "min-width",
    "max-width", "min-height", "max-height", "display", "visibility", "float", "clear", "overflow", "overflow-x",
    "overflow-y", "list-style", "list-style-type", "list-style-position", "table-layout", "border-collapse",
    "border-spacing", "caption-side", "empty-cells", "border-radius", "box-sizing", "opacity", "text-overflow",
    *_BOX, *_BORDER,
})  # fmt: skip

# Functions a CSS value may call: colours and arithmetic. Everything else (expression, image-set, element, …)
# drops the declaration; url() is checked on its own.
_CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla", "calc", "min", "max", "clamp"})
_CSS_FORBIDDEN = re.compile(r"expression|javascript:|vbscript:|behavior|binding|@import|\\", re.IGNORECASE)

# WHATWG URL parsing drops leading/trailing C0 controls and spaces, and tabs and newlines anywhere.
_URL_STRIP = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_SAFE_TARGET = re.compile(r"^(?:https?://[^\s\"'<>\\]+|/(?![/\\])[^\s\"'<>\\]*)$")


@dataclass(frozen=True, slots=True)
class SanitizeOptions:
    """How to treat images. `allow_remote` shows remote images through `proxy_url` (dropped when it is None);
    `part_url(content_id)` gives the URL of an inline part (None: the `cid:` image is dropped)."""

    allow_remote: bool = False
    proxy_url: Callable[[str], str] | None = None
    part_url: Callable[[str], str | None] | None = None


@dataclass(frozen=True, slots=True)
class SafeHtml:
    html: str
    has_remote_images: bool = False
    # Content-IDs (without brackets) the document refers to with cid: URLs.
    cids: frozenset[str] = field(default_factory=frozenset)


def normalise_url(value: str) -> str:
    """A URL as a browser reads it: surrounding controls and spaces removed, tabs and newlines dropped."""
    return _URL_STRIP.sub("", value.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13"
                                          "\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f \t\n\r"))


def url_scheme(value: str) -> str | None:
    """The lowercased scheme of a URL, "//" for a protocol-relative one, None for a relative one."""
    url = normalise_url(value)
    if url.startswith(("//", "\\\\", "/\\", "\\/")):
        return "//"
    m = _SCHEME.match(url)
    return m.group(1).lower() if m else None


class _Run:
    """The state of one sanitisation: the caller's options and what was found."""

    def __init__(self, options: SanitizeOptions) -> None:
        self.options = options
        self.remote = False
        self.cids: set[str] = set()
        # Remote image URLs parked under a random token until the final pass moves them to data-remote-src.
        self.token = secrets.token_hex(8)
        self.parked: list[str] = []
        # Relative URLs this run produced (part and proxy URLs): the only relative URLs the output may hold.
        self.generated: set[str] = set()

    def _checked(self, url: str | None) -> str | None:
        if url is None or len(url) > _MAX_URL_CHARS or not _SAFE_TARGET.match(url):
            return None
        if url.startswith("/"):
            self.generated.add(url)
        return url

    def relative(self, url: str) -> str | None:
        """nh3's policy for relative URLs (it asks after the attribute filter): only those this run made."""
        return url if url in self.generated else None

    def cid(self, value: str) -> str | None:
        content_id = unquote(normalise_url(value)[4:]).strip().strip("<>")
        self.cids.add(content_id)
        part_url = self.options.part_url
        return self._checked(part_url(content_id)) if part_url is not None and content_id else None

    def remote_image(self, value: str, *, in_css: bool) -> str | None:
        self.remote = True
        url = normalise_url(value)
        if url.startswith("//"):
            url = "https:" + url
        if len(url) > _MAX_URL_CHARS:
            return None
        if self.options.allow_remote and self.options.proxy_url is not None:
            try:
                return self._checked(self.options.proxy_url(url))
            except Exception:
                return None
        if in_css:
            return None
        self.parked.append(url)
        return f"cid:{self.token}-{len(self.parked) - 1}"

    def image_url(self, value: str, *, in_css: bool) -> str | None:
        scheme = url_scheme(value)
        if scheme == "cid":
            return self.cid(value)
        if scheme in ("http", "https", "//"):
            return self.remote_image(value, in_css=in_css)
        return None

    def attribute(self, tag: str, name: str, value: str) -> str | None:
        """nh3's attribute filter: the last word on every attribute (nh3 does not check what it returns)."""
        if name.startswith("on"):
            return None
        if name == "style":
            return clean_style(value, self)
        if name == "src":
            return self.image_url(value, in_css=False) if tag == "img" else None
        if name == "href":
            scheme = url_scheme(value)
            return normalise_url(value) if scheme in ("http", "https", "mailto") else None
        if name in ("background", "action", "formaction", "srcset", "lowsrc", "dynsrc", "poster", "xlink:href"):
            return None
        if "javascript:" in value.lower() or "vbscript:" in value.lower():
            return None
        return value

    def finish(self, text: str) -> str:
        """Move parked remote image URLs from `src` to `data-remote-src` (nh3 wrote them as src="cid:TOKEN-N")."""
        if not self.parked:
            return text

        def swap(m: re.Match[str]) -> str:
            index = int(m.group(1))
            url = self.parked[index] if index < len(self.parked) else ""
            return f'data-remote-src="{html.escape(url, quote=True)}"'

        return re.sub(rf'src="cid:{self.token}-(\d+)"', swap, text)


def _url_token(where: tinycss2.ast.Node, url: str) -> tinycss2.ast.URLToken:
    return tinycss2.ast.URLToken(where.source_line, where.source_column, url, f"url({serialize_url(url)})")


def _css_value(tokens: list[tinycss2.ast.Node], run: _Run) -> bool:
    """Check (and rewrite url() in place) the tokens of one declaration's value; False drops the declaration."""
    for index, token in enumerate(tokens):
        if isinstance(token, tinycss2.ast.URLToken):
            url = run.image_url(token.value, in_css=True)
            if url is None:
                return False
            tokens[index] = _url_token(token, url)
        elif isinstance(token, tinycss2.ast.FunctionBlock):
            if token.lower_name == "url":
                strings = [a for a in token.arguments if isinstance(a, tinycss2.ast.StringToken)]
                if len(strings) != 1:
                    return False
                url = run.image_url(strings[0].value, in_css=True)
                if url is None:
                    return False
                tokens[index] = _url_token(token, url)
            elif token.lower_name not in _CSS_FUNCTIONS or not _css_value(token.arguments, run):
                return False
        elif isinstance(token, tinycss2.ast.ParenthesesBlock | tinycss2.ast.SquareBracketsBlock |
                        tinycss2.ast.CurlyBracketsBlock):
            return False
        elif isinstance(token, tinycss2.ast.AtKeywordToken | tinycss2.ast.ParseError):
            return False
    return True


def clean_style(value: str, run: _Run | None = None) -> str | None:
    """A `style` attribute with only allowed properties and safe values, or None when nothing is left."""
    run = run or _Run(SanitizeOptions())
    try:
        declarations = tinycss2.parse_blocks_contents(value[:_MAX_STYLE_CHARS], skip_comments=True,
                                                      skip_whitespace=True)
    except Exception:
        return None
    kept: list[str] = []
    for item in declarations:
        if not isinstance(item, tinycss2.ast.Declaration) or item.lower_name not in CSS_PROPERTIES:
            continue
        tokens = list(item.value)
        if not _css_value(tokens, run):
            continue
        text = tinycss2.serialize(tokens).strip()
        if not text or _CSS_FORBIDDEN.search(text):
            continue
        kept.append(f"{item.lower_name}: {text}{' !important' if item.important else ''}")
    return "; ".join(kept) if kept else None


def _inline_styles(text: str) -> str:
    """Apply `<style>` rules to the elements as `style` attributes; the stylesheets themselves are dropped."""
    lowered = text.lower()
    if "<style" not in lowered and "<link" not in lowered:
        return text
    if len(text) > _MAX_INLINE_CHARS:
        return text
    try:
        inliner = css_inline.CSSInliner(inline_style_tags=True, keep_style_tags=False, keep_link_tags=False,
                                        load_remote_stylesheets=False)
        return str(inliner.inline(text))
    except Exception:
        return text


def sanitize_html(text: str, options: SanitizeOptions | None = None) -> SafeHtml:
    """Safe HTML for an `<iframe sandbox>` (see the module docstring for what "safe" promises); never raises."""
    run = _Run(options or SanitizeOptions())
    try:
        text = text[:MAX_HTML_CHARS].replace("\x00", "")
        cleaned = nh3.clean(
            _inline_styles(text),
            tags=set(TAGS),
            clean_content_tags=set(CONTENT_TAGS),
            attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
            attribute_filter=run.attribute,
            strip_comments=True,
            link_rel="noopener noreferrer",
            set_tag_attribute_values={"a": {"target": "_blank"}},
            url_schemes={"http", "https", "mailto", "cid"},
            url_relative=run.relative,
        )
        return SafeHtml(run.finish(cleaned), run.remote, frozenset(run.cids))
    except Exception:
        return SafeHtml(html.escape(text[:MAX_HTML_CHARS]).replace("\n", "<br>"), False, frozenset())


__all__ = ["CSS_PROPERTIES", "SafeHtml", "SanitizeOptions", "clean_style", "normalise_url", "sanitize_html",
           "url_scheme"]
