"""API v1 folders and messages over real sockets: list with sort, filters and both paging styles, search, actions,
delete, flags, folders create/rename/delete/empty, CSRF on cookie writes, and another account's ids as 404."""

from __future__ import annotations

import httpx

from tests.web.conftest import Web
from tests.web.mail.helpers import BOB, add_bob, deliver, folder_id


async def _token(client: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRF-Token": (await client.get("/api/v1/session")).json()["csrf_token"]}


async def test_list_sorts_filters_and_pages_by_cursor_or_page(web: Web) -> None:
    await deliver(web, 7)
    inbox = await folder_id(web, "INBOX")
    async with web.signed_in() as client:
        first = (await client.get("/api/v1/messages", params={"folder": inbox, "limit": 3})).json()
        assert [m["subject"] for m in first["messages"]] == ["message 06", "message 05", "message 04"]
        assert first["totals"] == {"total": 7, "unread": 7, "flagged": 0} and first["folder"]["name"] == "INBOX"
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, str | int] = {"folder": inbox, "limit": 3, "sort": "size", "order": "asc"}
            if cursor:
                params["cursor"] = cursor
            body = (await client.get("/api/v1/messages", params=params)).json()
            seen += [m["id"] for m in body["messages"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == [f"{inbox}:{uid}" for uid in range(1, 8)]
        page3 = (await client.get("/api/v1/messages", params={"folder": inbox, "limit": 3, "page": 3})).json()
        assert [m["subject"] for m in page3["messages"]] == ["message 00"] and page3["next_cursor"] is None
        message = first["messages"][0]
        assert message["unread"] is True and message["flags"] == [] and message["from_address"] == "bob@example.org"
        errors = [await client.get("/api/v1/messages", params=p) for p in (
            {"folder": inbox, "sort": "colour"}, {"folder": inbox, "limit": 0}, {"folder": inbox, "limit": 201},
            {"folder": inbox, "cursor": "nonsense"}, {}, {"folder": inbox, "cursor": first["next_cursor"], "page": 2},
            {"folder": inbox, "sort": "size", "cursor": first["next_cursor"]})]
    assert [e.status_code for e in errors] == [422, 422, 422, 400, 400, 400, 400]
    assert all(e.json()["error"]["message"] for e in errors)


async def test_search_through_the_list_call(web: Web) -> None:
    await deliver(web, 1, subject="北京会议纪要")
    await deliver(web, 3)
    async with web.signed_in() as client:
        found = (await client.get("/api/v1/messages", params={"q": "会议"})).json()
        paged = (await client.get("/api/v1/messages", params={"q": "subject:message", "limit": 2})).json()
        rest = (await client.get("/api/v1/messages", params={"q": "subject:message", "limit": 2,
                                                              "cursor": paged["next_cursor"]})).json()
    assert [m["subject"] for m in found["messages"]] == ["北京会议纪要"] and found["messages"][0]["folder"] == "INBOX"
    assert len(paged["messages"]) == 2 and len(rest["messages"]) == 1 and rest["next_cursor"] is None


async def test_actions_delete_and_flags(web: Web) -> None:
    await deliver(web, 4)
    inbox = await folder_id(web, "INBOX")
    junk = await folder_id(web, "Junk")
    trash = await folder_id(web, "Trash")
    async with web.signed_in() as client:
        headers = await _token(client)
        refused = await client.post("/api/v1/messages/actions", json={"ids": [f"{inbox}:1"], "action": "read"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
        read = await client.post("/api/v1/messages/actions", json={"ids": [f"{inbox}:1", f"{inbox}:2"],
                                                                   "action": "read"}, headers=headers)
        assert read.json() == {"action": "read", "changed": 2, "target_folder_id": None, "moved": {}}
        spam = await client.post("/api/v1/messages/actions", json={"ids": [f"{inbox}:3"], "action": "spam"},
                                 headers=headers)
        assert spam.json()["moved"] == {f"{inbox}:3": f"{junk}:1"}
        in_junk = (await client.get("/api/v1/messages", params={"folder": junk})).json()["messages"][0]
        assert "$Junk" in in_junk["flags"]
        flags = await client.patch(f"/api/v1/messages/{inbox}/4/flags", json={"add": ["\\Flagged", "$Work"]},
                                   headers=headers)
        assert flags.status_code == 200 and flags.json()["flagged"] is True and "$Work" in flags.json()["flags"]
        bad_flag = await client.patch(f"/api/v1/messages/{inbox}/4/flags", json={"add": ["\\Deleted"]},
                                      headers=headers)
        assert bad_flag.status_code == 400
        deleted = await client.delete(f"/api/v1/messages/{inbox}/4", headers=headers)
        assert deleted.status_code == 200 and deleted.json()["target_folder_id"] == trash
        gone = await client.delete(f"/api/v1/messages/{trash}/1", headers=headers)
        assert gone.json()["changed"] == 1 and gone.json()["moved"] == {}
        again = await client.delete(f"/api/v1/messages/{trash}/1", headers=headers)
        assert again.status_code == 404
        bad = await client.post("/api/v1/messages/actions", json={"ids": ["x"], "action": "read"}, headers=headers)
        assert bad.status_code == 400 and "12:345" in bad.json()["error"]["message"]
        unknown = await client.post("/api/v1/messages/actions", json={"ids": [f"{inbox}:1"], "action": "burn"},
                                    headers=headers)
        assert unknown.status_code == 422
        conversation = await client.get(f"/api/v1/messages/{inbox}/1/conversation")
        assert [m["id"] for m in conversation.json()["messages"]] == [f"{inbox}:1"]


async def test_folders_create_rename_delete_empty(web: Web) -> None:
    await deliver(web, 2)
    inbox = await folder_id(web, "INBOX")
    async with web.signed_in() as client:
        headers = await _token(client)
        listed = (await client.get("/api/v1/folders")).json()["folders"]
        assert listed[0]["name"] == "INBOX" and listed[0]["id"] == inbox
        made = await client.post("/api/v1/folders", json={"name": "工作/项目"}, headers=headers)
        assert made.status_code == 201 and made.json()["name"] == "工作/项目"
        new_id = made.json()["id"]
        assert (await client.post("/api/v1/folders", json={"name": "工作/项目"}, headers=headers)).status_code == 409
        assert (await client.post("/api/v1/folders", json={"name": "a//b"}, headers=headers)).status_code == 400
        renamed = await client.patch(f"/api/v1/folders/{new_id}", json={"name": "工作/客户"}, headers=headers)
        assert renamed.json()["name"] == "工作/客户" and renamed.json()["id"] == new_id
        moved = await client.post("/api/v1/messages/actions", json={"ids": [f"{inbox}:1"], "action": "move",
                                                                    "folder_id": new_id}, headers=headers)
        assert moved.json()["changed"] == 1
        assert (await client.delete(f"/api/v1/folders/{new_id}", headers=headers)).status_code == 204
        assert (await client.delete(f"/api/v1/folders/{new_id}", headers=headers)).status_code == 404
        assert (await client.delete(f"/api/v1/folders/{inbox}", headers=headers)).status_code == 400
        await client.post("/api/v1/messages/actions", json={"ids": [f"{inbox}:2"], "action": "delete"},
                          headers=headers)
        trash = await folder_id(web, "Trash")
        emptied = await client.post(f"/api/v1/folders/{trash}/empty", headers=headers)
        assert emptied.json() == {"removed": 1}
        assert (await client.post(f"/api/v1/folders/{inbox}/empty", headers=headers)).status_code == 400


async def test_another_accounts_folders_and_messages_are_404(web: Web) -> None:
    await add_bob(web)
    await deliver(web, 1, to=BOB)
    await deliver(web, 1)
    bob_inbox = await folder_id(web, "INBOX", BOB)
    bob_trash = await folder_id(web, "Trash", BOB)
    inbox = await folder_id(web, "INBOX")
    async with web.signed_in() as client:
        headers = await _token(client)
        replies = [
            await client.get("/api/v1/messages", params={"folder": bob_inbox}),
            await client.get("/api/v1/messages", params={"folder": bob_inbox, "q": "message"}),
            await client.post("/api/v1/messages/actions", json={"ids": [f"{bob_inbox}:1"], "action": "read"},
                              headers=headers),
            await client.post("/api/v1/messages/actions", json={"ids": [f"{inbox}:1"], "action": "move",
                                                                "folder_id": bob_trash}, headers=headers),
            await client.delete(f"/api/v1/messages/{bob_inbox}/1", headers=headers),
            await client.patch(f"/api/v1/messages/{bob_inbox}/1/flags", json={"add": ["\\Seen"]}, headers=headers),
            await client.get(f"/api/v1/messages/{bob_inbox}/1/conversation"),
            await client.patch(f"/api/v1/folders/{bob_trash}", json={"name": "x"}, headers=headers),
            await client.delete(f"/api/v1/folders/{bob_trash}", headers=headers),
            await client.post(f"/api/v1/folders/{bob_trash}/empty", headers=headers),
        ]
        missing = await client.get("/api/v1/messages", params={"folder": 987654})
        mine = (await client.get("/api/v1/messages", params={"q": "message"})).json()["messages"]
    assert [r.status_code for r in replies] == [404] * len(replies)
    assert {r.json()["error"]["message"] for r in replies[:2]} == {missing.json()["error"]["message"]}
    assert [m["folder_id"] for m in mine] == [inbox]
    bob_folder = await web.services.mailbox.folder((await web.services.store.directory.get_account(BOB)).id, "INBOX")
    assert bob_folder.exists_count == 1 and bob_folder.unseen_count == 1
