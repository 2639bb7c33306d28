"""Settings API: read and change settings (all checked before any is stored), remote-image senders, signatures,
and isolation of signatures."""

from __future__ import annotations

from tests.web.api.conftest import BOB, add_bob, as_account, error_of
from tests.web.conftest import ADDRESS, Web


async def test_settings_read_and_change(web: Web) -> None:
    async with as_account(web) as client:
        defaults = (await client.get("/api/v1/settings")).json()
        assert defaults == {"display_name": "Alice Wong", "language": "auto", "time_zone": "UTC",
                            "density": "comfortable", "remote_images": "ask", "image_senders": [], "signatures": []}
        changed = await client.patch("/api/v1/settings", json={
            "display_name": "王爱丽", "language": "zh-CN", "time_zone": "Asia/Shanghai", "density": "compact",
            "remote_images": "never"})
        assert changed.status_code == 200, changed.text
        expected = defaults | {"display_name": "王爱丽", "language": "zh-CN", "time_zone": "Asia/Shanghai",
                               "density": "compact", "remote_images": "never"}
        assert changed.json() == expected
        assert (await client.get("/api/v1/settings")).json() == expected
        # The display name is the account's: the directory and /me see it.
        assert (await client.get("/api/v1/me")).json()["display_name"] == "王爱丽"
        assert (await web.services.directory.account(ADDRESS)).display_name == "王爱丽"


async def test_bad_settings_change_nothing(web: Web) -> None:
    async with as_account(web) as client:
        bad_zone = await client.patch("/api/v1/settings", json={"language": "en", "time_zone": "Mars/Olympus"})
        assert bad_zone.status_code == 400
        assert "Mars/Olympus" in error_of(bad_zone)["message"] and "Asia/Shanghai" in error_of(bad_zone)["message"]
        assert (await client.get("/api/v1/settings")).json()["language"] == "auto"
        bad_choice = await client.patch("/api/v1/settings", json={"density": "tiny"})
        assert bad_choice.status_code == 422 and error_of(bad_choice)["fields"][0]["field"] == "density"
        long_name = await client.patch("/api/v1/settings", json={"display_name": "n" * 201})
        assert long_name.status_code == 422


async def test_image_senders(web: Web) -> None:
    async with as_account(web) as client:
        added = await client.post("/api/v1/settings/image-senders", json={"sender": "News@Example.com"})
        assert added.status_code == 200 and added.json()["image_senders"] == ["news@example.com"]
        domain = await client.post("/api/v1/settings/image-senders", json={"sender": "@Example.ORG"})
        assert sorted(domain.json()["image_senders"]) == ["@example.org", "news@example.com"]
        bad = await client.post("/api/v1/settings/image-senders", json={"sender": "not an address"})
        assert bad.status_code == 400 and "@domain" in error_of(bad)["message"]
        removed = await client.delete("/api/v1/settings/image-senders/news@example.com")
        assert removed.json()["image_senders"] == ["@example.org"]
        missing = await client.delete("/api/v1/settings/image-senders/news@example.com")
        assert missing.status_code == 404


async def test_signatures(web: Web) -> None:
    async with as_account(web) as client:
        first = await client.post("/api/v1/settings/signatures", json={"name": "工作", "body": "张三\n驿站科技"})
        assert first.status_code == 201 and first.json()["is_default"] is True
        second = (await client.post("/api/v1/settings/signatures",
                                    json={"name": "Personal", "body": "<b>A</b>", "format": "html"})).json()
        assert second["is_default"] is False
        made_default = await client.patch(f"/api/v1/settings/signatures/{second['id']}", json={"is_default": True})
        assert made_default.json()["is_default"] is True
        listed = (await client.get("/api/v1/settings/signatures")).json()["signatures"]
        assert [(s["name"], s["is_default"]) for s in listed] == [("工作", False), ("Personal", True)]
        assert (await client.get(f"/api/v1/settings/signatures/{second['id']}")).json()["name"] == "Personal"
        assert (await client.delete(f"/api/v1/settings/signatures/{second['id']}")).status_code == 204
        # Deleting the default makes the remaining one the default.
        assert (await client.get("/api/v1/settings")).json()["signatures"][0]["is_default"] is True
        bad = await client.post("/api/v1/settings/signatures", json={"name": "   ", "body": ""})
        assert bad.status_code == 400 and "name" in error_of(bad)["message"]


async def test_another_accounts_signatures_are_not_found(web: Web) -> None:
    await add_bob(web)
    async with as_account(web, BOB) as bob:
        bobs = (await bob.post("/api/v1/settings/signatures", json={"name": "Bob", "body": "Bob Li"})).json()["id"]
    async with as_account(web) as alice:
        for reply in (await alice.get(f"/api/v1/settings/signatures/{bobs}"),
                      await alice.patch(f"/api/v1/settings/signatures/{bobs}", json={"body": "pwned"}),
                      await alice.delete(f"/api/v1/settings/signatures/{bobs}")):
            assert reply.status_code == 404 and error_of(reply)["code"] == "not_found"
        assert (await alice.get("/api/v1/settings")).json()["signatures"] == []
    async with as_account(web, BOB) as bob:
        assert (await bob.get(f"/api/v1/settings/signatures/{bobs}")).json()["body"] == "Bob Li"


async def test_control_characters_in_names_are_refused(web: Web) -> None:
    async with as_account(web) as client:
        for reply in (await client.post("/api/v1/settings/signatures", json={"name": "a\x00b", "body": ""}),
                      await client.post("/api/v1/settings/image-senders", json={"sender": "@dom\x00ain.com"}),
                      await client.delete("/api/v1/settings/image-senders/a%00b@example.com")):
            assert reply.status_code in (400, 422), reply.text
            assert "control characters" in error_of(reply)["message"]
        assert (await client.get("/api/v1/settings")).json()["image_senders"] == []
