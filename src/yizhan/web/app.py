"""The web application: `create_app(services, secret, ports)` builds the FastAPI app the http listener serves.

Routes: the pages (web/ui), the API under /api/v1 (web/api), its schema at /api/openapi.json and docs at /api/docs
(Swagger UI served from web/static/vendor, no outside fetches), Thunderbird autoconfig (web/autoconfig.py),
static files under /static/, and /healthz (200 "ok" while the process serves).

Layers, outermost first: the security headers, the language and time zone of the request (web/i18n.py), the
cross-site guard and the body size limit (web/security.py), then the routes, whose failures web/errors.py turns
into answers in one place.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from yizhan import __version__
from yizhan.services.runtime import Services
from yizhan.web import api, autoconfig, errors, ui
from yizhan.web.deps import WebState
from yizhan.web.i18n import LocaleMiddleware
from yizhan.web.render import STATIC, environment
from yizhan.web.security import CSP, BodyLimit, CrossSiteGuard, SecurityHeaders
from yizhan.web.sessions import SessionCodec

OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"
# Swagger UI sets style attributes from its scripts; only the docs page allows inline styles (never scripts).
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def _no_ports() -> dict[str, int]:
    return {}


def create_app(services: Services, secret: bytes, ports: Callable[[], dict[str, int]] = _no_ports) -> FastAPI:
    """The app for `services`; `secret` signs session cookies; `ports` tells the bound port of each listener."""
    web = services.settings.web
    app = FastAPI(title="Yizhan API", version=__version__, openapi_url=OPENAPI_URL, docs_url=None, redoc_url=None,
                  description="The REST API of Yizhan (驿站). Authenticate with the session cookie (sign in with "
                              "POST /api/v1/session; send its csrf_token as X-CSRF-Token on every write) or, "
                              "later, a personal API token as `Authorization: Bearer <token>`.")
    codec = SessionCodec(secret, web.session_lifetime, services.peers)
    app.state.web = WebState(services=services, codec=codec, ports=ports)
    errors.install(app)
    # add_middleware puts each one outside the ones before it.
    app.add_middleware(BodyLimit, max_bytes=web.max_upload_size)
    app.add_middleware(CrossSiteGuard)
    app.add_middleware(LocaleMiddleware, default_zone=web.time_zone)
    app.add_middleware(SecurityHeaders)

    app.include_router(api.router())
    app.include_router(ui.router())
    app.include_router(autoconfig.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return PlainTextResponse("ok\n")

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs(request: Request) -> Response:
        html = environment().get_template("api_docs.html").render({"openapi_url": OPENAPI_URL})
        return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP})

    return app
