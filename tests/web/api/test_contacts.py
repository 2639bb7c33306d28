"""Address-book API: contacts CRUD and paging, groups, autocomplete (pinyin), directory, vCard/CSV import report and
export round trip, and isolation (another account's ids are 404, exactly like missing ones)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.web.api.conftest import BOB, add_bob, as_account, error_of
from tests.web.conftest import Web

VCARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:张三\r\nN:张;三;;;\r\nEMAIL;TYPE=work:zhang.san@example.org\r\n"
    "TEL;TYPE=cell:+86 138 0013 8000\r\nORG:驿站科技\r\nCATEGORIES:同事\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Li Si\r\nEMAIL:li.si@example.org\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:nothing to call this one by\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Li Si again\r\nEMAIL:LI.SI@example.org\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Wang Wu\r\nEMAIL:not an address\r\nTEL:010-1234\r\nEND:VCARD\r\n"
)


async def create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    reply = await client.post("/api/v1/contacts", json=fields)
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def test_contact_crud(web: Web) -> None:
    async with as_account(web) as client:
        made = await create(client, family_name="张", given_name="三", organisation="驿站科技",
                            emails=[{"address": "Zhang.San@Example.ORG", "label": "work"}],
                            phones=[{"number": "+86 138 0013 8000", "label": "mobile"}])
        assert made["name"] == "张三" and made["emails"] == [{"address": "zhang.san@example.org", "label": "work"}]
        got = await client.get(f"/api/v1/contacts/{made['id']}")
        assert got.status_code == 200 and got.json() == made
        replaced = await client.put(f"/api/v1/contacts/{made['id']}",
                                    json={"display_name": "张三丰", "emails": [{"address": "zsf@example.org"}]})
        assert replaced.status_code == 200
        assert replaced.json()["name"] == "张三丰" and replaced.json()["phones"] == []
        assert replaced.json()["organisation"] == ""
        deleted = await client.delete(f"/api/v1/contacts/{made['id']}")
        assert deleted.status_code == 204
        gone = await client.get(f"/api/v1/contacts/{made['id']}")
        assert gone.status_code == 404 and error_of(gone)["code"] == "not_found"


async def test_bad_contacts_get_messages_that_say_what_to_fix(web: Web) -> None:
    async with as_account(web) as client:
        bad_address = await client.post("/api/v1/contacts", json={"emails": [{"address": "zhang@@example"}]})
        assert bad_address.status_code == 400 and "zhang@@example" in error_of(bad_address)["message"]
        empty = await client.post("/api/v1/contacts", json={"notes": "just notes"})
        assert empty.status_code == 400 and "needs a name" in error_of(empty)["message"]
        too_many = await client.post("/api/v1/contacts", json={"display_name": "x",
                                                                "emails": [{"address": f"a{i}@example.org"}
                                                                           for i in range(11)]})
        assert too_many.status_code == 422 and error_of(too_many)["fields"][0]["field"] == "emails"
        for path in ("/api/v1/contacts/0", "/api/v1/contacts/99999999999999999999999", "/api/v1/contacts/x"):
            reply = await client.get(path)
            assert reply.status_code == 422, path
        bad_cursor = await client.get("/api/v1/contacts", params={"cursor": "garbage!"})
        assert bad_cursor.status_code == 400 and "cursor" in error_of(bad_cursor)["message"]
        too_big = await client.get("/api/v1/contacts", params={"limit": 201})
        assert too_big.status_code == 422


async def test_listing_pages_through_every_contact_in_name_order(web: Web) -> None:
    names = ["Ada", "Bo", "Cai", "Dong", "Eve"]
    async with as_account(web) as client:
        for name in reversed(names):
            await create(client, display_name=name)
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/api/v1/contacts", params=params)).json()
            seen += [c["name"] for c in page["contacts"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == names and pages == 3


async def test_search_and_autocomplete_by_pinyin_and_address(web: Web) -> None:
    async with as_account(web) as client:
        zhang = await create(client, display_name="张三", emails=[{"address": "zhang.san@example.org"}])
        await create(client, display_name="Li Si", emails=[{"address": "li.si@example.org"}])
        for q in ("zs", "zhang", "张", "zhang.san@"):
            found = (await client.get("/api/v1/contacts", params={"q": q})).json()
            assert [c["id"] for c in found["contacts"]] == [zhang["id"]], q
            assert found["next_cursor"] is None
        suggestions = (await client.get("/api/v1/contacts/autocomplete", params={"q": "zs"})).json()["suggestions"]
        assert suggestions == [{"name": "张三", "address": "zhang.san@example.org", "source": "contact",
                                "contact_id": zhang["id"]}]
        # The organisation's directory: accounts of the caller's own domain.
        directory = (await client.get("/api/v1/contacts/autocomplete", params={"q": "alice"})).json()
        assert directory["suggestions"][0]["source"] == "directory"
        listed = (await client.get("/api/v1/contacts/directory")).json()["suggestions"]
        assert [s["address"] for s in listed] == ["alice@example.com"]
        assert (await client.get("/api/v1/contacts/autocomplete", params={"q": ""})).json() == {"suggestions": []}


async def test_groups_and_members(web: Web) -> None:
    async with as_account(web) as client:
        ada = await create(client, display_name="Ada")
        bo = await create(client, display_name="Bo")
        group = await client.post("/api/v1/contacts/groups", json={"name": "同事"})
        assert group.status_code == 201
        gid = group.json()["id"]
        again = await client.post("/api/v1/contacts/groups", json={"name": "同事"})
        assert again.status_code == 409 and error_of(again)["code"] == "already_exists"
        added = await client.post(f"/api/v1/contacts/groups/{gid}/members", json={"contact_ids": [ada["id"], bo["id"]]})
        assert added.json() == {"changed": 2}
        members = (await client.get("/api/v1/contacts", params={"group_id": gid})).json()["contacts"]
        assert [c["name"] for c in members] == ["Ada", "Bo"]
        assert members[0]["groups"] == [{"id": gid, "name": "同事"}]
        removed = await client.delete(f"/api/v1/contacts/groups/{gid}/members/{bo['id']}")
        assert removed.json() == {"changed": 1}
        renamed = await client.patch(f"/api/v1/contacts/groups/{gid}", json={"name": "老同事"})
        assert renamed.json() == {"id": gid, "name": "老同事", "members": 1}
        assert (await client.get("/api/v1/contacts/groups")).json() == {"groups": [renamed.json()]}
        # Replacing a contact with group_ids sets its groups.
        put = await client.put(f"/api/v1/contacts/{bo['id']}", json={"display_name": "Bo", "group_ids": [gid]})
        assert put.json()["groups"] == [{"id": gid, "name": "老同事"}]
        assert (await client.delete(f"/api/v1/contacts/groups/{gid}")).status_code == 204
        assert (await client.get(f"/api/v1/contacts/{ada['id']}")).json()["groups"] == []
        assert (await client.get(f"/api/v1/contacts/groups/{gid}")).status_code == 404


async def test_another_accounts_contacts_and_groups_are_not_found(web: Web) -> None:
    await add_bob(web)
    async with as_account(web, BOB) as bob:
        bobs = await create(bob, display_name="Bob's secret friend", emails=[{"address": "friend@example.net"}])
        bobs_group = (await bob.post("/api/v1/contacts/groups", json={"name": "Bob's"})).json()["id"]
    async with as_account(web) as alice:
        mine = await create(alice, display_name="Alice's friend")
        my_group = (await alice.post("/api/v1/contacts/groups", json={"name": "Mine"})).json()["id"]
        missing = 10**9
        attempts = {
            "read": (await alice.get(f"/api/v1/contacts/{bobs['id']}"),
                     await alice.get(f"/api/v1/contacts/{missing}")),
            "replace": (await alice.put(f"/api/v1/contacts/{bobs['id']}", json={"display_name": "pwned"}),
                        await alice.put(f"/api/v1/contacts/{missing}", json={"display_name": "pwned"})),
            "delete": (await alice.delete(f"/api/v1/contacts/{bobs['id']}"),
                       await alice.delete(f"/api/v1/contacts/{missing}")),
            "group": (await alice.get(f"/api/v1/contacts/groups/{bobs_group}"),
                      await alice.get(f"/api/v1/contacts/groups/{missing}")),
            "rename group": (await alice.patch(f"/api/v1/contacts/groups/{bobs_group}", json={"name": "x"}),
                             await alice.patch(f"/api/v1/contacts/groups/{missing}", json={"name": "x"})),
            "list group": (await alice.get("/api/v1/contacts", params={"group_id": bobs_group}),
                           await alice.get("/api/v1/contacts", params={"group_id": missing})),
            "add to bob's group": (
                await alice.post(f"/api/v1/contacts/groups/{bobs_group}/members", json={"contact_ids": [mine["id"]]}),
                await alice.post(f"/api/v1/contacts/groups/{missing}/members", json={"contact_ids": [mine["id"]]})),
            "add bob's contact": (
                await alice.post(f"/api/v1/contacts/groups/{my_group}/members", json={"contact_ids": [bobs["id"]]}),
                await alice.post(f"/api/v1/contacts/groups/{my_group}/members", json={"contact_ids": [missing]})),
            "use bob's group": (
                await alice.post("/api/v1/contacts", json={"display_name": "y", "group_ids": [bobs_group]}),
                await alice.post("/api/v1/contacts", json={"display_name": "y", "group_ids": [missing]})),
        }
        for what, (foreign, absent) in attempts.items():
            assert foreign.status_code == absent.status_code == 404, what
            assert error_of(foreign)["code"] == error_of(absent)["code"] == "not_found", what
        listing = await alice.get("/api/v1/contacts")
        assert "secret friend" not in listing.text
        assert (await alice.get("/api/v1/contacts", params={"q": "friend@"})).json()["contacts"] == []
        autocomplete = await alice.get("/api/v1/contacts/autocomplete", params={"q": "friend"})
        assert "friend@example.net" not in autocomplete.text
        export = await alice.get("/api/v1/contacts/export")
        assert "secret" not in export.text
    async with as_account(web, BOB) as bob:
        still = await bob.get(f"/api/v1/contacts/{bobs['id']}")
        assert still.json()["name"] == "Bob's secret friend"


async def test_vcard_import_answers_the_report(web: Web) -> None:
    async with as_account(web) as client:
        await create(client, display_name="Wang Wu old", emails=[{"address": "wangwu@example.org"}])
        reply = await client.post("/api/v1/contacts/import",
                                  files={"file": ("通讯录.vcf", VCARDS.encode("utf-8"), "text/vcard")})
        assert reply.status_code == 200, reply.text
        report = reply.json()
        assert report["imported"] == 3
        skipped = {p["number"]: p["reason"] for p in report["skipped"]}
        assert set(skipped) == {3, 4}
        assert "name" in skipped[3] and "earlier in the file" in skipped[4]
        assert report["warnings"] == [{"number": 5, "reason": "'not an address' is not a valid mail address and "
                                                              "was left out"}]
        zhang = (await client.get("/api/v1/contacts", params={"q": "zs"})).json()["contacts"][0]
        assert zhang["organisation"] == "驿站科技" and zhang["groups"][0]["name"] == "同事"
        assert zhang["phones"] == [{"number": "+86 138 0013 8000", "label": "mobile"}]
        again = (await client.post("/api/v1/contacts/import",
                                   files={"file": ("again.vcf", VCARDS.encode("utf-8"))})).json()
        assert again["imported"] == 1  # only the card with no address (Wang Wu) is not a duplicate
        assert "already in the address book" in {p["number"]: p["reason"] for p in again["skipped"]}[1]


async def test_csv_import_and_bad_files(web: Web) -> None:
    csv_text = ("姓名,电子邮件地址,手机,公司\r\n赵六,zhao.liu@example.org,13900000000,驿站\r\n,nobody-at-all,,\r\n"
                "钱七,bad@,,\r\n")
    async with as_account(web) as client:
        reply = await client.post("/api/v1/contacts/import",
                                  files={"file": ("contacts.csv", csv_text.encode("gb18030"), "text/csv")})
        assert reply.status_code == 200, reply.text
        report = reply.json()
        assert report["imported"] == 2
        assert [p["number"] for p in report["skipped"]] == [3]
        assert "nobody-at-all" in report["skipped"][0]["reason"]
        assert [p["number"] for p in report["warnings"]] == [4]
        names = [c["name"] for c in (await client.get("/api/v1/contacts")).json()["contacts"]]
        assert sorted(names) == sorted(["赵六", "钱七"])
        empty = await client.post("/api/v1/contacts/import", files={"file": ("x.vcf", b"  \n")})
        assert empty.status_code == 400 and "empty" in error_of(empty)["message"]
        no_cards = await client.post("/api/v1/contacts/import", files={"file": ("x.vcf", b"hello")})
        assert no_cards.status_code == 400 and "BEGIN:VCARD" in error_of(no_cards)["message"]
        no_file = await client.post("/api/v1/contacts/import", data={"format": "csv"})
        assert no_file.status_code == 422 and error_of(no_file)["fields"][0]["field"] == "file"


async def test_export_round_trip(web: Web) -> None:
    async with as_account(web) as client:
        await client.post("/api/v1/contacts/import", files={"file": ("c.vcf", VCARDS.encode("utf-8"))})
        before = (await client.get("/api/v1/contacts")).json()["contacts"]
        assert len(before) == 3
        for fmt, extension, media in (("vcard", "vcf", "text/vcard"), ("csv", "csv", "text/csv")):
            export = await client.get("/api/v1/contacts/export", params={"format": fmt})
            assert export.status_code == 200
            assert export.headers["content-type"].startswith(media)
            assert export.headers["content-disposition"] == f'attachment; filename="contacts.{extension}"'
            assert "张三" in export.content.decode("utf-8")
            for contact in (await client.get("/api/v1/contacts")).json()["contacts"]:
                assert (await client.delete(f"/api/v1/contacts/{contact['id']}")).status_code == 204
            back = await client.post("/api/v1/contacts/import",
                                     files={"file": (f"back.{extension}", export.content)})
            assert back.json()["imported"] == 3 and back.json()["skipped"] == [], back.text
            after = (await client.get("/api/v1/contacts")).json()["contacts"]
            def essentials(contact: dict[str, Any]) -> tuple[Any, ...]:
                # CSV columns carry no labels of their own (an unlabelled phone comes back as the first free
                # kind); names, addresses, numbers, organisation and groups survive both formats.
                return (contact["name"], [e["address"] for e in contact["emails"]],
                        [p["number"] for p in contact["phones"]], contact["organisation"],
                        [g["name"] for g in contact["groups"]])

            assert [essentials(c) for c in after] == [essentials(c) for c in before], fmt
            if fmt == "vcard":
                assert [c["emails"] for c in after] == [c["emails"] for c in before]
        v4 = await client.get("/api/v1/contacts/export", params={"format": "vcard", "version": "4.0"})
        assert "VERSION:4.0" in v4.text
