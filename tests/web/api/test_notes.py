"""Notes API: create, read, change, delete, search, paging (pinned first), limits, and isolation."""

from __future__ import annotations

from tests.web.api.conftest import BOB, add_bob, as_account, error_of
from tests.web.conftest import Web


async def test_note_crud(web: Web) -> None:
    async with as_account(web) as client:
        made = await client.post("/api/v1/notes", json={"title": "购物清单", "body": "<p>牛奶</p>", "format": "html"})
        assert made.status_code == 201, made.text
        note = made.json()
        assert note["title"] == "购物清单" and note["format"] == "html" and note["pinned"] is False
        assert (await client.get(f"/api/v1/notes/{note['id']}")).json() == note
        changed = await client.patch(f"/api/v1/notes/{note['id']}", json={"pinned": True, "body": "牛奶、鸡蛋",
                                                                          "format": "plain"})
        assert changed.status_code == 200
        assert changed.json() | {"updated_at": 0} == note | {"pinned": True, "body": "牛奶、鸡蛋", "format": "plain",
                                                             "updated_at": 0}
        unchanged = await client.patch(f"/api/v1/notes/{note['id']}", json={})
        assert unchanged.json() == changed.json()
        assert (await client.delete(f"/api/v1/notes/{note['id']}")).status_code == 204
        assert (await client.get(f"/api/v1/notes/{note['id']}")).status_code == 404
        assert (await client.delete(f"/api/v1/notes/{note['id']}")).status_code == 404


async def test_search_paging_and_order(web: Web) -> None:
    async with as_account(web) as client:
        ids = []
        for i in range(5):
            ids.append((await client.post("/api/v1/notes", json={"title": f"note {i}",
                                                                  "body": "会议纪要" if i % 2 else "shopping"})
                        ).json()["id"])
        await client.patch(f"/api/v1/notes/{ids[0]}", json={"pinned": True})
        first = (await client.get("/api/v1/notes", params={"limit": 3})).json()
        assert first["notes"][0]["id"] == ids[0] and first["next_cursor"]
        second = (await client.get("/api/v1/notes", params={"limit": 3, "cursor": first["next_cursor"]})).json()
        every = [n["id"] for n in first["notes"] + second["notes"]]
        assert sorted(every) == sorted(ids) and len(set(every)) == 5
        assert second["next_cursor"] is None
        found = (await client.get("/api/v1/notes", params={"q": "会议"})).json()["notes"]
        assert sorted(n["id"] for n in found) == [ids[1], ids[3]]
        # LIKE wildcards are searched for literally.
        assert (await client.get("/api/v1/notes", params={"q": "%"})).json()["notes"] == []


async def test_bad_notes_are_refused_with_reasons(web: Web) -> None:
    async with as_account(web) as client:
        nul = await client.post("/api/v1/notes", json={"title": "x", "body": "a\x00b"})
        assert nul.status_code == 400 and "NUL" in error_of(nul)["message"]
        fmt = await client.post("/api/v1/notes", json={"title": "x", "format": "markdown"})
        assert fmt.status_code == 422 and error_of(fmt)["fields"][0]["field"] == "format"
        big = await client.post("/api/v1/notes", json={"title": "x", "body": "长" * 100_000})
        assert big.status_code == 400 and "KB" in error_of(big)["message"]
        long_title = await client.post("/api/v1/notes", json={"title": "t" * 201})
        assert long_title.status_code == 422
        assert (await client.get("/api/v1/notes", params={"q": "q" * 101})).status_code == 422
        assert (await client.get("/api/v1/notes")).json()["notes"] == []


async def test_another_accounts_notes_are_not_found(web: Web) -> None:
    await add_bob(web)
    async with as_account(web, BOB) as bob:
        bobs = (await bob.post("/api/v1/notes", json={"title": "Bob's diary", "body": "secret"})).json()["id"]
    async with as_account(web) as alice:
        for reply in (await alice.get(f"/api/v1/notes/{bobs}"),
                      await alice.patch(f"/api/v1/notes/{bobs}", json={"body": "pwned"}),
                      await alice.delete(f"/api/v1/notes/{bobs}")):
            assert reply.status_code == 404 and error_of(reply)["code"] == "not_found"
            assert error_of(reply)["message"] == f"no note {bobs}"
        assert (await alice.get("/api/v1/notes", params={"q": "secret"})).json()["notes"] == []
    async with as_account(web, BOB) as bob:
        assert (await bob.get(f"/api/v1/notes/{bobs}")).json()["body"] == "secret"
