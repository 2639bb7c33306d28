"""Interface preferences kept in cookies: the language switch.

`GET /language/{code}?next=/path` sets the `yizhan_lang` cookie (one year, SameSite=Lax, not HttpOnly-sensitive:
it holds only the language code) and goes back to the page. It changes nothing on the server, so it may be a link.
The time zone cookie is set by web/static/js/yizhan.js from the browser's own zone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from yizhan.util.errors import InvalidInput
from yizhan.web.i18n import LANG_COOKIE, LANGUAGES
from yizhan.web.signin import cookie_secure, safe_next

router = APIRouter()
YEAR = 365 * 86400


@router.get("/language/{code}")
async def switch_language(request: Request, code: str, next: str = "/") -> Response:
    if code not in LANGUAGES:
        raise InvalidInput(f"unknown language {code[:20]!r}: use one of {', '.join(LANGUAGES)}")
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, code, max_age=YEAR, path="/", samesite="lax", secure=cookie_secure(request))
    return response
