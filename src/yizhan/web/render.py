"""Server-rendered pages: the Jinja2 environment and `render`.

Invariants: autoescaping is on for every template (.html and .xml); templates translate with `_()` / `{% trans %}`
(Jinja2's i18n extension, new style: translated text is escaped like any value); every page gets the request's
translator (`i18n`: language, time zone, `i18n.datetime(seconds)`), the signed-in principal or None, its CSRF
token for forms and htmx (`csrf_token`), and `static(path)` for versioned links to files in web/static/.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from yizhan.web.i18n import LANGUAGES, current, template_gettext, template_ngettext

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


@functools.cache
def _static_version(path: str) -> str:
    try:
        return hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12]
    except OSError:
        return "0"


def static_url(path: str) -> str:
    """The URL of a static file, with a content hash so browsers may cache it for long."""
    return f"/static/{path}?v={_static_version(path)}"


@functools.cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "xml"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_callables(template_gettext, template_ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["static"] = static_url
    env.globals["languages"] = LANGUAGES
    return env


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    values: dict[str, Any] = {
        "request": request,
        "i18n": current(),
        "principal": principal,
        "csrf_token": principal.session.csrf if principal is not None and principal.session is not None else "",
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    values.update(context or {})
    html = environment().get_template(name).render(values)
    return HTMLResponse(html, status_code=status, headers=headers)
