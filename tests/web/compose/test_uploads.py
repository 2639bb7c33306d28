"""Uploads: limits with clear messages, isolation between accounts, expiry, images served back to the editor."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.web.compose.conftest import BOB, BOB_PASSWORD, PNG, add_bob, signed_in
from tests.web.conftest import Web
from yizhan.services.uploads import UploadLimits, UploadService
from yizhan.util.errors import InvalidInput, NotFound, QuotaExceeded


async def test_upload_is_listed_served_and_removable(web: Web) -> None:
    async with signed_in(web) as client:
        image = await client.upload("图片.png", PNG, "image/png")
        assert image.status_code == 201
        body = image.json()
        assert body["filename"] == "图片.png" and body["size"] == len(PNG) and body["is_image"]
        shown = await client.http.get(body["url"])
        assert shown.status_code == 200 and shown.content == PNG and shown.headers["content-type"] == "image/png"
        text = await client.upload("../../etc/notes.txt", b"<script>alert(1)</script>", "text/html")
        served = await client.http.get(text.json()["url"])
        # Not an image: a download, never a page the browser would render.
        assert served.headers["content-type"] == "application/octet-stream"
        assert served.headers["content-disposition"].startswith("attachment")
        assert text.json()["filename"] == "notes.txt"
        listed = (await client.http.get("/compose/uploads")).json()["uploads"]
        assert {u["id"] for u in listed} == {body["id"], text.json()["id"]}
        removed = await client.http.delete(body["url"], headers={"X-CSRF-Token": client.csrf})
        assert removed.status_code == 204
        assert (await client.http.get(body["url"])).status_code == 404
        again = await client.http.delete(body["url"], headers={"X-CSRF-Token": client.csrf})
        assert again.status_code == 404


async def test_another_accounts_upload_is_404_everywhere(web: Web) -> None:
    await add_bob(web)
    async with signed_in(web) as alice:
        secret = (await alice.upload("secret.pdf", b"alice only", "application/pdf")).json()
        image = (await alice.upload("a.png", PNG, "image/png", inline=True)).json()
    async with signed_in(web, BOB, BOB_PASSWORD) as bob:
        assert (await bob.http.get(secret["url"])).status_code == 404
        assert (await bob.http.delete(secret["url"], headers={"X-CSRF-Token": bob.csrf})).status_code == 404
        # Neither as an attachment nor as an inline image can Bob send Alice's upload.
        stolen = await bob.post_json("/compose/send", {
            "from": BOB, "to": [BOB], "subject": "x", "html": "<p>x</p>", "attachments": [secret["id"]]})
        assert stolen.status_code == 404 and stolen.json()["error"]["fields"][0]["field"] == "attachments"
        inline = await bob.post_json("/compose/send", {
            "from": BOB, "to": [BOB], "subject": "x", "html": f'<img src="/compose/uploads/{image["id"]}">'})
        assert inline.status_code == 404
        assert (await bob.http.get("/compose/uploads")).json()["uploads"] == []
    async with signed_in(web) as alice:
        assert (await alice.http.get(secret["url"])).status_code == 200


async def test_limits_give_clear_messages(web_with: Any) -> None:
    async with web_with(limits={"max_message_size": 20_000}) as web, signed_in(web) as client:
        too_big = await client.upload("big.bin", b"x" * 20_001)
        assert too_big.status_code == 400
        assert "big.bin" in too_big.json()["error"]["message"] and "too large" in too_big.json()["error"]["message"]
        not_image = await client.upload("x.png", b"not a png", "image/png", inline=True)
        assert not_image.status_code == 400 and "PNG" in not_image.json()["error"]["message"]
        no_file = await client.http.post("/compose/uploads", data={"x": "1"}, files={"other": ("a", b"a")},
                                         headers={"X-CSRF-Token": client.csrf})
        assert no_file.status_code == 400 and "file" in no_file.json()["error"]["message"]


async def test_service_limits_expiry_and_ids(tmp_path: Path) -> None:
    service = UploadService(tmp_path / "uploads", UploadLimits(max_file_bytes=100, max_total_bytes=250,
                                                               max_count=3, ttl=3600))
    first = await service.add(1, "a.txt", "text/plain", b"a" * 100)
    await service.add(1, "b.txt", "text/plain; charset=utf-8", b"b" * 100)
    with pytest.raises(InvalidInput, match="at most"):
        await service.add(1, "c.txt", "text/plain", b"c" * 101)
    with pytest.raises(QuotaExceeded, match="total"):
        await service.add(1, "c.txt", "text/plain", b"c" * 60)
    await service.add(1, "c.txt", "text/plain", b"c" * 50)
    with pytest.raises(QuotaExceeded, match="at most 3 files"):
        await service.add(1, "d.txt", "text/plain", b"d")
    # Another account has its own room and cannot see account 1's files.
    other = await service.add(2, "d.txt", "bogus type", b"d")
    assert other.content_type == "application/octet-stream"
    with pytest.raises(NotFound):
        await service.read(2, first.id)
    for bad in ("../1/" + first.id, "", "x" * 100, first.id + "/../x"):
        with pytest.raises(NotFound):
            await service.read(1, bad)
    assert len(first.id) >= 24 and first.id != other.id
    # Expiry: an upload older than the ttl is gone, on access and in a sweep at start.
    meta_path = tmp_path / "uploads" / "1" / f"{first.id}.json"
    meta = json.loads(meta_path.read_text())
    meta["created_at"] -= 7200
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(NotFound, match="expired"):
        await service.read(1, first.id)
    assert [u.filename for u in await service.uploads(1)] == ["b.txt", "c.txt"]
    assert not (tmp_path / "uploads" / "1" / f"{first.id}.bin").exists()
    # A half-written upload (bytes without description) is removed by the sweep once stale.
    stray = tmp_path / "uploads" / "2" / ("z" * 24 + ".bin")
    stray.write_bytes(b"partial")
    os.utime(stray, (0, 0))
    restarted = UploadService(tmp_path / "uploads", service.limits)
    await restarted.sweep()
    assert not stray.exists()
    assert [u.filename for u in await restarted.uploads(2)] == ["d.txt"]
