"""Story 2: reading a message. An HTML message with a Chinese subject and an attachment arrives; the user opens
/mail, clicks its row, and the reading pane shows the subject, the body inside the sandboxed frame, and the
attachment, which downloads under its own name with its own bytes."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, sign_in
from tests.mailfactory import make_message

SUBJECT = "季度报告：北京办公室"
ATTACHMENT = ("预算表.csv", "项目,金额\n服务器,1200\n".encode())


def test_open_message_in_reading_pane_and_download_attachment(page: Page, site: Site, tmp_path: Path) -> None:
    address = site.new_account("reader")
    html = "<html><body><h2 id='greeting'>你好，同事们</h2><p>请查看<b>附件</b>中的预算。</p></body></html>"
    site.deliver(make_message(subject=SUBJECT, to=address, html=html, attachment=ATTACHMENT,
                              sender="王芳 <wang.fang@example.org>"), address)
    sign_in(page, address)

    row = page.get_by_test_id("message-row").filter(has_text=SUBJECT)
    expect(row).to_have_count(1)
    expect(row).to_have_class("msg unread")
    row.locator("a.open").click()

    pane = page.locator("#reading-pane")
    expect(pane.get_by_test_id("subject")).to_have_text(SUBJECT)
    expect(pane.get_by_test_id("from")).to_contain_text("王芳")
    body = pane.get_by_test_id("body")
    # The body is on screen beside the list, not pushed below it by the headers.
    expect(body).to_be_in_viewport(ratio=0.5)
    expect(pane.get_by_test_id("from")).to_have_text("王芳 <wang.fang@example.org>")
    assert (pane.get_by_test_id("from").bounding_box() or {"height": 999})["height"] < 60
    expect(body).to_have_attribute("sandbox", "allow-popups allow-popups-to-escape-sandbox")
    frame = pane.frame_locator("iframe[data-testid=body]")
    expect(frame.locator("h2")).to_have_text("你好，同事们")
    expect(frame.locator("b")).to_have_text("附件")
    expect(row).not_to_have_class("msg unread")

    attachment = pane.get_by_test_id("attachment")
    expect(attachment).to_have_count(1)
    expect(attachment.locator("a.name")).to_have_text(ATTACHMENT[0])
    with page.expect_download() as waiting:
        attachment.locator("a.name").click()
    download = waiting.value
    assert download.suggested_filename == ATTACHMENT[0]
    saved = tmp_path / "saved.csv"
    download.save_as(saved)
    assert saved.read_bytes() == ATTACHMENT[1]
