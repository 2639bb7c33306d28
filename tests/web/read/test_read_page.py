"""The reading page and pane: decoded Chinese headers and attachment names, the sandboxed body frame, \\Seen on
open, star/unread/move/delete from the pane, and the conversation view."""

from __future__ import annotations

import html
import re

from tests.web.conftest import ADDRESS, Web, csrf_of
from tests.web.read.support import chinese_message, deliver, flags_of, simple_message


async def test_page_shows_decoded_chinese_headers_and_attachments(web: Web) -> None:
    folder_id, uid = await deliver(web, chinese_message())
    assert "\\Seen" not in await flags_of(web, ADDRESS, "INBOX", uid)
    async with web.signed_in(headers={"Accept-Language": "zh-CN"}) as client:
        page = await client.get(f"/mail/read/{folder_id}/{uid}")
    assert page.status_code == 200
    text = page.text
    # gb2312-labelled words holding a GBK-only character (镕) decode as GB18030; RFC 2231 and 2047 file names.
    assert "关于季度会议的通知（镕）" in text
    assert "朱镕基" in text and "zhu@example.org" in text and "王小明" in text and "carol@example.org" in text
    assert "季度报告.pdf" in text and "照片.png" in text and "页面.html" in text and "logo.svg" in text
    assert "回复" in text and "全部回复" in text and "转发" in text  # the page is in Chinese
    # Reply and forward link to the compose page with this message's id.
    assert f'href="/compose?reply={folder_id}:{uid}"' in text
    assert f'href="/compose?reply={folder_id}:{uid}&amp;all=1"' in text
    assert f'href="/compose?forward={folder_id}:{uid}&amp;attach=1"' in text
    # The date, written +0800, is shown in the reader's zone (UTC by default): 01:30.
    assert re.search(r'data-testid="date"><time>[^<]*1:30', text)
    # The body is a sandboxed frame: no scripts, no same origin; the page may frame only itself.
    frame = re.search(r"<iframe class=\"read-body\"[^>]*>", text)
    assert frame and f'src="/mail/body/{folder_id}/{uid}"' in frame.group(0)
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in frame.group(0)
    assert "allow-scripts" not in frame.group(0) and "allow-same-origin" not in frame.group(0)
    assert "frame-src 'self'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # Sizes and the two download forms.
    assert "季度报告.pdf" in text and f'href="/mail/zip/{folder_id}/{uid}"' in text
    assert f'src="/mail/part/{folder_id}/{uid}/3?inline=1"' in text  # the PNG previewed
    # Opening marked it read.
    assert "\\Seen" in await flags_of(web, ADDRESS, "INBOX", uid)


async def test_pane_fragment_and_its_actions(web: Web) -> None:
    folder_id, uid = await deliver(web, simple_message("Pane test"))
    account = await web.services.directory.account(ADDRESS)
    archive = await web.services.mailbox.folder(account.id, "Archive")
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        pane = await client.get(f"/mail/read/{folder_id}/{uid}", params={"pane": "1"})
        assert pane.status_code == 200
        assert "<html" not in pane.text and 'data-testid="message"' in pane.text
        assert 'hx-post="/mail/read/' in pane.text
        csrf = csrf_of((await client.get(f"/mail/read/{folder_id}/{uid}")).text)
        hx = {"HX-Request": "true", "X-CSRF-Token": csrf}
        # Star it and mark it unread again, as the pane's buttons do (htmx gets the fragment back).
        starred = await client.post(f"/mail/read/{folder_id}/{uid}/flags", data={"action": "flag"}, headers=hx)
        assert starred.status_code == 200 and 'aria-pressed="true"' in starred.text
        assert "yizhan:messages-changed" in starred.headers["hx-trigger"]
        unread = await client.post(f"/mail/read/{folder_id}/{uid}/flags", data={"action": "unread"}, headers=hx)
        assert unread.status_code == 200 and "Mark as read" in unread.text
        flags = await flags_of(web, ADDRESS, "INBOX", uid)
        assert "\\Flagged" in flags and "\\Seen" not in flags
        # Without htmx, a plain form post answers 303 back to the page; without the token, 403.
        plain = await client.post(f"/mail/read/{folder_id}/{uid}/flags",
                                  data={"action": "unflag", "csrf_token": csrf})
        assert plain.status_code == 303 and plain.headers["location"] == f"/mail/read/{folder_id}/{uid}"
        refused = await client.post(f"/mail/read/{folder_id}/{uid}/flags", data={"action": "flag"})
        assert refused.status_code == 403
        bad = await client.post(f"/mail/read/{folder_id}/{uid}/flags", data={"action": "explode"}, headers=hx)
        assert bad.status_code == 400
        # Move to Archive from the menu.
        moved = await client.post(f"/mail/read/{folder_id}/{uid}/move",
                                  data={"action": "move", "target": str(archive.id)}, headers=hx)
        assert moved.status_code == 200 and 'data-testid="message-gone"' in moved.text
        assert f'"moved_to": "{archive.id}:1"' in moved.headers["hx-trigger"]
        gone = await client.get(f"/mail/read/{folder_id}/{uid}")
        assert gone.status_code == 404
        # Delete it from Archive: it goes to Trash.
        deleted = await client.post(f"/mail/read/{archive.id}/1/move", data={"action": "delete"}, headers=hx)
        assert deleted.status_code == 200
    assert (await web.services.mailbox.folder(account.id, "Trash")).exists_count == 1
    assert (await web.services.mailbox.folder(account.id, "Archive")).exists_count == 0


async def test_conversation_oldest_first_last_expanded_trash_left_out(web: Web) -> None:
    first = simple_message("Plan", message_id="<t1@example.org>", date="Mon, 06 May 2024 08:00:00 +0000",
                           sender="Bob <bob@example.org>", body="first words")
    second = simple_message("Re: Plan", message_id="<t2@example.org>", in_reply_to="<t1@example.org>",
                            date="Mon, 06 May 2024 09:00:00 +0000", sender="Carol <carol@example.org>",
                            body="second words")
    third = simple_message("Re: Plan", message_id="<t3@example.org>", in_reply_to="<t2@example.org>",
                           date="Mon, 06 May 2024 10:00:00 +0000", sender="Dan <dan@example.org>",
                           body="third words")
    trashed = simple_message("Re: Plan", message_id="<t4@example.org>", in_reply_to="<t3@example.org>",
                             date="Mon, 06 May 2024 11:00:00 +0000", sender="Eve <eve@example.org>")
    unrelated = simple_message("Other", message_id="<o1@example.org>")
    # Delivered in the order they were written (the store threads a reply under a message it already holds).
    refs = [await deliver(web, raw) for raw in (first, unrelated, second, third, trashed)]
    account = await web.services.directory.account(ADDRESS)
    inbox = await web.services.mailbox.folder(account.id, "INBOX")
    await web.services.mailbox.copy(account.id, inbox, [refs[4][1]], "Trash")
    await web.services.mailbox.store_flags(inbox, [refs[4][1]], "add", ["\\Deleted"])
    await web.services.mailbox.expunge(inbox, [refs[4][1]])
    folder_id, first_uid = refs[0]
    async with web.signed_in() as client:
        page = await client.get(f"/mail/thread/{folder_id}/{first_uid}")
        pane = await client.get(f"/mail/thread/{folder_id}/{first_uid}", params={"pane": "1"})
    assert page.status_code == 200 and pane.status_code == 200 and "<html" not in pane.text
    text = page.text
    assert 'data-count="3"' in text
    items = re.findall(r'data-testid="thread-item" data-ref="([\d:]+)"', text)
    assert items == [f"{folder_id}:{refs[0][1]}", f"{folder_id}:{refs[2][1]}"]  # oldest first, the last not here
    assert text.index("Bob") < text.index("Carol") < text.index("Dan")
    assert "Eve" not in text and "Other" not in text
    # The last message is open (its body frame is there) and now read; the others stay unread.
    assert f'src="/mail/body/{folder_id}/{refs[3][1]}"' in text
    assert "\\Seen" in await flags_of(web, ADDRESS, "INBOX", refs[3][1])
    assert "\\Seen" not in await flags_of(web, ADDRESS, "INBOX", refs[0][1])
    assert html.escape("first words") in text  # the preview of a collapsed one


async def test_unknown_or_malformed_ids(web: Web) -> None:
    folder_id, uid = await deliver(web, simple_message("Exists"))
    async with web.signed_in() as client:
        assert (await client.get(f"/mail/read/{folder_id}/{uid + 1}")).status_code == 404
        assert (await client.get(f"/mail/read/{folder_id + 1000}/{uid}")).status_code == 404
        assert (await client.get(f"/mail/read/{folder_id}/0")).status_code == 422
        assert (await client.get(f"/mail/read/x/{uid}")).status_code == 422
        assert (await client.get(f"/mail/read/{folder_id}/{2**70}")).status_code == 422
    async with web.client() as anonymous:
        away = await anonymous.get(f"/mail/read/{folder_id}/{uid}")
    assert away.status_code == 303 and away.headers["location"].startswith("/signin?next=")
