"""More of what users do every day, in the browser: notes written in rich text and saved automatically, a contact
added and written to, the message list's toolbar and keyboard, and a reply from the reading pane. Each page's
scripts must run without an error (the `problems` fixture fails the test otherwise)."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Dialog, Page, expect

from tests.browser.conftest import Problems, Site, new_context, sign_in
from tests.mailfactory import make_message


def accept_dialogs(page: Page, seen: list[str]) -> None:
    def accept(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)


def test_note_in_rich_text_is_saved_automatically_and_deleted(page: Page, site: Site) -> None:
    address = site.new_account("notes")
    sign_in(page, address)
    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Notes").click()
    page.get_by_test_id("new-note").click()
    page.get_by_label("Title").fill("周末计划")
    page.get_by_label("Rich text").check()
    editor = page.get_by_test_id("rich-editor")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.type("去 ")
    page.get_by_role("toolbar", name="Formatting").get_by_role("button", name="Bold").click()
    page.keyboard.type("颐和园")
    expect(editor.locator("b, strong")).to_have_text("颐和园")
    expect(page.locator("#note-form .status")).to_have_text(re.compile(r"^Saved"))
    expect(page).to_have_url(re.compile(r"/notes/\d+$"))

    page.reload()
    expect(page.get_by_label("Title")).to_have_value("周末计划")
    expect(page.get_by_test_id("rich-editor").locator("b, strong")).to_have_text("颐和园")
    expect(page.locator("#notes-list")).to_contain_text("周末计划")

    questions: list[str] = []
    accept_dialogs(page, questions)
    page.get_by_test_id("delete-note").click()
    expect(page.get_by_role("status").filter(has_text="The note was deleted.")).to_be_visible()
    assert questions == ["Delete this note?"]
    expect(page.locator("#notes-list")).not_to_contain_text("周末计划")


def test_contact_added_then_written_to(page: Page, site: Site) -> None:
    address = site.new_account("contacts")
    sign_in(page, address)
    page.goto("/contacts")
    page.get_by_role("link", name="New contact").click()
    form = page.locator("#contact-form")
    form.get_by_label("Name", exact=True).fill("张三")
    form.get_by_label("Mail address").first.fill("zhang.san@example.org")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="张三")).to_be_visible()

    page.goto("/contacts")
    search = page.get_by_placeholder("Name, address or pinyin initials")
    search.fill("zs")
    search.press("Enter")
    expect(page.locator("main")).to_contain_text("zhang.san@example.org")
    page.get_by_role("link", name="Write").first.click()
    expect(page).to_have_url(re.compile(r"/compose"))
    expect(page.get_by_test_id("compose-to")).to_have_value(re.compile(r"zhang\.san@example\.org"))


def test_toolbar_and_keys_of_the_message_list(page: Page, site: Site) -> None:
    address = site.new_account("keys")
    for subject in ("第一封", "第二封", "第三封"):
        site.deliver(make_message(subject=subject, to=address), address)
    sign_in(page, address)
    rows = page.get_by_test_id("message-row")
    expect(rows).to_have_count(3)
    expect(page.locator("tr.msg.unread")).to_have_count(3)

    rows.filter(has_text="第二封").get_by_role("checkbox").check()
    toolbar = page.get_by_role("toolbar", name="Actions on the selected messages")
    toolbar.get_by_role("button", name="Read", exact=True).click()
    expect(page.locator("tr.msg.unread")).to_have_count(2)
    expect(page.locator("#mail-folders a.folder[data-folder='INBOX'] .count")).to_have_text("2")

    rows.filter(has_text="第一封").locator("button.star-toggle").click()
    expect(rows.filter(has_text="第一封")).to_have_class(re.compile(r"\bflagged\b"))

    page.locator("body").press("j")
    expect(page.locator("tr.msg.current")).to_have_count(1)
    current = page.locator("tr.msg.current .subject").inner_text()
    page.locator("body").press("Delete")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=current)).to_have_count(0)
    page.locator("#mail-folders a.folder[data-folder='Trash']").click()
    expect(page.get_by_test_id("message-row")).to_have_count(1)
    expect(page.get_by_test_id("message-row")).to_contain_text(current)


def test_reply_from_the_reading_pane(page: Page, site: Site) -> None:
    address = site.new_account("replier")
    friend = site.new_account("friend")
    site.deliver(make_message(subject="周五聚餐", sender=f"Friend <{friend}>", to=address,
                              body="七点在老地方？"), address)
    sign_in(page, address)
    page.get_by_test_id("message-row").filter(has_text="周五聚餐").locator("a.open").click()
    page.locator("#reading-pane").get_by_test_id("reply").click()
    expect(page).to_have_url(re.compile(r"/compose\?reply="))
    expect(page.get_by_test_id("compose-subject")).to_have_value("Re: 周五聚餐")
    expect(page.get_by_test_id("compose-to")).to_have_value(re.compile(re.escape(friend)))
    expect(page.get_by_test_id("compose-editor")).to_contain_text("七点在老地方？")
    page.get_by_test_id("compose-editor").click()
    page.keyboard.press("Control+Home")
    page.keyboard.type("好的，不见不散。")
    page.get_by_test_id("compose-send").click()
    page.wait_for_url(re.compile(r"/mail"))

    row = page.get_by_test_id("message-row").filter(has_text="周五聚餐")
    expect(row).to_have_count(1)
    page.locator("#mail-folders a.folder[data-folder='Sent']").click()
    expect(page.get_by_test_id("message-row").filter(has_text="Re: 周五聚餐")).to_have_count(1)


def test_new_mail_appears_while_the_list_is_open(page: Page, site: Site) -> None:
    """Server-sent events: mail delivered while the inbox is on screen shows up without a reload, and so does the
    folder's unread count."""
    address = site.new_account("live")
    site.deliver(make_message(subject="Already here", to=address), address)
    with page.expect_response(lambda reply: reply.url.endswith("/mail/events")):  # subscribed once it answers
        sign_in(page, address)
    expect(page.get_by_test_id("message-row")).to_have_count(1)
    site.deliver(make_message(subject="实时到达", to=address), address)
    expect(page.get_by_test_id("message-row").filter(has_text="实时到达")).to_have_count(1)
    expect(page.locator("#mail-folders a.folder[data-folder='INBOX'] .count")).to_have_text("2")
    expect(page.locator("#mail-folders .summary")).to_have_text("2 unread messages")


def test_reading_a_message_updates_the_unread_counts(page: Page, site: Site) -> None:
    address = site.new_account("counts")
    for subject in ("一", "二", "三"):
        site.deliver(make_message(subject=subject, to=address), address)
    with page.expect_response(lambda reply: reply.url.endswith("/mail/events")):  # subscribed once it answers
        sign_in(page, address)
    summary = page.locator("#mail-folders .summary")
    expect(summary).to_have_text("3 unread messages")
    page.get_by_test_id("message-row").filter(has_text="二").locator("a.open").click()
    expect(page.locator("#reading-pane").get_by_test_id("subject")).to_have_text("二")
    expect(page.locator("#mail-folders a.folder[data-folder='INBOX'] .count")).to_have_text("2")
    expect(summary).to_have_text("2 unread messages")


def test_rich_signature_is_added_to_new_mail(page: Page, site: Site) -> None:
    address = site.new_account("signer")
    sign_in(page, address)
    page.goto("/settings/signatures")
    page.get_by_label("Name", exact=True).fill("工作")
    page.get_by_label("Rich text").check()
    rich = page.locator(".rich[contenteditable]")
    expect(rich).to_be_visible()
    rich.click()
    page.get_by_role("toolbar", name="Formatting").get_by_role("button", name="Bold").click()
    page.keyboard.type("张伟")
    page.get_by_label("Use by default").check()
    page.get_by_test_id("save-signature").click()
    expect(page.locator("main")).to_contain_text("张伟")

    page.goto("/compose")
    editor = page.get_by_test_id("compose-editor")
    expect(editor.locator(".yz-signature")).to_contain_text("张伟")
    expect(editor.locator(".yz-signature").locator("b, strong")).to_have_text("张伟")


def test_phone_opens_a_message_as_its_own_page(browser: Browser, site: Site, problems: Problems) -> None:
    address = site.new_account("phone")
    site.deliver(make_message(subject="手机阅读", to=address, body="在手机上看。"), address)
    context = new_context(browser, site, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.on("page", problems.watch)
    try:
        page = context.new_page()
        sign_in(page, address)
        page.get_by_test_id("message-row").filter(has_text="手机阅读").locator("a.open").tap()
        expect(page).to_have_url(re.compile(r"/mail/read/\d+/\d+$"))
        expect(page.get_by_test_id("subject")).to_have_text("手机阅读")
        expect(page.frame_locator("iframe[data-testid=body]").locator("body")).to_contain_text("在手机上看。")
        expect(page.get_by_test_id("body")).to_be_in_viewport()
        page.get_by_role("link", name="Back to the mailbox").click()
        expect(page.get_by_test_id("message-row")).to_have_count(1)
    finally:
        context.close()
