"""The webmail pages over real sockets: the three-pane page, rows and paging, sort and filters, actions with and
without the CSRF token, folder forms, search in Chinese, and another account's ids answering 404."""

from __future__ import annotations

import json
import re

from tests.web.conftest import ADDRESS, Web, csrf_of
from tests.web.mail.helpers import BOB, BOB_PASSWORD, account_id, add_bob, deliver, folder_id


def rows_of(html: str) -> list[str]:
    return re.findall(r'<span class="subject">([^<]*)</span>', html)


async def test_home_goes_to_the_inbox_with_rows_in_the_readers_language_and_zone(web: Web) -> None:
    await deliver(web, 3, attachment=("报告.pdf", b"%PDF-1.4"))
    async with web.signed_in(headers={"Accept-Language": "zh-CN"}) as client:
        client.cookies.set("yizhan_tz", "Asia/Shanghai")
        home = await client.get("/")
        assert home.status_code == 303 and home.headers["location"] == "/mail"
        page = await client.get("/mail")
    assert page.status_code == 200
    html = page.text
    assert rows_of(html) == ["message 02", "message 01", "message 00"]
    assert html.count('class="msg unread"') == 3 and "有附件" in html
    # 2024-03-01 10:00 UTC is 18:00 in Shanghai.
    assert 'title="2024年3月1日 GMT+08:00 18:00:00"' in html or "18:00:00" in html
    inbox = await folder_id(web, "INBOX")
    assert f'href="/mail/read/{inbox}/3"' in html and f'hx-get="/mail/read/{inbox}/3?pane=1"' in html
    assert 'id="reading-pane"' in html and 'id="mail-folders"' in html and "收件箱" in html
    assert 'src="/static/js/mail.js' in html and "3 unread messages" not in html


async def test_rows_page_by_fifty_and_the_last_page_has_no_more(web: Web) -> None:
    await deliver(web, 55)
    async with web.signed_in() as client:
        page = await client.get("/mail")
        assert len(rows_of(page.text)) == 50
        more = re.search(r'<tr class="more" hx-get="([^"]+)"', page.text)
        assert more is not None
        rest = await client.get(more.group(1).replace("&amp;", "&"))
    assert rest.status_code == 200
    assert rows_of(rest.text) == [f"message {i:02d}" for i in range(4, -1, -1)]
    assert 'class="more"' not in rest.text


async def test_sort_and_filters_change_the_rows(web: Web) -> None:
    await deliver(web, 4)
    inbox = await folder_id(web, "INBOX")
    async with web.signed_in() as client:
        largest = await client.get(f"/mail/f/{inbox}", params={"sort": "size", "order": "desc"})
        oldest = await client.get(f"/mail/f/{inbox}", params={"order": "asc"})
        bad = await client.get(f"/mail/f/{inbox}", params={"sort": "colour"})
    assert rows_of(largest.text) == ["message 03", "message 02", "message 01", "message 00"]
    assert rows_of(oldest.text) == ["message 00", "message 01", "message 02", "message 03"]
    assert bad.status_code == 422


async def test_actions_need_the_csrf_token_and_change_flags(web: Web) -> None:
    await deliver(web, 2)
    inbox = await folder_id(web, "INBOX")
    async with web.signed_in() as client:
        token = csrf_of((await client.get("/mail")).text)
        refused = await client.post("/mail/actions", data={"action": "read", "ids": [f"{inbox}:1"]})
        assert refused.status_code == 403
        done = await client.post("/mail/actions", data={"action": "read", "ids": [f"{inbox}:1", f"{inbox}:2"]},
                                 headers={"X-CSRF-Token": token})
        assert done.status_code == 204
        trigger = json.loads(done.headers["HX-Trigger"])["mail-changed"]
        assert trigger["changed"] == 2 and trigger["message"] == "2 messages changed."
        unread = await client.get(f"/mail/f/{inbox}", params={"filter": "unread"})
        assert rows_of(unread.text) == []
        none = await client.post("/mail/actions", data={"action": "read"}, headers={"X-CSRF-Token": token})
        assert none.status_code == 400 and "Select one or more messages first." in none.text
        bad = await client.post("/mail/actions", data={"action": "read", "ids": ["1;2"]},
                                headers={"X-CSRF-Token": token})
        assert bad.status_code == 400


async def test_move_delete_and_empty_trash_from_the_page(web: Web) -> None:
    await deliver(web, 3)
    inbox = await folder_id(web, "INBOX")
    archive = await folder_id(web, "Archive")
    trash = await folder_id(web, "Trash")
    async with web.signed_in() as client:
        token = csrf_of((await client.get("/mail")).text)
        headers = {"X-CSRF-Token": token}
        moved = await client.post("/mail/actions", data={"action": "move", "ids": [f"{inbox}:1"],
                                                         "target": str(archive)}, headers=headers)
        assert moved.status_code == 204
        assert json.loads(moved.headers["HX-Trigger"])["mail-changed"]["moved"] == {f"{inbox}:1": f"{archive}:1"}
        assert rows_of((await client.get(f"/mail/f/{archive}")).text) == ["message 00"]
        await client.post("/mail/actions", data={"action": "delete", "ids": [f"{inbox}:2", f"{inbox}:3"]},
                          headers=headers)
        trash_page = await client.get(f"/mail/f/{trash}")
        assert rows_of(trash_page.text) == ["message 02", "message 01"] and 'id="empty-folder"' in trash_page.text
        emptied = await client.post(f"/mail/folders/{trash}/empty", data={"csrf_token": token})
        assert emptied.status_code == 303 and emptied.headers["location"] == f"/mail/f/{trash}"
        assert rows_of((await client.get(f"/mail/f/{trash}")).text) == []
        assert (await client.post(f"/mail/folders/{inbox}/empty", data={"csrf_token": token})).status_code == 400


async def test_folder_forms_create_rename_delete(web: Web) -> None:
    async with web.signed_in(headers={"Accept-Language": "zh-CN"}) as client:
        token = csrf_of((await client.get("/mail")).text)
        made = await client.post("/mail/folders", data={"csrf_token": token, "name": "项目/2024"})
        assert made.status_code == 303
        new_id = int(made.headers["location"].rsplit("/", 1)[1])
        page = await client.get(made.headers["location"])
        assert 'data-folder="项目/2024"' in page.text and 'id="folder-rename"' in page.text
        renamed = await client.post(f"/mail/folders/{new_id}/rename", data={"csrf_token": token, "name": "客户"})
        assert renamed.status_code == 303
        assert 'data-folder="客户"' in (await client.get("/mail")).text
        duplicate = await client.post("/mail/folders", data={"csrf_token": token, "name": "客户"})
        assert duplicate.status_code == 409
        deleted = await client.post(f"/mail/folders/{new_id}/delete", data={"csrf_token": token})
        assert deleted.status_code == 303 and deleted.headers["location"] == "/mail"
        assert (await client.get(f"/mail/f/{new_id}")).status_code == 404
        trash = await folder_id(web, "Trash")
        assert (await client.post(f"/mail/folders/{trash}/delete", data={"csrf_token": token})).status_code == 400
        assert (await client.post("/mail/folders", data={"name": "x"})).status_code == 403


async def test_search_page_in_chinese_lists_results_with_their_folder(web: Web) -> None:
    await deliver(web, 1, subject="北京会议纪要")
    await deliver(web, 1, subject="Lunch")
    async with web.signed_in() as client:
        found = await client.get("/mail/search", params={"q": "会议"})
        empty = await client.get("/mail/search", params={"q": "from:nobody@nowhere.example"})
        blank = await client.get("/mail/search", params={"q": " "})
        bad = await client.get("/mail/search", params={"q": "before:someday"})
    assert rows_of(found.text) == ["北京会议纪要"] and 'class="in-folder">INBOX<' in found.text
    assert "Nothing found." in empty.text
    assert blank.status_code == 303
    assert bad.status_code == 400


async def test_conversation_fragment_lists_the_thread(web: Web) -> None:
    await deliver(web, 1, subject="周会", message_id="<root@x.org>")
    await deliver(web, 1, subject="Re: 周会", message_id="<re@x.org>", in_reply_to="<root@x.org>")
    inbox = await folder_id(web, "INBOX")
    async with web.signed_in() as client:
        fragment = await client.get(f"/mail/conversation/{inbox}/2")
        threads = await client.get(f"/mail/f/{inbox}", params={"view": "threads"})
    assert fragment.status_code == 200 and "2 messages in this conversation" in fragment.text
    assert rows_of(fragment.text) == ["周会", "Re: 周会"]
    assert rows_of(threads.text) == ["Re: 周会"] and '<span class="thread-count">(2)</span>' in threads.text


async def test_another_accounts_ids_are_404_like_missing_ones(web: Web) -> None:
    await add_bob(web)
    await deliver(web, 1, to=BOB)
    bob_inbox = await folder_id(web, "INBOX", BOB)
    bob_archive = await folder_id(web, "Archive", BOB)
    inbox = await folder_id(web, "INBOX")
    async with web.signed_in() as client:
        token = csrf_of((await client.get("/mail")).text)
        headers = {"X-CSRF-Token": token}
        replies = [
            await client.get(f"/mail/f/{bob_inbox}"),
            await client.get("/mail/rows", params={"folder": bob_inbox}),
            await client.get(f"/mail/conversation/{bob_inbox}/1"),
            await client.post("/mail/actions", data={"action": "read", "ids": [f"{bob_inbox}:1"]}, headers=headers),
            await client.post("/mail/actions", data={"action": "move", "ids": [f"{inbox}:1"],
                                                     "target": str(bob_archive)}, headers=headers),
            await client.post(f"/mail/folders/{bob_archive}/delete", data={"csrf_token": token}),
            await client.post(f"/mail/folders/{bob_archive}/rename", data={"csrf_token": token, "name": "x"}),
            await client.get("/mail/f/99999999999999999999999"),
        ]
        missing = await client.get("/mail/f/999999")
    assert [reply.status_code for reply in replies[:-1]] == [404] * 7
    assert replies[-1].status_code in (404, 422)
    assert missing.status_code == 404
    assert replies[0].text.replace(str(bob_inbox), "N").count("no such folder") == \
        missing.text.replace("999999", "N").count("no such folder")
    async with web.signed_in(BOB, BOB_PASSWORD) as bob:
        page = await bob.get("/mail")
    assert rows_of(page.text) == ["message 00"] and f"{ADDRESS}" not in page.text
    assert (await web.services.mailbox.folder(await account_id(web, BOB), "INBOX")).unseen_count == 1
