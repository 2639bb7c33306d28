"""CSRF: writes made with the session cookie need the session's token; cross-site writes are refused outright."""

from __future__ import annotations

from tests.web.conftest import ADDRESS, PASSWORD, Web, csrf_of
from yizhan.web.sessions import COOKIE


async def test_form_post_without_or_with_a_wrong_token_is_refused(web: Web) -> None:
    async with web.signed_in() as client:
        missing = await client.post("/signout", data={})
        assert missing.status_code == 403
        assert "CSRF" in missing.text
        wrong = await client.post("/signout", data={"csrf_token": "not-the-token"})
        assert wrong.status_code == 403
        # Refused means nothing happened: still signed in.
        assert (await client.get("/api/v1/me")).status_code == 200
        token = csrf_of((await client.get("/", follow_redirects=True)).text)
        done = await client.post("/signout", data={"csrf_token": token})
        assert done.status_code == 303


async def test_api_write_needs_the_header_with_the_cookie(web: Web) -> None:
    async with web.client() as client:
        created = await client.post("/api/v1/session", json={"address": ADDRESS, "password": PASSWORD})
        assert created.status_code == 200
        token = created.json()["csrf_token"]
        assert client.cookies[COOKIE]
        refused = await client.delete("/api/v1/session")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
        assert "X-CSRF-Token" in refused.json()["error"]["message"]
        wrong = await client.delete("/api/v1/session", headers={"X-CSRF-Token": token[:-1] + "x"})
        assert wrong.status_code == 403
        # The session (read with GET, no token needed) gives the same token back.
        assert (await client.get("/api/v1/session")).json()["csrf_token"] == token
        accepted = await client.delete("/api/v1/session", headers={"X-CSRF-Token": token})
        assert accepted.status_code == 204
        assert (await client.get("/api/v1/me")).status_code == 401


async def test_the_token_is_per_session(web: Web) -> None:
    async with web.signed_in() as first, web.signed_in() as second:
        token_first = csrf_of((await first.get("/", follow_redirects=True)).text)
        token_second = csrf_of((await second.get("/", follow_redirects=True)).text)
        assert token_first != token_second
        assert (await second.post("/signout", data={"csrf_token": token_first})).status_code == 403


async def test_cross_site_posts_are_refused_before_anything_runs(web: Web) -> None:
    async with web.client() as client:
        for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
            reply = await client.post("/signin", data={"address": ADDRESS, "password": PASSWORD}, headers=headers)
            assert reply.status_code == 403, headers
            assert reply.json()["error"]["code"] == "csrf_failed"
            assert COOKIE not in client.cookies
        # The same-origin form (the browser sends Origin: http://127.0.0.1:PORT) is fine.
        same = await client.post("/signin", data={"address": ADDRESS, "password": PASSWORD},
                                 headers={"Origin": web.base, "Sec-Fetch-Site": "same-origin"})
        assert same.status_code == 303


async def test_bearer_requests_need_no_csrf_token_but_no_token_scheme_exists_yet(web: Web) -> None:
    async with web.client(headers={"Authorization": "Bearer not-a-real-token"}) as client:
        reply = await client.get("/api/v1/me")
        assert reply.status_code == 401
        assert reply.headers["www-authenticate"].startswith("Bearer")
