"""The compose page: toolbar, labelled fields, vendored scripts served, prefilled fields."""

from __future__ import annotations

from tests.web.compose.conftest import signed_in
from tests.web.conftest import Web


async def test_compose_page_has_the_toolbar_fields_and_scripts(web: Web) -> None:
    async with signed_in(web) as client:
        page = await client.http.get("/compose")
    assert page.status_code == 200
    html = page.text
    for testid in ("compose-to", "compose-cc", "compose-bcc", "compose-subject", "compose-editor", "compose-send",
                   "tb-bold", "tb-italic", "tb-underline", "tb-strikethrough", "tb-font", "tb-size", "tb-color",
                   "tb-highlight", "tb-ul", "tb-ol", "tb-indent", "tb-outdent", "tb-quote", "tb-link", "tb-image",
                   "tb-clear", "tb-undo", "tb-redo", "tb-find", "compose-attach", "compose-receipt",
                   "compose-priority", "compose-from", "compose-mode"):
        assert f'data-testid="{testid}"' in html, testid
    assert "微软雅黑" in html and "宋体" in html and "楷体" in html
    assert "style-src-attr 'unsafe-inline'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
