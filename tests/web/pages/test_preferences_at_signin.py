"""The language and time zone an account saved follow it to a new browser at sign-in."""

from __future__ import annotations

from tests.web.conftest import ADDRESS, Web


async def test_saved_language_and_zone_are_set_at_signin(web: Web) -> None:
    account = await web.services.directory.account(ADDRESS)
    await web.services.account_settings.update(account, language="zh-CN", time_zone="Asia/Shanghai")
    # A new browser (no cookies) signs in through the sign-in page.
    async with web.signed_in() as browser:
        assert browser.cookies.get("yizhan_lang") == "zh_CN"
        assert browser.cookies.get("yizhan_zone") == "Asia/Shanghai"
        page = await browser.get("/settings")
        assert "设置" in page.text


async def test_nothing_is_forced_when_nothing_was_chosen(web: Web) -> None:
    async with web.signed_in() as browser:
        assert browser.cookies.get("yizhan_lang") is None and browser.cookies.get("yizhan_zone") is None
        page = await browser.get("/settings", headers={"Accept-Language": "en"})
        assert "Settings" in page.text
