"""Security headers on every answer, body limits, and pages that need no inline script."""

from __future__ import annotations

import re
from typing import Any

from tests.mailfactory import make_message
from tests.web.conftest import ADDRESS, Web


def assert_protected(reply: Any) -> None:
    csp = reply.headers["content-security-policy"]
    directives = {part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";")}
    assert directives["default-src"] == "default-src 'none'"
    assert directives["script-src"] == "script-src 'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "same-origin"
    assert reply.headers["x-frame-options"] == "DENY"


async def test_every_kind_of_answer_carries_the_security_headers(web: Web) -> None:
    async with web.client() as client:
        answers = [await client.get(path) for path in (
            "/signin", "/", "/healthz", "/api/v1/me", "/api/openapi.json", "/no/such/page", "/api/v1/nothing",
            "/static/css/yizhan.css", "/mail/config-v1.1.xml?emailaddress=alice@example.com", "/language/xx")]
        answers.append(await client.post("/signin", data={"address": "x@example.com", "password": "y"}))
        answers.append(await client.put("/api/v1/me"))
    for reply in answers:
        assert_protected(reply)
        if not str(reply.url.path).startswith("/static/"):
            assert reply.headers["cache-control"] == "no-store", reply.url


async def test_docs_allow_inline_styles_but_never_inline_script(web: Web) -> None:
    async with web.client() as client:
        docs = await client.get("/api/docs")
    assert docs.status_code == 200
    csp = docs.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-eval" not in csp
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert_no_inline_script(docs.text)


def assert_no_inline_script(html: str) -> None:
    for tag in re.findall(r"<script\b[^>]*>", html, flags=re.I):
        assert " src=" in tag, tag
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), "a script element with inline code"
    assert not re.search(r"\son[a-z]+\s*=", html, flags=re.I), "an inline event handler"
    assert not re.search(r"\sstyle\s*=", html, flags=re.I), "an inline style attribute (blocked by style-src)"
    assert "javascript:" not in html.lower()


async def test_pages_work_under_the_csp(web: Web) -> None:
    await web.services.delivery.deliver(make_message(subject="<script>alert(1)</script>"), "bob@example.org",
                                        [ADDRESS])
    async with web.client() as client:
        pages = [(await client.get("/signin")).text]
        bad = await client.post("/signin", data={"address": ADDRESS, "password": "wrong"})
        pages.append(bad.text)
        pages.append((await client.get("/nowhere")).text)
    async with web.signed_in() as client:
        pages.append((await client.get("/", follow_redirects=True)).text)
        pages.append((await client.get("/ui/folders")).text)
    for html in pages:
        assert_no_inline_script(html)
        for src in re.findall(r'(?:src|href)="(/static/[^"?]+)', html):
            async with web.client() as client:
                assert (await client.get(src)).status_code == 200, src


async def test_an_oversized_body_is_refused_with_413(web_with: Any) -> None:
    async with web_with(web={"max_upload_size": 2048}) as web, web.client() as client:
        declared = await client.post("/api/v1/session", content=b"{" + b" " * 4096 + b"}",
                                     headers={"Content-Type": "application/json"})
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "too_large"

        async def chunks() -> Any:  # no Content-Length: the limit applies as the bytes arrive
            for _ in range(8):
                yield b"a" * 1024

        streamed = await client.post("/signin", content=chunks(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert streamed.status_code == 413
        small = await client.post("/api/v1/session", json={"address": ADDRESS, "password": "x"})
        assert small.status_code == 401


async def test_htmx_is_vendored_with_its_licence(web: Web) -> None:
    async with web.client() as client:
        script = await client.get("/static/vendor/htmx/htmx.min.js")
        licence = await client.get("/static/vendor/htmx/LICENSE")
    assert script.status_code == 200 and "htmx" in script.text
    assert licence.status_code == 200 and "Zero-Clause BSD" in licence.text
