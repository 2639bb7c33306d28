"""Story 7: an administrator creates accounts in the admin console. One gets the password the admin types, the
other a generated one (shown once, read off the page); after the admin signs out, each new account signs in."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN, ADMIN_PASSWORD, Site, sign_in, sign_out


def create_account(page: Page, address: str, password: str, display_name: str) -> None:
    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Admin").click()
    page.get_by_role("navigation", name="Admin console").get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name="New account").click()
    form = page.locator("#account-form")
    form.get_by_label("Mail address").fill(address)
    form.get_by_label("Display name").fill(display_name)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Account created")).to_be_visible()
    expect(page.locator("#done-title + p")).to_have_text(address)


def test_admin_creates_accounts_that_can_sign_in(page: Page, site: Site) -> None:
    number = next(site.counter)
    chosen = f"new-{number}@example.com"
    generated = f"gen-{number}@example.com"
    sign_in(page, ADMIN, ADMIN_PASSWORD)

    create_account(page, chosen, "a fine password 9", "李雷")
    expect(page.get_by_text("The password you entered is set.")).to_be_visible()
    create_account(page, generated, "", "韩梅梅")
    secret = page.get_by_test_id("generated-password").inner_text().strip()
    assert len(secret) >= 12

    page.get_by_role("link", name="All accounts").click()
    expect(page.get_by_role("cell", name=chosen)).to_be_visible()
    sign_out(page)

    for address, password in ((chosen, "a fine password 9"), (generated, secret)):
        sign_in(page, address, password)
        expect(page.locator("header .who")).to_have_text(address)
        expect(page.get_by_role("navigation", name="Areas").get_by_role("link", name="Admin")).to_have_count(0)
        refused = page.goto("/admin/accounts")
        assert refused is not None and refused.status == 403
        expect(page.get_by_role("navigation", name="Admin console")).to_have_count(0)
        page.goto("/mail")
        sign_out(page)
