"""Password change through the API: the current password is checked (with the sign-in lockout), the new one must
follow the rules, and the change ends every other session while the caller's goes on; API tokens keep working."""

from __future__ import annotations

from tests.web.api.conftest import bearer, csrf, error_of, make_token
from tests.web.conftest import ADDRESS, PASSWORD, Web

NEW = "a new password 2"


async def test_password_change_ends_other_sessions(web: Web) -> None:
    token = await make_token(web)
    async with web.signed_in() as other, web.signed_in() as changer:
        assert (await other.get("/api/v1/me")).status_code == 200
        headers = await csrf(changer)
        reply = await changer.post("/api/v1/me/password", headers=headers,
                                   json={"current_password": PASSWORD, "new_password": NEW})
        assert reply.status_code == 204, reply.text
        # The other session is over, in the API and on pages.
        ended = await other.get("/api/v1/me")
        assert ended.status_code == 401 and error_of(ended)["code"] == "unauthenticated"
        assert (await other.get("/")).status_code == 303
        # The caller got a new cookie and goes on, with the same CSRF token.
        assert (await changer.get("/api/v1/me")).status_code == 200
        assert await csrf(changer) == headers
        assert (await changer.post("/api/v1/notes", headers=headers, json={"title": "still here"})).status_code == 201
    async with web.client() as client:
        old = await client.post("/api/v1/session", json={"address": ADDRESS, "password": PASSWORD})
        assert old.status_code == 401
        new = await client.post("/api/v1/session", json={"address": ADDRESS, "password": NEW})
        assert new.status_code == 200
    async with bearer(web, token) as script:
        assert (await script.get("/api/v1/me")).status_code == 200


async def test_password_change_with_a_token(web: Web) -> None:
    async with bearer(web, await make_token(web)) as script:
        reply = await script.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW})
        assert reply.status_code == 204 and "set-cookie" not in reply.headers
    assert await web.services.directory.authenticate(ADDRESS, NEW) is not None


async def test_wrong_current_password_is_refused_and_locks_out(web: Web) -> None:
    async with bearer(web, await make_token(web)) as script:
        for _ in range(2):
            wrong = await script.post("/api/v1/me/password",
                                      json={"current_password": "not it", "new_password": NEW})
            assert wrong.status_code == 400 and "current password" in error_of(wrong)["message"]
        # The third failure reaches the test server's lockout threshold (3); then even the right one waits.
        await script.post("/api/v1/me/password", json={"current_password": "not it", "new_password": NEW})
        locked = await script.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert await web.services.directory.authenticate(ADDRESS, PASSWORD) is not None


async def test_new_password_must_follow_the_rules(web: Web) -> None:
    async with bearer(web, await make_token(web)) as script:
        short = await script.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "abc"})
        assert short.status_code == 400 and "at least" in error_of(short)["message"]
        same = await script.post("/api/v1/me/password",
                                 json={"current_password": PASSWORD, "new_password": PASSWORD})
        assert same.status_code == 400 and "same" in error_of(same)["message"]
        missing = await script.post("/api/v1/me/password", json={"new_password": NEW})
        assert missing.status_code == 422 and error_of(missing)["fields"][0]["field"] == "current_password"
    assert await web.services.directory.authenticate(ADDRESS, PASSWORD) is not None
