"""Signing in and out through the pages, sessions and their end: real server, real sockets."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

from tests.web.conftest import ADDRESS, PASSWORD, Web, csrf_of, running
from yizhan.web.sessions import COOKIE, Session, SessionCodec


def set_cookie(reply: Any, name: str = COOKIE) -> tuple[str, dict[str, str]]:
    """The value and attributes (lowercased names) of the Set-Cookie header for `name`."""
    for header in reply.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            parts = [part.strip() for part in header.split(";")]
            attributes = {}
            for part in parts[1:]:
                key, _, value = part.partition("=")
                attributes[key.lower()] = value
            return parts[0].split("=", 1)[1], attributes
    raise AssertionError(f"no Set-Cookie for {name}: {reply.headers}")


async def test_signing_in_sets_an_httponly_lax_cookie_and_shows_the_folders(web: Web) -> None:
    async with web.client() as client:
        reply = await client.post("/signin", data={"address": ADDRESS, "password": PASSWORD, "next": "/"})
        assert reply.status_code == 303 and reply.headers["location"] == "/"
        value, attributes = set_cookie(reply)
        assert value.startswith("v1.")
        assert "httponly" in attributes
        assert attributes["samesite"].lower() == "lax"
        assert attributes["path"] == "/"
        assert int(attributes["max-age"]) == web.services.settings.web.session_lifetime
        # A browser on this machine at http://127.0.0.1 gets no Secure flag: it could not keep the cookie.
        assert "secure" not in attributes
        home = await client.get("/", follow_redirects=True)
        assert home.status_code == 200
        assert ADDRESS in home.text and "INBOX" in home.text
        # The session records the account, not the password.
        payload = json.loads(base64.urlsafe_b64decode(value.split(".")[1] + "=="))
        assert set(payload) == {"a", "s", "c", "i"}
        assert PASSWORD not in home.text and PASSWORD not in value


async def test_addresses_are_case_insensitive_at_sign_in(web: Web) -> None:
    async with web.client() as client:
        reply = await client.post("/signin", data={"address": "  Alice@Example.COM ", "password": PASSWORD})
        assert reply.status_code == 303


async def test_cookie_is_secure_off_loopback_and_when_configured(web: Web, data_dir: Path) -> None:
    async with web.client() as client:
        # The Host a reverse proxy forwards is a public name: the cookie must be Secure.
        reply = await client.post("/signin", data={"address": ADDRESS, "password": PASSWORD},
                                  headers={"Host": "mail.example.com"})
        assert reply.status_code == 303
        assert "secure" in set_cookie(reply)[1]


async def test_cookie_secure_always(web_with: Any) -> None:
    async with web_with(web={"cookie_secure": "always"}) as web, web.client() as client:
        reply = await client.post("/signin", data={"address": ADDRESS, "password": PASSWORD})
        assert "secure" in set_cookie(reply)[1]


async def test_wrong_password_is_refused_with_one_message_and_no_cookie(web: Web) -> None:
    async with web.client() as client:
        for address in (ADDRESS, "nobody@example.com", "not an address"):
            reply = await client.post("/signin", data={"address": address, "password": "wrong password"})
            assert reply.status_code == 401
            assert "Wrong address or password." in reply.text
            assert "set-cookie" not in reply.headers
            # The address typed is kept in the form; the password is not.
            assert 'value="wrong password"' not in reply.text
        empty = await client.post("/signin", data={"address": "", "password": ""})
        assert empty.status_code == 400 and "Enter your address and password." in empty.text
        assert (await client.get("/api/v1/me")).status_code == 401


async def test_repeated_failures_lock_the_account_with_429_and_retry_after(web: Web) -> None:
    limit = web.services.settings.auth.max_failures_per_account
    async with web.client() as client:
        for _ in range(limit):
            assert (await client.post("/signin", data={"address": ADDRESS, "password": "guess"})).status_code == 401
        locked = await client.post("/signin", data={"address": ADDRESS, "password": PASSWORD})
        assert locked.status_code == 429
        assert 0 < int(locked.headers["retry-after"]) <= web.services.settings.auth.lockout + 1
        assert "Too many failed sign-ins" in locked.text
        assert "set-cookie" not in locked.headers
        # The API's sign-in shares the lockout, with the JSON error body.
        api = await client.post("/api/v1/session", json={"address": ADDRESS, "password": PASSWORD})
        assert api.status_code == 429 and api.headers["retry-after"]
        assert api.json()["error"]["code"] == "locked_out"


async def test_sign_in_goes_back_to_the_page_asked_for_on_this_site_only(web: Web) -> None:
    async with web.client() as client:
        first = await client.get("/ui/folders")
        assert first.status_code == 303 and first.headers["location"] == "/signin?next=%2Fui%2Ffolders"
        reply = await client.post("/signin", data={"address": ADDRESS, "password": PASSWORD, "next": "/ui/folders"})
        assert reply.headers["location"] == "/ui/folders"
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        async with web.client() as client:
            reply = await client.post("/signin", data={"address": ADDRESS, "password": PASSWORD, "next": hostile})
            assert reply.headers["location"] == "/", hostile


async def test_signed_in_user_visiting_signin_goes_home(web: Web) -> None:
    async with web.signed_in() as client:
        reply = await client.get("/signin")
        assert reply.status_code == 303 and reply.headers["location"] == "/"


async def test_password_change_ends_existing_sessions(web: Web) -> None:
    async with web.signed_in() as client:
        assert (await client.get("/api/v1/me")).status_code == 200
        await web.services.directory.set_password(ADDRESS, "a new password 2")
        assert (await client.get("/api/v1/me")).status_code == 401
        page = await client.get("/")
        assert page.status_code == 303 and page.headers["location"].startswith("/signin")
    # The new password opens a new session.
    async with web.signed_in(password="a new password 2") as client:
        assert (await client.get("/api/v1/me")).json()["address"] == ADDRESS


async def test_disabling_the_account_ends_its_sessions(web: Web) -> None:
    async with web.signed_in() as client:
        await web.services.directory.update_account(ADDRESS, disabled=True)
        assert (await client.get("/api/v1/me")).status_code == 401
        again = await client.post("/signin", data={"address": ADDRESS, "password": PASSWORD})
        assert again.status_code == 401


async def test_a_tampered_or_foreign_cookie_is_not_a_session(web: Web) -> None:
    async with web.signed_in() as client:
        value = client.cookies[COOKIE]
        body, _, mac = value.rpartition(".")
        payload = json.loads(base64.urlsafe_b64decode(body.split(".")[1] + "=="))
        payload["a"] = payload["a"] + 1  # someone else's account id
        forged = "v1." + base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode() + "." + mac
        for cookie in (forged, value[:-2], "v1.e30.AAAA", "garbage", "x" * 5000):
            async with web.client(cookies={COOKIE: cookie}) as other:
                assert (await other.get("/api/v1/me")).status_code == 401, cookie[:40]
        # One signed with another server's secret is refused too.
        stranger = SessionCodec(os.urandom(32), 3600).encode(Session(payload["a"] - 1, payload["s"], "t", payload["i"]))
        async with web.client(cookies={COOKIE: stranger}) as other:
            assert (await other.get("/api/v1/me")).status_code == 401


def test_sessions_expire_after_their_lifetime() -> None:
    codec = SessionCodec(os.urandom(32), lifetime=600)
    session = codec.new(7, 0, now=1_000_000)
    cookie = codec.encode(session)
    assert codec.decode(cookie, now=1_000_000 + 599) == session
    assert codec.decode(cookie, now=1_000_000 + 600) is None
    assert codec.decode(cookie, now=1_000_000 - 10) is None  # issued in the future: not ours to trust


async def test_sign_out_removes_the_cookie_and_ends_the_session(web: Web) -> None:
    async with web.signed_in() as client:
        old = client.cookies[COOKIE]
        home = await client.get("/", follow_redirects=True)
        reply = await client.post("/signout", data={"csrf_token": csrf_of(home.text)})
        assert reply.status_code == 303 and reply.headers["location"] == "/signin"
        value, attributes = set_cookie(reply)
        assert value in ("", '""') and int(attributes["max-age"]) <= 0
    # The same cookie, replayed, no longer works.
    async with web.client(cookies={COOKIE: old}) as replay:
        assert (await replay.get("/api/v1/me")).status_code == 401


async def test_secret_is_private_and_sessions_survive_a_restart(data_dir: Path) -> None:
    async with running(data_dir) as web:
        async with web.signed_in() as client:
            cookie = client.cookies[COOKIE]
    secret = data_dir / "web-secret.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    first = secret.read_bytes()
    async with running(data_dir) as web:
        assert secret.read_bytes() == first
        async with web.client(cookies={COOKIE: cookie}) as client:
            me = await client.get("/api/v1/me")
            assert me.status_code == 200 and me.json()["address"] == ADDRESS
    # A new secret signs everybody out.
    secret.unlink()
    async with running(data_dir) as web, web.client(cookies={COOKIE: cookie}) as client:
        assert (await client.get("/api/v1/me")).status_code == 401

