"""Story 10: the main pages at desktop and phone widths, saved as screenshots in the artefacts directory
(sign-in, mail list with the reading pane, compose, contacts, notes, settings, admin). At each width, each page
must fit: nothing wider than the screen (a phone must never scroll sideways to reach a button)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Problems, Site, new_context, save_screenshot, sign_in
from tests.mailfactory import make_message
from yizhan.mail.contactcard import ContactCard

VIEWPORTS = {"desktop": {"width": 1366, "height": 860}, "phone": {"width": 390, "height": 844}}
# How far the page reaches past the screen's width (a phone browser zooms out to show such a page whole, so the
# screen's width is the viewport's, not window.innerWidth).
OVERFLOW = "(width) => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - width"


def seed(site: Site, address: str) -> None:
    mails = [("季度报告：北京办公室", "王芳 <wang.fang@example.org>", "<p>请查看<b>附件</b>。</p>"),
             ("Team lunch on Friday", "Bob Smith <bob@example.org>", None),
             ("Re: 会议纪要", "李雷 <li.lei@example.org>", "<p>好的，<i>收到</i>。</p>")]
    for subject, sender, html in mails:
        site.deliver(make_message(subject=subject, sender=sender, to=address, html=html,
                                  attachment=("预算.csv", b"a,b\n1,2\n") if html else None), address)

    async def more() -> None:
        account = await site.services.directory.account(address)
        await site.services.contacts.create(account.id, ContactCard(
            display_name="张三", emails=(("zhang.san@example.org", "work"),)))
        await site.services.contacts.create(account.id, ContactCard(
            display_name="Li Si", emails=(("li.si@example.org", ""),), phones=(("+86 10 1234 5678", ""),)))
        await site.services.notes.create(account.id, "购物清单", "牛奶、鸡蛋、面包")
        await site.services.notes.create(account.id, "Ideas", "A longer note about the garden.")

    site.run(more())


def fits(page: Page, name: str) -> None:
    overflow = page.evaluate(OVERFLOW, (page.viewport_size or {"width": 0})["width"])
    assert overflow <= 1, f"{name} is {overflow}px wider than the screen"


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_main_pages(browser: Browser, site: Site, problems: Problems, width: str) -> None:
    address = site.new_account(f"shots-{width}", role="admin", display_name="Wang Fang")
    seed(site, address)
    context = new_context(browser, site, viewport=VIEWPORTS[width], is_mobile=width == "phone",
                          has_touch=width == "phone")
    context.on("page", problems.watch)
    try:
        page = context.new_page()
        page.goto("/signin")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        fits(page, "sign-in")
        save_screenshot(page, f"{width}-signin")

        sign_in(page, address)
        expect(page.get_by_test_id("message-row")).to_have_count(3)
        fits(page, "mail list")
        save_screenshot(page, f"{width}-mail-list")
        page.get_by_test_id("message-row").filter(has_text="季度报告").locator("a.open").click()
        expect(page.get_by_test_id("subject")).to_have_text("季度报告：北京办公室")
        expect(page.frame_locator("iframe[data-testid=body]").locator("b")).to_have_text("附件")
        fits(page, "reading")
        save_screenshot(page, f"{width}-mail-reading")

        for path, name, ready in (("/compose", "compose", "#compose-editor"),
                                  ("/contacts", "contacts", "text=张三"),
                                  ("/notes", "notes", "text=购物清单"),
                                  ("/settings", "settings", "form"),
                                  ("/admin", "admin", "[data-testid=admin]")):
            page.goto(path)
            expect(page.locator(ready).first).to_be_visible()
            fits(page, name)
            save_screenshot(page, f"{width}-{name}")
    finally:
        context.close()
