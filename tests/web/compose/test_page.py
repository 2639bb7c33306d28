"""The compose page: toolbar, labelled fields, vendored scripts served, prefilled fields."""

from __future__ import annotations

import json
import re

from tests.web.compose.conftest import signed_in
from tests.web.conftest import ADDRESS, Web
from yizhan.mail.contactcard import ContactCard


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


async def test_vendored_scripts_and_styles_are_served_with_their_licences(web: Web) -> None:
    async with signed_in(web) as client:
        page = (await client.http.get("/compose")).text
        for path in ("vendor/squire/squire.js", "vendor/dompurify/purify.min.js", "js/compose.js",
                     "js/compose/recipients.js", "js/compose/attachments.js", "js/compose/findbar.js"):
            assert f'src="/static/{path}?v=' in page, path
            reply = await client.http.get(f"/static/{path}")
            assert reply.status_code == 200, path
            assert reply.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
        assert "window.Squire" in (await client.http.get("/static/vendor/squire/squire.js")).text
        assert "DOMPurify" in (await client.http.get("/static/vendor/dompurify/purify.min.js")).text
        for path in ("vendor/squire/LICENSE", "vendor/dompurify/LICENSE", "css/compose.css"):
            assert (await client.http.get(f"/static/{path}")).status_code == 200, path
    # No inline script: the only <script> without src is the JSON state, which browsers do not run.
    assert page.count("<script>") == 0
    assert page.count('<script type="application/json" id="compose-state">') == 1


async def test_page_in_chinese_with_mailto_prefill_and_signature(web: Web) -> None:
    alice = await web.services.directory.account(ADDRESS)
    await web.services.account_settings.add_signature(alice.id, "工作", "<b>王爱丽</b><script>x()</script>",
                                                       "html", is_default=True)
    async with signed_in(web) as client:
        page = await client.http.get("/compose", params={"to": "mailto:bob@example.com", "subject": "你好</script>"},
                                     headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    text = page.text
    assert "收件人" in text and "主题" in text and "存草稿" in text and "发送" in text
    assert 'value="bob@example.com"' in text
    found = re.search(r'id="compose-state">(.*?)</script>', text, re.DOTALL)
    assert found
    state = json.loads(found.group(1))
    # The JSON block cannot be ended early by what it carries; the field's value is escaped.
    assert state["subject"] == "你好</script>" and "你好\\u003c/script\\u003e" in text
    assert 'value="你好&lt;/script&gt;"' in text
    assert state["messages"]["saving"] == "正在保存草稿…"
    assert state["signatures"][0]["name"] == "工作" and "<b>王爱丽</b>" in state["signatures"][0]["html"]
    assert "script" not in state["signatures"][0]["html"]
    assert '<option value="' + str(state["signatures"][0]["id"]) + '" selected>' in text


async def test_recipient_autocomplete_from_contacts_by_pinyin_initials_and_directory(web: Web) -> None:
    await web.services.directory.add_account("wang@example.com", "wangs password 1", display_name="王小明")
    alice = await web.services.directory.account(ADDRESS)
    await web.services.contacts.create(alice.id, ContactCard(display_name="张伟", emails=(("zw@example.org", ""),)))
    async with signed_in(web) as client:
        contact = (await client.http.get("/compose/recipients", params={"q": "zw"})).json()["suggestions"]
        by_address = (await client.http.get("/compose/recipients", params={"q": "wan"})).json()["suggestions"]
        nothing = (await client.http.get("/compose/recipients", params={"q": ""})).json()["suggestions"]
        too_long = await client.http.get("/compose/recipients", params={"q": "x" * 500})
    assert [s["address"] for s in by_address] == ["wang@example.com"]
    assert by_address[0]["label"] == "王小明 <wang@example.com>"
    assert nothing == [] and too_long.status_code == 422
    assert [(s["address"], s["source"]) for s in contact] == [("zw@example.org", "contact")]
