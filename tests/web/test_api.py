"""API v1: the account, its folders, the error body, and the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from tests.mailfactory import make_message
from tests.web.conftest import ADDRESS, PASSWORD, Web


async def test_me_describes_the_signed_in_account(web: Web) -> None:
    async with web.signed_in() as client:
        reply = await client.get("/api/v1/me")
    assert reply.status_code == 200
    assert reply.json() == {"address": ADDRESS, "display_name": "Alice Wong", "role": "user", "quota_bytes": 0,
                            "used_bytes": 0}


async def test_folders_list_names_roles_and_counts_of_this_account_only(web: Web) -> None:
    services = web.services
    await services.directory.add_account("bob@example.com", "bobs password 1")
    await services.mailbox.create((await services.directory.account("bob@example.com")).id, "Bob private")
    for subject in ("会议通知", "Agenda"):
        report = await services.delivery.deliver(make_message(subject=subject), "carol@example.org", [ADDRESS])
        assert report
    account = await services.directory.account(ADDRESS)
    await services.mailbox.create(account.id, "Projects/2024")
    async with web.signed_in() as client:
        reply = await client.get("/api/v1/folders")
        page = await client.get("/", follow_redirects=True)
    assert reply.status_code == 200
    folders = reply.json()["folders"]
    names = [folder["name"] for folder in folders]
    assert names[:6] == ["INBOX", "Drafts", "Sent", "Archive", "Junk", "Trash"]
    assert set(names[6:]) == {"Projects", "Projects/2024"}
    assert "Bob private" not in names
    inbox = folders[0]
    assert inbox["special_use"] == "inbox" and inbox["total"] == 2 and inbox["unread"] == 2
    assert inbox["size_bytes"] > 0
    assert {folder["name"]: folder["special_use"] for folder in folders}["Trash"] == "trash"
    # The page shows the same counts.
    assert "2 unread messages" in page.text
    assert 'data-folder="INBOX"' in page.text


async def test_unauthenticated_api_is_401_and_pages_redirect_to_sign_in(web: Web) -> None:
    async with web.client() as client:
        for path in ("/api/v1/me", "/api/v1/folders", "/api/v1/session"):
            reply = await client.get(path)
            assert reply.status_code == 401, path
            assert reply.json()["error"]["code"] == "unauthenticated"
        page = await client.get("/")
        assert page.status_code == 303 and page.headers["location"] == "/signin?next=%2F"


async def test_bad_requests_get_the_error_body_never_a_500(web: Web) -> None:
    async with web.client() as client:
        cases = [
            await client.post("/api/v1/session", json={"address": ADDRESS}),
            await client.post("/api/v1/session", json={"address": 5, "password": ["x"]}),
            await client.post("/api/v1/session", content=b"{not json", headers={"Content-Type": "application/json"}),
            await client.post("/api/v1/session", content=b"address=a&password=b",
                              headers={"Content-Type": "application/x-www-form-urlencoded"}),
            await client.post("/api/v1/session", json={"address": "a" * 400, "password": "x"}),
        ]
        for reply in cases:
            assert reply.status_code == 422, reply.text
            error = reply.json()["error"]
            assert error["code"] == "invalid_request"
            assert error["message"].startswith("The request is not valid")
            assert error["fields"]
        unreadable = await client.post("/api/v1/session", content=b"\xff\xfe\x00",
                                       headers={"Content-Type": "application/json"})
        assert unreadable.status_code == 400 and unreadable.json()["error"]["code"] == "invalid_request"
        missing = cases[0].json()["error"]["fields"]
        assert missing == [{"field": "password", "problem": "Field required"}]
        unknown = await client.get("/api/v1/nothing-here")
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
        method = await client.put("/api/v1/me")
        assert method.status_code == 405 and method.json()["error"]["code"] == "method_not_allowed"
        wrong = await client.post("/api/v1/session", json={"address": ADDRESS, "password": "nope"})
        assert wrong.status_code == 401
        assert wrong.json() == {"error": {"code": "authentication_failed", "message": "Wrong address or password."}}


async def test_api_sign_in_returns_the_session(web: Web) -> None:
    async with web.client() as client:
        reply = await client.post("/api/v1/session", json={"address": ADDRESS, "password": PASSWORD})
        assert reply.status_code == 200
        body = reply.json()
        assert body["account"]["address"] == ADDRESS
        assert len(body["csrf_token"]) >= 40
        assert body["expires_at"] > 0
        assert (await client.get("/api/v1/me")).status_code == 200


async def test_openapi_schema_describes_v1_with_typed_models(web: Web) -> None:
    async with web.client() as client:
        schema = (await client.get("/api/openapi.json")).json()
        docs = await client.get("/api/docs")
    assert docs.status_code == 200
    paths = schema["paths"]
    assert {"/api/v1/me", "/api/v1/folders", "/api/v1/session"} <= set(paths)
    assert not any(path in paths for path in ("/", "/signin", "/healthz"))
    ok = paths["/api/v1/folders"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/FolderList"}
    folder = schema["components"]["schemas"]["Folder"]["properties"]
    assert {"name", "special_use", "total", "unread"} <= set(folder)
    unauthorized = paths["/api/v1/me"]["get"]["responses"]["401"]["content"]["application/json"]["schema"]
    assert unauthorized == {"$ref": "#/components/schemas/ErrorBody"}


async def test_a_fault_of_ours_is_a_500_with_the_error_body_and_no_details(web: Web, monkeypatch: Any) -> None:
    async def broken(account_id: int) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(web.services.mailbox, "folders", broken)
    async with web.signed_in() as client:
        api = await client.get("/api/v1/folders")
        page = await client.get("/", follow_redirects=True)
    assert api.status_code == 500
    assert api.json() == {"error": {"code": "internal_error",
                                    "message": "Something went wrong on the server; it has been logged."}}
    assert page.status_code == 500 and "Something went wrong" in page.text
    for reply in (api, page):
        assert "secret internal detail" not in reply.text and "Traceback" not in reply.text
        assert reply.headers["content-security-policy"].startswith("default-src 'none'")
