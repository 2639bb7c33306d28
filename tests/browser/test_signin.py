"""Story 1: a user signs in (a wrong password is refused with a visible error, the right one opens the mail),
then signs out and is back on the sign-in page, no longer able to open the mail."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Site, sign_out


def test_sign_in_wrong_then_right_then_sign_out(page: Page, site: Site) -> None:
    address = site.new_account("signin")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin"))
    page.fill("#address", address)
    page.fill("#password", "not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong address or password.")
    expect(page.locator("#address")).to_have_value(address)

    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/mail"))
    expect(page.locator("header .who")).to_have_text(address)
    expect(page.locator("#mail-folders")).to_contain_text("Inbox")

    sign_out(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/mail")
    expect(page).to_have_url(re.compile(r"/signin"))
