"""The address book pages over real sockets: contacts and groups made, changed and deleted through the forms,
pinyin search, the import report, export downloads, the directory, and another account's ids answering 404."""

from __future__ import annotations

import re

from tests.web.conftest import ADDRESS, Web
from tests.web.pages.conftest import BOB, BOB_PASSWORD, add_bob, post_form
from yizhan.mail.contactcard import ContactCard

HTMX = {"HX-Request": "true"}


def contact_id(location: str) -> int:
    match = re.fullmatch(r"/contacts/(\d+)\?saved=1", location)
    assert match, location
    return int(match.group(1))


async def test_a_contact_is_created_changed_and_deleted_through_the_pages(web: Web) -> None:
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        form = await client.get("/contacts/new")
        assert form.status_code == 200 and 'name="email"' in form.text and 'name="phone"' in form.text
        made = await post_form(client, "/contacts", {
            "display_name": "张三", "organisation": "驿站科技", "title": "工程师",
            "email": ["Zhang.San@Example.com", "zs@home.example", ""], "email_label": ["work", "home", ""],
            "phone": ["+86 138 0000 0000", ""], "phone_label": ["mobile", ""], "notes": "第一行\n第二行"})
        assert made.status_code == 303
        cid = contact_id(made.headers["location"])
        page = await client.get(f"/contacts/{cid}")
        assert page.status_code == 200
        for text in ("张三", "驿站科技", "zhang.san@example.com", "zs@home.example", "+86 138 0000 0000", "第二行"):
            assert text in page.text, text
        assert 'href="/compose?to=zhang.san%40example.com"' in page.text
        listing = await client.get("/contacts")
        assert "张三" in listing.text and f'data-contact-id="{cid}"' in listing.text

        changed = await post_form(client, f"/contacts/{cid}", {
            "display_name": "张三", "organisation": "新公司", "email": ["zs@home.example"], "email_label": ["home"]})
        assert changed.status_code == 303
        stored = await web.services.contacts.get(await account_id(web, ADDRESS), cid)
        assert stored.card.organisation == "新公司" and stored.card.emails == (("zs@home.example", "home"),)
        assert stored.card.phones == ()

        deleted = await post_form(client, f"/contacts/{cid}/delete", {})
        assert deleted.status_code == 303 and deleted.headers["location"].startswith("/contacts")
        assert (await client.get(f"/contacts/{cid}")).status_code == 404
        assert "张三" not in (await client.get("/contacts")).text


async def account_id(web: Web, address: str) -> int:
    account = await web.services.store.directory.get_account(address)
    assert account is not None
    return int(account.id)


async def test_a_refused_form_says_what_to_fix_and_keeps_what_was_typed(web: Web) -> None:
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        bad = await post_form(client, "/contacts", {"display_name": "王五", "email": ["not an address"]})
        assert bad.status_code == 400
        assert "is not a valid mail address" in bad.text and 'value="王五"' in bad.text
        empty = await post_form(client, "/contacts", {"display_name": "  "})
        assert empty.status_code == 400 and "needs a name, an address or a phone number" in empty.text
        assert await web.services.contacts.count(await account_id(web, ADDRESS)) == 0
        # Without the CSRF token nothing is created.
        refused = await client.post("/contacts", data={"display_name": "赵六"})
        assert refused.status_code == 403
        assert await web.services.contacts.count(await account_id(web, ADDRESS)) == 0


async def test_search_finds_pinyin_initials_names_and_addresses(web: Web) -> None:
    async with web.signed_in() as client:
        for name, address in (("张三", "zhangsan@example.net"), ("李四", "lisi@example.net"),
                              ("Alice Wong", "awong@example.org")):
            assert (await post_form(client, "/contacts", {"display_name": name, "email": [address]})).status_code == 303
        zs = await client.get("/contacts", params={"q": "zs"})
        assert "张三" in zs.text and "李四" not in zs.text and "Alice" not in zs.text
        full = await client.get("/contacts", params={"q": "lisi"})
        assert "李四" in full.text and "张三" not in full.text
        by_word = await client.get("/contacts", params={"q": "wong"})
        assert "Alice Wong" in by_word.text and "张三" not in by_word.text
        by_address = await client.get("/contacts", params={"q": "awong@"})
        assert "Alice Wong" in by_address.text
        # htmx asks for the list alone.
        fragment = await client.get("/contacts", params={"q": "zs"}, headers={**HTMX, "HX-Target": "contact-list"})
        assert fragment.text.lstrip().startswith('<div id="contact-list"') and "<html" not in fragment.text
        assert "张三" in fragment.text
        nothing = await client.get("/contacts", params={"q": "qqq"})
        assert "No contact matches" in nothing.text or "没有" in nothing.text


async def test_groups_are_created_renamed_used_and_deleted(web: Web) -> None:
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        sidebar = await post_form(client, "/contacts/groups", {"name": "同事"}, headers=HTMX)
        assert sidebar.status_code == 200 and sidebar.text.lstrip().startswith('<nav id="contact-groups"')
        assert "同事" in sidebar.text
        duplicate = await post_form(client, "/contacts/groups", {"name": "同事"}, headers=HTMX)
        assert duplicate.status_code == 400 and 'role="alert"' in duplicate.text
        groups = await web.services.contacts.groups(await account_id(web, ADDRESS))
        gid = groups[0].id
        made = await post_form(client, "/contacts", {"display_name": "张三", "group": [str(gid)]})
        other = await post_form(client, "/contacts", {"display_name": "李四"})
        assert made.status_code == other.status_code == 303
        in_group = await client.get("/contacts", params={"group": gid})
        assert "张三" in in_group.text and "李四" not in in_group.text and "Manage this group" in in_group.text
        renamed = await post_form(client, f"/contacts/groups/{gid}/rename", {"name": "老同事"})
        assert renamed.status_code == 303
        assert "老同事" in (await client.get("/contacts", params={"group": gid})).text
        gone = await post_form(client, f"/contacts/groups/{gid}/delete", {})
        assert gone.status_code == 303
        assert (await client.get("/contacts", params={"group": gid})).status_code == 404
        everyone = await client.get("/contacts")
        assert "张三" in everyone.text and "李四" in everyone.text and "老同事" not in everyone.text


CSV = ("Name,E-mail Address,Mobile Phone,Company,Categories\r\n"
       "张三,zhangsan@example.net,13800000000,驿站,朋友\r\n"
       ",not-an-address,,,\r\n"
       "王五,zhangsan@example.net,,,\r\n"
       ",,,,\r\n"
       "李四,broken@@example,,,\r\n"
       "赵六,zhaoliu@example.net,,,朋友\r\n")


async def test_import_shows_a_report_of_imported_and_skipped_rows(web: Web) -> None:
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        form = await client.get("/contacts/import")
        assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        reply = await client.post("/contacts/import", data={"csrf_token": token.group(1), "format": "auto"},
                                  files={"file": ("通讯录.csv", CSV.encode("utf-8"), "text/csv")})
        assert reply.status_code == 200, reply.text
        assert "Import report" in reply.text and "3 contacts imported." in reply.text
        skipped = reply.text[reply.text.index('data-testid="skipped"'):reply.text.index('data-testid="warnings"')]
        # Row 3: the only address is unusable and there is no name or phone to keep; row 4 repeats row 2's address.
        assert re.search(r'<td class="number">3</td><td>[^<]*not-an-address[^<]*no name or phone number', skipped)
        assert re.search(r'<td class="number">4</td><td>zhangsan@example.net appears earlier in the file', skipped)
        assert skipped.count('<td class="number">') == 2
        # Row 6 is kept without its broken address, and the report says so.
        warnings = reply.text[reply.text.index('data-testid="warnings"'):]
        assert re.search(r'<td class="number">6</td><td>[^<]*broken@@example[^<]*was left out', warnings)
        account = await account_id(web, ADDRESS)
        names = sorted(c.card.name() for c in await web.services.contacts.list_contacts(account))
        assert names == sorted(["张三", "李四", "赵六"])
        assert [g.name for g in await web.services.contacts.groups(account)] == ["朋友"]

        vcard = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:孙七\r\nEMAIL:sunqi@example.net\r\nEND:VCARD\r\n"
                 "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:张三\r\nEMAIL:zhangsan@example.net\r\nEND:VCARD\r\n")
        again = await client.post("/contacts/import", data={"csrf_token": token.group(1)},
                                  files={"file": ("phone.vcf", vcard.encode(), "text/vcard")})
        assert "1 contact imported." in again.text
        assert "zhangsan@example.net is already in the address book" in again.text

        empty = await client.post("/contacts/import", data={"csrf_token": token.group(1)},
                                  files={"file": ("empty.csv", b"", "text/csv")})
        assert empty.status_code == 400 and "the file is empty" in empty.text
        none = await client.post("/contacts/import", data={"csrf_token": token.group(1)})
        assert none.status_code == 400 and "Choose a vCard" in none.text


async def test_export_downloads_every_contact_or_one_group(web: Web) -> None:
    async with web.signed_in() as client:
        await post_form(client, "/contacts/groups", {"name": "家人"})
        account = await account_id(web, ADDRESS)
        gid = (await web.services.contacts.groups(account))[0].id
        await post_form(client, "/contacts", {"display_name": "张三", "email": ["zhangsan@example.net"],
                                              "group": [str(gid)]})
        await post_form(client, "/contacts", {"display_name": "Bob Li", "email": ["bob.li@example.org"]})
        vcf = await client.get("/contacts/export", params={"format": "vcard"})
        assert vcf.status_code == 200 and vcf.headers["content-type"].startswith("text/vcard")
        assert "attachment" in vcf.headers["content-disposition"]
        assert vcf.text.count("BEGIN:VCARD") == 2 and "FN:张三" in vcf.text and "EMAIL" in vcf.text
        assert "CATEGORIES:家人" in vcf.text
        family = await client.get("/contacts/export", params={"format": "vcard", "group": gid})
        assert family.text.count("BEGIN:VCARD") == 1 and "张三" in family.text and "Bob Li" not in family.text
        assert "%E5%AE%B6%E4%BA%BA" in family.headers["content-disposition"]
        csv = await client.get("/contacts/export", params={"format": "csv", "lang": "zh"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.content.startswith(b"\xef\xbb\xbf")
        text = csv.content.decode("utf-8-sig")
        assert "张三" in text and "bob.li@example.org" in text and len(text.strip().splitlines()) == 3
        # The export imports back: both contacts are already there, so both are reported as skipped.
        back = await web.services.contacts.import_csv(account, csv.content)
        assert back.imported == 0 and len(back.skipped) == 2
        bad = await client.get("/contacts/export", params={"format": "pdf"})
        assert bad.status_code == 422


async def test_the_directory_lists_the_domains_accounts_with_write_to_links(web: Web) -> None:
    await add_bob(web)
    async with web.signed_in() as client:
        page = await client.get("/contacts/directory")
        assert page.status_code == 200
        assert ADDRESS in page.text and BOB in page.text and "Bob Li" in page.text
        assert 'href="/compose?to=bob%40example.com"' in page.text
        only_bob = await client.get("/contacts/directory", params={"q": "bob"},
                                    headers={**HTMX, "HX-Target": "directory-list"})
        assert BOB in only_bob.text and ADDRESS not in only_bob.text and "<html" not in only_bob.text


async def test_another_accounts_contacts_and_groups_answer_404(web: Web) -> None:
    await add_bob(web)
    bob = await account_id(web, BOB)
    theirs = await web.services.contacts.create(bob, ContactCard(display_name="秘密联系人",
                                                                 emails=(("secret@example.net", ""),)))
    group = await web.services.contacts.create_group(bob, "秘密分组")
    async with web.signed_in() as client:
        missing = 10_000_000
        for target in (theirs.id, missing):
            assert (await client.get(f"/contacts/{target}")).status_code == 404
            assert (await post_form(client, f"/contacts/{target}", {"display_name": "x"})).status_code == 404
            assert (await post_form(client, f"/contacts/{target}/delete", {})).status_code == 404
        for target in (group.id, missing):
            assert (await client.get("/contacts", params={"group": target})).status_code == 404
            assert (await post_form(client, f"/contacts/groups/{target}/rename", {"name": "x"})).status_code == 404
            assert (await post_form(client, f"/contacts/groups/{target}/delete", {})).status_code == 404
            assert (await client.get("/contacts/export", params={"group": target})).status_code == 404
        # Putting one's own contact into another's group is refused too.
        made = await post_form(client, "/contacts", {"display_name": "我的", "group": [str(group.id)]})
        assert made.status_code in (400, 404)
        assert (await client.get(f"/contacts/{2**70}")).status_code == 404
        listing = await client.get("/contacts", params={"q": "secret"})
        assert "秘密" not in listing.text and "秘密分组" not in (await client.get("/contacts")).text
    async with web.signed_in(BOB, BOB_PASSWORD) as client:
        assert "秘密联系人" in (await client.get(f"/contacts/{theirs.id}")).text


async def test_a_refusal_is_shown_in_the_readers_language(web: Web) -> None:
    async with web.signed_in(headers={"Accept-Language": "zh-CN"}) as client:
        empty = await post_form(client, "/contacts", {"display_name": ""})
        assert empty.status_code == 400 and "联系人至少需要姓名、地址或电话号码之一" in empty.text
        group = await post_form(client, "/contacts/groups", {"name": " "}, headers=HTMX)
        assert group.status_code == 400 and "分组需要名称" in group.text


async def test_a_long_address_book_is_shown_in_pages(web: Web) -> None:
    rows = "".join(f"联系人{n:03d},person{n:03d}@example.net\r\n" for n in range(55))
    report = await web.services.contacts.import_csv(await account_id(web, ADDRESS),
                                                    ("Name,E-mail Address\r\n" + rows).encode())
    assert report.imported == 55
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        first = await client.get("/contacts")
        assert first.text.count('class="contact"') == 50 and 'href="/contacts?offset=50"' in first.text
        second = await client.get("/contacts", params={"offset": 50})
        assert second.text.count('class="contact"') == 5 and "Previous page" in second.text
        assert "Next page" not in second.text
        assert (await client.get("/contacts", params={"offset": -1})).status_code == 422
