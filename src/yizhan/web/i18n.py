"""Interface languages (简体中文 and English) and time zones for the web.

Catalogues are gettext `.po` files in `web/locale/<lang>/LC_MESSAGES/` (`messages.po` and one file per area),
compiled in memory with Babel when first used (no build step at install, no `.mo` file that could drift from its
`.po`). English msgids are the source text, so the English catalogue may leave entries empty.

The language of a request is, in order: the `yizhan_lang` cookie (set by the language switch), the best match of
`Accept-Language` (RFC 9110 §12.5.4: q-values honoured, `zh`, `zh-CN`, `zh-Hans`, `zh-SG`, … mean 简体中文; a
Traditional Chinese tag is also served 简体中文, which its readers read far better than English), else English.
The time zone is the `yizhan_zone` cookie (the zone chosen in the settings page), else the `yizhan_tz` cookie (set by
the browser's script to the zone it runs in), when it names an IANA zone, else `web.time_zone` from the configuration.

Templates call `_()`, `gettext()` and `ngettext()` (Jinja2's i18n extension, new style, so values are escaped). They
read the language of the request being rendered from a context variable that `Translator.activate` sets around a
render; Python code translates with `request.state.i18n.gettext`. `N_` marks a string for extraction only.
"""

from __future__ import annotations

import contextvars
import datetime
import functools
import io
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

LANGUAGES: dict[str, str] = {"zh_CN": "简体中文", "en": "English"}
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "yizhan_lang"
TZ_COOKIE = "yizhan_tz"
# The time zone the account chose in its settings (web/ui/settings.py); it beats the browser's own.
ZONE_COOKIE = "yizhan_zone"
LOCALE_DIR = Path(__file__).parent / "locale"
_MAX_HEADER = 1000  # characters of Accept-Language read; the rest is ignored
_MAX_ZONE = 64


def N_(message: str) -> str:
    """Mark `message` for extraction; it is translated where it is shown."""
    return message


def catalogue_files(language: str) -> list[Path]:
    """The `.po` files of `language`: `messages.po` first, then one file per area of the interface (`mail.po`,
    `admin.po`, …), so people working on different areas never edit the same catalogue."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    return sorted(folder.glob("*.po"), key=lambda path: (path.name != "messages.po", path.name))


def _compiled(path: Path, language: str) -> Translations:
    with open(path, "rb") as f:
        catalog = read_po(f, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


@functools.cache
def translations(language: str) -> Translations:
    """The compiled catalogue of `language` (one of LANGUAGES): all its `.po` files merged, read once per process."""
    files = catalogue_files(language)
    merged = _compiled(files[0], language)
    for path in files[1:]:
        merged.merge(_compiled(path, language))
    return merged


def _language_of_tag(tag: str) -> str | None:
    primary = tag.strip().lower().replace("_", "-").split("-", 1)[0]
    if primary == "zh":
        return "zh_CN"
    if primary == "en":
        return "en"
    return None


def negotiate(accept_language: str | None) -> str | None:
    """The language of LANGUAGES that `accept_language` prefers, or None when it names none of them."""
    if not accept_language:
        return None
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(accept_language[:_MAX_HEADER].split(",")):
        tag, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = _language_of_tag(tag)
        if language is None or not 0 < quality <= 1:
            continue
        candidate = (quality, -position, language)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best else None


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    return negotiate(accept_language) or DEFAULT_LANGUAGE


def checked_zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The IANA zone called `name`, or None for anything else (never raises)."""
    if not name or len(name) > _MAX_ZONE or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


_current: contextvars.ContextVar[Translator] = contextvars.ContextVar("yizhan_translator")


@dataclass(frozen=True)
class Translator:
    """One request's language and time zone."""

    language: str
    zone: zoneinfo.ZoneInfo

    @property
    def catalogue(self) -> Translations:
        return translations(self.language)

    @property
    def html_lang(self) -> str:
        return "zh-CN" if self.language == "zh_CN" else self.language

    def gettext(self, message: str) -> str:
        return self.catalogue.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.catalogue.ngettext(singular, plural, n)

    def datetime(self, seconds: int, format: str = "medium") -> str:
        """Epoch seconds as a date and time in the request's zone and language."""
        moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
        return format_datetime(moment, format=format, tzinfo=self.zone, locale=Locale.parse(self.language))

    @contextmanager
    def activate(self) -> Iterator[None]:
        """Make this the language templates translate into, for the duration of a render."""
        token = _current.set(self)
        try:
            yield
        finally:
            _current.reset(token)


def current() -> Translator:
    try:
        return _current.get()
    except LookupError:
        return Translator(DEFAULT_LANGUAGE, zoneinfo.ZoneInfo("UTC"))


def template_gettext(message: str) -> str:
    return current().gettext(message)


def template_ngettext(singular: str, plural: str, n: int) -> str:
    return current().ngettext(singular, plural, n)


class LocaleMiddleware:
    """Chooses the language and time zone of each request; sets `request.state.i18n` and the templates' language
    for the whole request (ASGI middleware)."""

    def __init__(self, app: ASGIApp, default_zone: str) -> None:
        self.app = app
        self.default_zone = checked_zone(default_zone) or zoneinfo.ZoneInfo("UTC")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookies = request.cookies
        chosen = Translator(choose_language(cookies.get(LANG_COOKIE), request.headers.get("accept-language")),
                            checked_zone(cookies.get(ZONE_COOKIE)) or checked_zone(cookies.get(TZ_COOKIE))
                            or self.default_zone)
        scope.setdefault("state", {})["i18n"] = chosen
        with chosen.activate():
            await self.app(scope, receive, send)
