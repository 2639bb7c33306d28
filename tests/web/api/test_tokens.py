"""Personal API tokens: made and revoked through the API, accepted as `Authorization: Bearer`, scopes enforced
(read for GET, write for other methods, admin for the admin API), refusals with RFC 6750 challenges."""

from __future__ import annotations

import time

import pytest

from tests.web.api.conftest import BOB, add_bob, as_account, bearer, csrf, error_of, make_token
from tests.web.conftest import ADDRESS, Web


async def test_token_lifecycle_create_use_list_revoke(web: Web) -> None:
    async with web.signed_in() as browser:
        headers = await csrf(browser)
        created = await browser.post("/api/v1/tokens", headers=headers,
                                     json={"name": "备份脚本", "scopes": ["read", "write"], "expires_in_days": 30})
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        token = created.json()["token"]
        assert secret.startswith("yzt_") and len(secret) > 40
        assert token["name"] == "备份脚本" and token["state"] == "active" and token["last_used_at"] is None
        assert token["hint"] == secret[:8] and token["expires_at"] > time.time() + 29 * 86400

        async with bearer(web, secret) as script:
            me = await script.get("/api/v1/me")
            assert me.status_code == 200 and me.json()["address"] == ADDRESS
            assert (await script.get("/api/v1/me/credentials")).json() == {"via": "bearer",
                                                                           "scopes": ["read", "write"]}
            # A bearer write needs no CSRF token: the credential is not ambient.
            note = await script.post("/api/v1/notes", json={"title": "from a script"})
            assert note.status_code == 201, note.text

            listed = await browser.get("/api/v1/tokens")
            assert listed.status_code == 200
            assert secret not in listed.text and secret[8:] not in listed.text
            [entry] = listed.json()["tokens"]
            assert entry["id"] == token["id"] and entry["last_used_at"] is not None

            revoked = await browser.delete(f"/api/v1/tokens/{token['id']}", headers=headers)
            assert revoked.status_code == 204
            refused = await script.get("/api/v1/me")
            assert refused.status_code == 401
            assert error_of(refused)["code"] == "invalid_token"
            assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        after = (await browser.get(f"/api/v1/tokens/{token['id']}")).json()
        assert after["state"] == "revoked" and after["revoked_at"] is not None


async def test_scopes_are_enforced_by_method(web: Web) -> None:
    async with as_account(web, scopes=("read",)) as reader:
        assert (await reader.get("/api/v1/notes")).status_code == 200
        refused = await reader.post("/api/v1/notes", json={"title": "nope"})
        assert refused.status_code == 403
        assert error_of(refused)["code"] == "insufficient_scope"
        challenge = refused.headers["www-authenticate"]
        assert 'error="insufficient_scope"' in challenge and 'scope="write"' in challenge
        assert "'write'" in error_of(refused)["message"]
        # Nor can it make itself a stronger token.
        escalate = await reader.post("/api/v1/tokens", json={"name": "more", "scopes": ["read", "write"]})
        assert escalate.status_code == 403
    async with as_account(web, scopes=("write",)) as writer:
        assert (await writer.get("/api/v1/notes")).status_code == 403
        created = await writer.post("/api/v1/notes", json={"title": "blind write"})
        assert created.status_code == 201
        # A write-only token may make another write-only token, not a read one.
        assert (await writer.post("/api/v1/tokens", json={"name": "w", "scopes": ["write"]})).status_code == 201
        assert (await writer.post("/api/v1/tokens", json={"name": "r", "scopes": ["read"]})).status_code == 403
    assert await web.services.notes.count((await web.services.directory.account(ADDRESS)).id) == 1


async def test_admin_scope_only_for_administrators(web: Web) -> None:
    async with as_account(web) as user:
        refused = await user.post("/api/v1/tokens", json={"name": "admin", "scopes": ["admin"]})
        assert refused.status_code == 403 and error_of(refused)["code"] == "permission_denied"
    with pytest.raises(Exception, match="only administrators"):
        await make_token(web, ADDRESS, ("admin",))
    await web.services.directory.add_account("root@example.com", "root password 1", role="admin")
    async with as_account(web, "root@example.com", ("read", "admin")) as admin:
        assert (await admin.get("/api/v1/me/credentials")).json()["scopes"] == ["read", "admin"]
    async with web.signed_in("root@example.com", "root password 1") as admin_browser:
        assert (await admin_browser.get("/api/v1/me/credentials")).json() == {
            "via": "cookie", "scopes": ["read", "write", "admin"]}
    async with web.signed_in() as user_browser:
        assert (await user_browser.get("/api/v1/me/credentials")).json() == {"via": "cookie",
                                                                             "scopes": ["read", "write"]}


async def test_expired_token_is_refused(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = await make_token(web, expires_in_days=1)
    async with bearer(web, secret) as client:
        assert (await client.get("/api/v1/me")).status_code == 200
        later = int(time.time()) + 2 * 86400
        monkeypatch.setattr("yizhan.services.tokens.now_seconds", lambda: later)
        refused = await client.get("/api/v1/me")
    assert refused.status_code == 401 and error_of(refused)["code"] == "invalid_token"


async def test_token_of_a_disabled_account_is_refused(web: Web) -> None:
    secret = await make_token(web)
    async with bearer(web, secret) as client:
        assert (await client.get("/api/v1/me")).status_code == 200
        await web.services.directory.update_account(ADDRESS, disabled=True)
        refused = await client.get("/api/v1/me")
        assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["www-authenticate"]
        await web.services.directory.update_account(ADDRESS, disabled=False)
        assert (await client.get("/api/v1/me")).status_code == 200


@pytest.mark.parametrize("header", ["Bearer yzt_" + "A" * 43, "Bearer not-a-token", "Bearer", "Bearer " + "x" * 600,
                                    "bearer\tyzt_x"])
async def test_bad_tokens_get_401_with_a_challenge(web: Web, header: str) -> None:
    async with web.client(headers={"Authorization": header}) as client:
        reply = await client.get("/api/v1/notes")
    assert reply.status_code == 401
    assert error_of(reply)["code"] in ("invalid_token", "unauthenticated")
    assert reply.headers["www-authenticate"].startswith("Bearer")


async def test_other_schemes_and_pages_ignore_the_header(web: Web) -> None:
    secret = await make_token(web)
    async with web.client(headers={"Authorization": "Basic YWxpY2U6cHc="}) as client:
        reply = await client.get("/api/v1/me")
        assert reply.status_code == 401 and error_of(reply)["code"] == "unauthenticated"
    async with bearer(web, secret) as client:
        # Tokens are for the API: a page still asks to sign in.
        page = await client.get("/")
        assert page.status_code == 303 and page.headers["location"].startswith("/signin")
        # The session resource has no session to show for a token.
        assert (await client.get("/api/v1/session")).status_code == 404


async def test_another_accounts_token_is_not_found(web: Web) -> None:
    await add_bob(web)
    async with as_account(web, BOB) as bob:
        bobs = (await bob.get("/api/v1/tokens")).json()["tokens"][0]["id"]
    async with as_account(web) as alice:
        for reply in (await alice.get(f"/api/v1/tokens/{bobs}"), await alice.delete(f"/api/v1/tokens/{bobs}"),
                      await alice.get("/api/v1/tokens/999999")):
            assert reply.status_code == 404 and error_of(reply)["code"] == "not_found"
        assert [t["id"] for t in (await alice.get("/api/v1/tokens")).json()["tokens"]] != [bobs]
    async with as_account(web, BOB) as bob:
        assert (await bob.get("/api/v1/me")).status_code == 200


async def test_token_creation_checks_its_input(web: Web) -> None:
    async with as_account(web) as client:
        cases = [
            ({"name": "", "scopes": ["read"]}, 422),
            ({"name": "x", "scopes": []}, 422),
            ({"name": "x", "scopes": ["root"]}, 422),
            ({"name": "x", "scopes": ["read"], "expires_in_days": 0}, 422),
            ({"name": "\x00\x01", "scopes": ["read"]}, 400),
        ]
        for body, status in cases:
            reply = await client.post("/api/v1/tokens", json=body)
            assert reply.status_code == status, (body, reply.text)
            assert error_of(reply)["message"]
