"""API v1: one message with its parsed parts (typed, in the OpenAPI schema), its raw bytes and its parts."""

from __future__ import annotations

from urllib.parse import quote

from tests.web.conftest import ADDRESS, Web
from tests.web.read.support import PDF, PNG, chinese_message, deliver, flags_of, html_message


async def test_get_message_with_parsed_parts(web: Web) -> None:
    raw = chinese_message()
    folder_id, uid = await deliver(web, raw)
    async with web.signed_in() as client:
        reply = await client.get(f"/api/v1/messages/{folder_id}/{uid}")
        assert reply.status_code == 200
        data = reply.json()
        assert "\\Seen" not in await flags_of(web, ADDRESS, "INBOX", uid)  # reading through the API is a peek
        assert data["id"] == f"{folder_id}:{uid}" and data["folder"] == "INBOX" and data["uid"] == uid
        assert data["subject"] == "关于季度会议的通知（镕）"
        assert data["from"] == [{"name": "朱镕基", "address": "zhu@example.org"}]
        assert data["to"] == [{"name": "王小明", "address": ADDRESS}]
        assert data["cc"] == [{"name": "", "address": "carol@example.org"}]
        assert data["date"] == 1714527000 and data["message_id"] == "<cn-1@example.org>"
        assert data["body"]["kind"] == "text" and "各位同事" in data["body"]["text"]
        assert 'href="https://example.org/' in data["body"]["html"]
        names = [(a["filename"], a["content_type"], a["path"]) for a in data["attachments"]]
        assert names == [("季度报告.pdf", "application/pdf", "2"), ("照片.png", "image/png", "3"),
                         ("页面.html", "text/html", "4"), ("logo.svg", "image/svg+xml", "5")]
        assert data["attachments"][0]["size"] == len(PDF)
        assert data["receipt"] == {"requested": False, "to": [], "answered": False}
        pdf = await client.get(data["attachments"][0]["url"])
        assert pdf.content == PDF and pdf.headers["content-disposition"] == (
            "attachment; filename=\"____.pdf\"; filename*=UTF-8''" + quote("季度报告.pdf", safe=""))
        page = await client.get(data["attachments"][2]["url"])
        assert page.headers["content-type"] == "application/octet-stream"
        assert page.headers["x-content-type-options"] == "nosniff"
        raw_reply = await client.get(data["raw_url"])
        assert raw_reply.content == raw and raw_reply.headers["content-type"] == "message/rfc822"
        seen = await client.get(f"/api/v1/messages/{folder_id}/{uid}", params={"mark_seen": "true"})
        assert "\\Seen" in seen.json()["flags"]
        assert (await client.get(f"/api/v1/messages/{folder_id}/{uid}/parts/7")).status_code == 404
        assert (await client.get(f"/api/v1/messages/{folder_id}/{uid}/parts/x.y")).status_code == 404
        missing = await client.get(f"/api/v1/messages/{folder_id}/{uid + 5}")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_html_body_in_the_api_is_sanitised_with_api_part_links(web: Web) -> None:
    folder_id, uid = await deliver(web, html_message("http://images.example.net/t.png"))
    async with web.signed_in() as client:
        data = (await client.get(f"/api/v1/messages/{folder_id}/{uid}")).json()
        html = data["body"]["html"]
        assert data["body"]["kind"] == "html" and data["body"]["has_remote_images"] is True
        assert "<script" not in html and "onclick" not in html
        assert f'src="/api/v1/messages/{folder_id}/{uid}/parts/2"' in html
        assert 'data-remote-src="http://images.example.net/t.png"' in html
        logo = await client.get(f"/api/v1/messages/{folder_id}/{uid}/parts/2")
        assert logo.content == PNG
        [inline] = data["attachments"]
        assert inline["inline"] is True and inline["content_id"] == "logo@example.org"
        shown = (await client.get(f"/api/v1/messages/{folder_id}/{uid}", params={"images": "true"})).json()
        assert 'src="/mail/proxy?url=http%3A%2F%2Fimages.example.net%2Ft.png&amp;' in shown["body"]["html"]


async def test_schema_documents_the_routes(web: Web) -> None:
    async with web.client() as client:
        schema = (await client.get("/api/openapi.json")).json()
    paths = schema["paths"]
    for path in ("/api/v1/messages/{folder_id}/{uid}", "/api/v1/messages/{folder_id}/{uid}/raw",
                 "/api/v1/messages/{folder_id}/{uid}/parts/{path}", "/api/v1/messages/{folder_id}/{uid}/receipt"):
        assert path in paths, path
    detail = schema["components"]["schemas"]["MessageDetail"]
    assert {"from", "to", "body", "attachments", "receipt"} <= set(detail["properties"])
