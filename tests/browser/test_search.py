"""Story 4: searching in Chinese. Messages about 北京 and 会议 (in the subject or only in the body) arrive with
others; the user types a Chinese word in the search box and sees exactly the messages that contain it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, sign_in
from tests.mailfactory import make_message

MESSAGES = {
    "北京出差安排": "下周一出发，住在朝阳区。",
    "Quarterly numbers": "The 会议 about the numbers moves to Friday.",
    "会议纪要：北京项目": "参加人员：王芳、李雷。",
    "午饭": "今天吃面条吗？",
    "Lunch": "Pizza on Thursday, in the 上海 office.",
}


def subjects(page: Page) -> list[str]:
    return sorted(page.get_by_test_id("message-row").locator(".subject").all_inner_texts())


def search(page: Page, words: str) -> None:
    box = page.get_by_role("searchbox", name="Search mail")
    box.fill("")
    box.press_sequentially(words)
    box.press("Enter")
    expect(page.locator(".list-head h1")).to_contain_text(words)


def test_chinese_words_find_the_right_messages(page: Page, site: Site) -> None:
    address = site.new_account("searcher")
    for subject, body in MESSAGES.items():
        site.deliver(make_message(subject=subject, body=body, to=address), address)
    sign_in(page, address)
    expect(page.get_by_test_id("message-row")).to_have_count(len(MESSAGES))

    search(page, "北京")
    expect(page).to_have_url(re.compile(r"/mail/search\?"))
    expect(page.get_by_test_id("message-row")).to_have_count(2)
    assert subjects(page) == sorted(["北京出差安排", "会议纪要：北京项目"])

    search(page, "会议")
    expect(page.get_by_test_id("message-row")).to_have_count(2)
    assert subjects(page) == sorted(["Quarterly numbers", "会议纪要：北京项目"])

    search(page, "朝阳")
    expect(page.get_by_test_id("message-row")).to_have_count(1)
    assert subjects(page) == ["北京出差安排"]

    search(page, "广州")
    expect(page.get_by_test_id("message-row")).to_have_count(0)
    expect(page.locator("#mail-rows")).to_contain_text("Nothing found.")
