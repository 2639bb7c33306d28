"""Story 5: filing a message by dragging it. The user makes a folder with the "New folder" dialog, drags a message
row onto that folder in the sidebar, and the message leaves the list and is found in the folder."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, sign_in
from tests.mailfactory import make_message


def test_drag_a_row_onto_a_folder_moves_the_message(page: Page, site: Site) -> None:
    address = site.new_account("filer")
    site.deliver(make_message(subject="发票 2024-05", to=address), address)
    site.deliver(make_message(subject="Stays in the inbox", to=address), address)
    sign_in(page, address)
    expect(page.get_by_test_id("message-row")).to_have_count(2)

    page.locator("#mail-folders button.open-dialog[data-dialog=folder-create]").click()
    dialog = page.locator("#folder-create")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name (use / for a subfolder)").fill("财务")
    dialog.get_by_role("button", name="Create").click()
    folder = page.locator("#mail-folders a.folder[data-folder='财务']")
    expect(folder).to_be_visible()

    page.goto("/mail")
    row = page.get_by_test_id("message-row").filter(has_text="发票 2024-05")
    row.drag_to(page.locator("#mail-folders a.folder[data-folder='财务']"))
    expect(page.get_by_test_id("message-row")).to_have_count(1)
    expect(page.get_by_test_id("message-row")).to_contain_text("Stays in the inbox")
    expect(page.locator("#mail-folders a.folder[data-folder='财务'] .count")).to_have_text("1")

    page.locator("#mail-folders a.folder[data-folder='财务']").click()
    expect(page.locator(".list-head h1")).to_have_text("财务")
    expect(page.get_by_test_id("message-row")).to_have_count(1)
    expect(page.get_by_test_id("message-row")).to_contain_text("发票 2024-05")
