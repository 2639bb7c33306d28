"""Story 3: writing formatted mail with an attachment to another local account. The sender uses the editor's
toolbar (bold, a font, a text colour), attaches a file through the file input and sends with Ctrl+Enter; the
recipient signs in, opens the message and finds the formatting in the body and the attachment, byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Problems, Site, new_context, sign_in

SUBJECT = "周报：格式测试"
FILE_NAME = "会议纪要.bin"
FILE_BYTES = bytes(range(256)) * 40 + "结尾".encode()


def test_formatted_message_with_attachment_reaches_another_account(page: Page, site: Site, browser: Browser,
                                                                   problems: Problems, tmp_path: Path) -> None:
    sender = site.new_account("writer", display_name="Zhang Wei")
    recipient = site.new_account("recipient")
    sign_in(page, sender)
    page.goto("/compose")
    page.fill("#compose-to", recipient)
    page.fill("#compose-subject", SUBJECT)

    editor = page.get_by_test_id("compose-editor")
    editor.click()
    page.keyboard.type("普通文字 ")
    page.get_by_test_id("tb-bold").click()
    page.keyboard.type("加粗文字")
    page.get_by_test_id("tb-bold").click()
    page.keyboard.type(" 继续")
    expect(editor.locator("b")).to_have_text("加粗文字")

    # A new line in 宋体 (a Chinese serif font) and a colour: select its words, then use the toolbar.
    page.keyboard.press("Enter")
    page.keyboard.type("Coloured words")
    page.keyboard.press("Shift+Home")
    page.get_by_test_id("tb-font").select_option(label="宋体")
    page.get_by_test_id("tb-color").fill("#1565c0")
    coloured = editor.locator("span", has_text="Coloured words").last
    expect(coloured).to_be_visible()
    expect(editor.locator("[style*='color']")).to_contain_text("Coloured words")
    expect(editor.locator("[style*='font-family']")).to_contain_text("Coloured words")

    source = tmp_path / FILE_NAME
    source.write_bytes(FILE_BYTES)
    page.get_by_test_id("compose-file").set_input_files(source)
    item = page.get_by_test_id("compose-files").get_by_test_id("attachment")
    expect(item).to_have_attribute("data-upload-id", re.compile(r".+"))
    expect(item.locator(".file-name")).to_have_text(FILE_NAME)

    editor.click()
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/mail"))

    other = new_context(browser, site)
    try:
        reader = other.new_page()
        problems.watch(reader)
        sign_in(reader, recipient)
        row = reader.get_by_test_id("message-row").filter(has_text=SUBJECT)
        expect(row).to_have_count(1)
        row.locator("a.open").click()
        pane = reader.locator("#reading-pane")
        expect(pane.get_by_test_id("subject")).to_have_text(SUBJECT)
        expect(pane.get_by_test_id("from")).to_contain_text(sender)
        frame = pane.frame_locator("iframe[data-testid=body]")
        expect(frame.locator("b, strong").filter(has_text="加粗文字")).to_have_count(1)
        expect(frame.locator("body")).to_contain_text("普通文字")
        styled = frame.locator("[style*='color']").filter(has_text="Coloured words")
        expect(styled.first).to_be_visible()
        assert "rgb(21, 101, 192)" in styled.first.evaluate("node => getComputedStyle(node).color")
        fonted = frame.locator("[style*='font-family']").filter(has_text="Coloured words")
        expect(fonted.first).to_be_visible()

        attachment = pane.get_by_test_id("attachment")
        expect(attachment.locator("a.name")).to_have_text(FILE_NAME)
        with reader.expect_download() as waiting:
            attachment.locator("a.name").click()
        download = waiting.value
        assert download.suggested_filename == FILE_NAME
        saved = tmp_path / "received.bin"
        download.save_as(saved)
        assert saved.read_bytes() == FILE_BYTES
    finally:
        other.close()
