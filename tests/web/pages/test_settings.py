"""The settings pages over real sockets: general settings saved and applied at once (language cookie, dates in
the chosen time zone), remote-image senders, signatures sanitised, the password change ending other sessions,
and personal API tokens that work on the API until they are revoked."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

from babel.dates import format_datetime

from tests.web.conftest import ADDRESS, PASSWORD, Web
from tests.web.pages.conftest import BOB, add_bob, post_form
from yizhan.store.records import AccountRecord
from yizhan.web.i18n import LANG_COOKIE, TZ_COOKIE, ZONE_COOKIE

HTMX = {"HX-Request": "true"}
GENERAL = {"display_name": "王爱丽", "language": "zh-CN", "time_zone": "Asia/Shanghai", "density": "compact",
           "remote_images": "always"}


async def account(web: Web, address: str = ADDRESS) -> AccountRecord:
    found = await web.services.store.directory.get_account(address)
    assert found is not None
    return found


def main_of(page: str) -> str:
    return page[page.index("<main>"):page.index("</main>")]


async def test_general_settings_are_saved_and_applied_at_once(web: Web) -> None:
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        page = await client.get("/settings")
        assert page.status_code == 200 and 'lang="en"' in page.text and "Time zone" in page.text
        assert '<option value="Asia/Shanghai">' in page.text
        saved = await post_form(client, "/settings", GENERAL)
        assert saved.status_code == 303 and saved.headers["location"] == "/settings?saved=1"
        assert client.cookies[LANG_COOKIE] == "zh_CN" and client.cookies[ZONE_COOKIE] == "Asia/Shanghai"
        after = await client.get("/settings?saved=1")
        assert 'lang="zh-CN"' in after.text and "设置已保存" in after.text and "时区" in after.text
        assert '<option value="Asia/Shanghai" selected>' in after.text
        assert '<option value="compact" selected>' in after.text and 'value="王爱丽"' in after.text
        stored = await web.services.account_settings.get(await account(web))
        assert (stored.display_name, stored.language, stored.time_zone, stored.density, stored.remote_images) == (
            "王爱丽", "zh-CN", "Asia/Shanghai", "compact", "always")

        # Dates everywhere follow the chosen zone, even when the browser reports another one.
        client.cookies.set(TZ_COOKIE, "America/New_York")
        note = await web.services.notes.create((await account(web)).id, "时间", "x")
        shown = await client.get(f"/notes/{note.id}")
        moment = datetime.fromtimestamp(note.updated_at, UTC)
        shanghai = format_datetime(moment, "medium", tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"), locale="zh_CN")
        assert shanghai in shown.text

        # Back to English in New York; "auto" lets the browser's Accept-Language decide again.
        again = await post_form(client, "/settings", {**GENERAL, "language": "auto", "time_zone": "America/New_York"})
        assert again.status_code == 303 and LANG_COOKIE not in client.cookies
        shown = await client.get(f"/notes/{note.id}")
        assert 'lang="en"' in shown.text
        new_york = format_datetime(moment, "medium", tzinfo=zoneinfo.ZoneInfo("America/New_York"), locale="en")
        assert new_york in shown.text and shanghai not in shown.text


async def test_a_bad_setting_is_refused_with_the_reason_and_nothing_changes(web: Web) -> None:
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        bad = await post_form(client, "/settings", {**GENERAL, "time_zone": "Mars/Olympus_Mons"})
        assert bad.status_code == 400 and "is not a known time zone" in bad.text
        assert LANG_COOKIE not in client.cookies
        assert (await web.services.account_settings.get(await account(web))).time_zone == "UTC"
        density = await post_form(client, "/settings", {**GENERAL, "density": "huge"})
        assert density.status_code == 400 and "list density must be one of" in density.text


async def test_the_time_zone_starts_at_the_browsers_until_one_is_chosen(web: Web) -> None:
    async with web.signed_in() as client:
        client.cookies.set(TZ_COOKIE, "Asia/Tokyo")
        page = await client.get("/settings")
        assert '<option value="Asia/Tokyo" selected>' in page.text


async def test_image_senders_are_listed_added_and_removed(web: Web) -> None:
    me = await account(web)
    await web.services.account_settings.allow_images_from(me.id, "news@shop.example")
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        page = await client.get("/settings")
        assert "news@shop.example" in page.text
        added = await post_form(client, "/settings/images/add", {"sender": "@bank.example"}, headers=HTMX)
        assert added.status_code == 200 and "@bank.example" in added.text and "<html" not in added.text
        refused = await post_form(client, "/settings/images/add", {"sender": "not a sender"}, headers=HTMX)
        assert refused.status_code == 400 and "neither a mail address nor @domain" in refused.text
        removed = await post_form(client, "/settings/images/remove", {"sender": "news@shop.example"}, headers=HTMX)
        assert removed.status_code == 200 and "news@shop.example" not in removed.text
        assert await web.services.account_settings.image_senders(me.id) == ["@bank.example"]


async def test_signatures_are_sanitised_and_one_is_the_default(web: Web) -> None:
    me = await account(web)
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        rich = await post_form(client, "/settings/signatures", {
            "name": "工作", "format": "html", "is_default": "true",
            "body": '<p><b>王爱丽</b> 驿站科技</p><script>alert(1)</script><img src=x onerror="alert(2)">'})
        assert rich.status_code == 303
        plain = await post_form(client, "/settings/signatures", {"name": "简短", "format": "plain",
                                                                 "body": "-- \n<爱丽>"})
        assert plain.status_code == 303
        signatures = await web.services.account_settings.signatures(me.id)
        work = next(s for s in signatures if s.name == "工作")
        short = next(s for s in signatures if s.name == "简短")
        assert work.is_default and not short.is_default
        assert "<b>王爱丽</b>" in work.body and "script" not in work.body and "onerror" not in work.body
        page = main_of((await client.get("/settings/signatures")).text)
        assert "<b>王爱丽</b>" in page and "&lt;爱丽&gt;" in page
        for bad in ("<script", "onerror", "alert("):
            assert bad not in page
        made_default = await post_form(client, f"/settings/signatures/{short.id}/default", {})
        assert made_default.status_code == 303
        signatures = await web.services.account_settings.signatures(me.id)
        assert [s.name for s in signatures if s.is_default] == ["简短"]
        edit = await client.get(f"/settings/signatures/{work.id}")
        assert edit.status_code == 200 and 'value="工作"' in edit.text
        deleted = await post_form(client, f"/settings/signatures/{work.id}/delete", {})
        assert deleted.status_code == 303
        assert [s.name for s in await web.services.account_settings.signatures(me.id)] == ["简短"]
        nameless = await post_form(client, "/settings/signatures", {"name": "", "format": "plain", "body": "x"})
        assert nameless.status_code == 400 and "a signature needs a name" in nameless.text

    await add_bob(web)
    bob = await account(web, BOB)
    theirs = await web.services.account_settings.add_signature(bob.id, "鲍勃", "Bob")
    async with web.signed_in() as client:
        assert (await client.get(f"/settings/signatures/{theirs.id}")).status_code == 404
        changed = await post_form(client, f"/settings/signatures/{theirs.id}", {"name": "x", "body": "y"})
        assert changed.status_code == 404
        assert (await post_form(client, f"/settings/signatures/{theirs.id}/delete", {})).status_code == 404


async def test_a_password_change_ends_other_sessions_and_the_new_password_works(web: Web) -> None:
    new = "a much better secret 9"
    async with web.signed_in(headers={"Accept-Language": "en"}) as other, \
            web.signed_in(headers={"Accept-Language": "en"}) as client:
        assert (await other.get("/settings")).status_code == 200
        mismatch = await post_form(client, "/settings/password", {"current_password": PASSWORD,
                                                                  "new_password": new, "confirm_password": new + "x"})
        assert mismatch.status_code == 400 and "differ" in mismatch.text
        wrong = await post_form(client, "/settings/password", {"current_password": "not it",
                                                               "new_password": new, "confirm_password": new})
        assert wrong.status_code == 403 and "current password is not right" in wrong.text
        short = await post_form(client, "/settings/password", {"current_password": PASSWORD,
                                                               "new_password": "short", "confirm_password": "short"})
        assert short.status_code == 400 and "at least" in short.text
        changed = await post_form(client, "/settings/password", {"current_password": PASSWORD,
                                                                 "new_password": new, "confirm_password": new})
        assert changed.status_code == 303 and changed.headers["location"] == "/settings/password?changed=1"
        # This browser stays signed in with its new cookie; the other session is over.
        assert "Your password was changed" in (await client.get("/settings/password?changed=1")).text
        ended = await other.get("/settings")
        assert ended.status_code == 303 and ended.headers["location"].startswith("/signin")
    async with web.client() as fresh:
        old = await fresh.post("/signin", data={"address": ADDRESS, "password": PASSWORD})
        assert old.status_code == 401
    async with web.signed_in(ADDRESS, new) as client:
        assert (await client.get("/settings")).status_code == 200


async def test_an_api_token_is_shown_once_works_and_stops_working_when_revoked(web: Web) -> None:
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        page = await client.get("/settings/tokens")
        assert page.status_code == 200 and 'value="admin"' not in page.text  # alice is not an administrator
        made = await post_form(client, "/settings/tokens", {"name": "备份脚本", "scope": ["read"],
                                                            "expires_in_days": "30"})
        assert made.status_code == 200
        start = made.text.index('data-testid="token-secret">') + len('data-testid="token-secret">')
        secret = made.text[start:made.text.index("<", start)]
        assert secret.startswith("yzt_") and len(secret) > 40
        listing = await client.get("/settings/tokens")
        assert "备份脚本" in listing.text and secret not in listing.text and secret[:8] in listing.text
        admin = await post_form(client, "/settings/tokens", {"name": "x", "scope": ["admin"]})
        assert admin.status_code == 400 and "only administrators" in admin.text
        no_scope = await post_form(client, "/settings/tokens", {"name": "x", "expires_in_days": "30"})
        assert no_scope.status_code == 400 and "scopes must be" in no_scope.text

        async with web.client() as api:
            me = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
            assert me.status_code == 200 and me.json()["address"] == ADDRESS
            tokens = await web.services.tokens.list_tokens((await account(web)).id)
            (token,) = tokens
            assert token.last_used_at is not None and token.expires_at is not None
            revoked = await post_form(client, f"/settings/tokens/{token.id}/revoke", {}, headers=HTMX)
            assert revoked.status_code == 200 and "Revoked" in revoked.text and "<html" not in revoked.text
            refused = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
            assert refused.status_code == 401

    await add_bob(web)
    bobs = await web.services.tokens.create(await account(web, BOB), "bob", ["read"])
    async with web.signed_in() as client:
        assert (await post_form(client, f"/settings/tokens/{bobs.token.id}/revoke", {})).status_code == 404
    async with web.client() as api:
        assert (await api.get("/api/v1/me", headers={"Authorization": f"Bearer {bobs.secret}"})).status_code == 200
