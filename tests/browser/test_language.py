"""Story 6: switching the language. The header's switch turns the interface from English to 简体中文 and back;
the choice is remembered (a reload, another page, and the sign-in page after signing out keep it)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, sign_in


def test_switch_to_chinese_and_back(page: Page, site: Site) -> None:
    address = site.new_account("linguist")
    sign_in(page, address)
    areas = page.get_by_role("navigation", name="Areas")
    expect(areas.get_by_role("link", name="Contacts")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#mail-folders")).to_contain_text("Inbox")

    page.get_by_role("navigation", name="Language").get_by_role("link", name="简体中文").click()
    expect(page).to_have_url(re.compile(r"/mail"))
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^zh"))
    areas = page.get_by_role("navigation", name="功能")
    for english, chinese in (("Contacts", "通讯录"), ("Notes", "记事本"), ("Settings", "设置")):
        expect(areas.get_by_role("link", name=chinese)).to_be_visible()
        expect(areas.get_by_role("link", name=english)).to_have_count(0)
    expect(page.locator("#mail-folders")).to_contain_text("收件箱")
    expect(page.get_by_role("searchbox", name="搜索邮件")).to_be_visible()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()

    page.reload()
    expect(page.locator("#mail-folders")).to_contain_text("收件箱")
    page.get_by_role("link", name="通讯录").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.get_by_label("邮箱地址")).to_be_visible()

    page.get_by_role("navigation", name=re.compile("语言")).get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Mail address")).to_be_visible()
