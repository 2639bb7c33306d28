"""The remote-image proxy: only signed URLs of the reader's account; SSRF refused by default (the image server of
these tests is on 127.0.0.1, so it is exactly what must be refused); allowed with web.image_proxy_allow_private;
size, type (never SVG or HTML), redirect and time limits; nosniff and a sandboxing CSP on what it serves."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.web.conftest import Web
from tests.web.read.support import (
    BOB,
    BOB_PASSWORD,
    PNG,
    add_bob,
    attribute_values,
    deliver,
    html_message,
    image_server,
)
from yizhan.services.imageproxy import image_type, is_public


async def proxy_links(web: Web, client: httpx.AsyncClient, urls: list[str]) -> list[str]:
    """The signed proxy URLs the body gets for `urls` once the reader shows images."""
    links = []
    for index, url in enumerate(urls):
        folder_id, uid = await deliver(web, html_message(url, message_id=f"<proxy-{index}-{len(url)}@example.org>"))
        body = await client.get(f"/mail/body/{folder_id}/{uid}", params={"images": "1"})
        links += [src for src in attribute_values(body.text, "src") if src.startswith("/mail/proxy?")]
    assert len(links) == len(urls)
    return links


async def test_loopback_images_are_refused_by_default(web: Web) -> None:
    async with image_server() as images, web.signed_in() as client:
        [link] = await proxy_links(web, client, [images.url("/pic.png")])
        refused = await client.get(link)
    assert refused.status_code == 403
    assert "public address" in refused.text
    assert images.hits == []  # nothing was fetched


async def test_private_addresses_allowed_by_the_setting_with_every_limit(web_with: Any) -> None:
    settings = {"web": {"image_proxy_allow_private": True, "image_proxy_max_bytes": 1024 * 1024,
                        "image_proxy_timeout": 1.5}}
    async with web_with(**settings) as web, image_server() as images, web.signed_in() as client:
        paths = ["/pic.png", "/big.png", "/unsized.png", "/page.html", "/logo.svg", "/moved", "/slow", "/missing"]
        links = dict(zip(paths, await proxy_links(web, client, [images.url(p) for p in paths]), strict=True))
        image = await client.get(links["/pic.png"])
        assert image.status_code == 200 and image.content == PNG
        assert image.headers["content-type"] == "image/png"
        assert image.headers["x-content-type-options"] == "nosniff"
        assert image.headers["content-security-policy"] == "default-src 'none'; sandbox"
        for big in ("/big.png", "/unsized.png"):
            too_big = await client.get(links[big])
            assert too_big.status_code == 400 and "larger than" in too_big.text, big
        for kind in ("/page.html", "/logo.svg"):
            refused = await client.get(links[kind])
            assert refused.status_code == 400 and "not an image" in refused.text, kind
        redirected = await client.get(links["/moved"])
        assert redirected.status_code == 200 and redirected.content == PNG
        slow = await client.get(links["/slow"])
        assert slow.status_code == 503
        missing = await client.get(links["/missing"])
        assert missing.status_code == 404
        assert images.hits.count("/pic.png") == 2  # direct, and after the redirect


async def test_signature_required_and_bound_to_the_account(web_with: Any) -> None:
    async with web_with(web={"image_proxy_allow_private": True}) as web, image_server() as images:
        await add_bob(web)
        async with web.signed_in() as alice:
            [link] = await proxy_links(web, alice, [images.url("/pic.png")])
            url = images.url("/pic.png")
            assert (await alice.get("/mail/proxy", params={"url": url})).status_code == 400
            mine = parse_qs(urlsplit(link).query)["a"][0]
            forged = await alice.get("/mail/proxy", params={"url": url, "a": mine, "x": "9999999999", "sig": "ab" * 20})
            assert forged.status_code == 403
            other_url = link.replace("pic.png", "big.png")
            assert (await alice.get(other_url)).status_code == 403
            assert (await alice.get(link)).status_code == 200
        async with web.signed_in(BOB, BOB_PASSWORD) as bob:
            assert (await bob.get(link)).status_code == 404  # alice's link in bob's session
        async with web.client() as anonymous:
            assert (await anonymous.get(link)).status_code == 200  # the sandboxed frame sends no cookie
        assert images.hits == ["/pic.png", "/pic.png"]


async def test_only_http_and_https_are_fetched(web_with: Any) -> None:
    async with web_with(web={"image_proxy_allow_private": True}) as web, web.signed_in() as client:
        folder_id, uid = await deliver(web, html_message("ftp://127.0.0.1/x.png"))
        body = await client.get(f"/mail/body/{folder_id}/{uid}", params={"images": "1"})
        assert "/mail/proxy" not in body.text and "ftp:" not in body.text


def test_public_address_rule() -> None:
    for address in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                    "0.0.0.0", "224.0.0.1", "239.255.255.250", "::1", "fe80::1", "fc00::1", "ff02::1",
                    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1", "192.0.2.1", "not an ip", "::"):
        assert not is_public(address), address
    for address in ("93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert is_public(address), address


def test_image_types_passed_on() -> None:
    assert image_type("image/png") == "image/png"
    assert image_type("IMAGE/JPEG; charset=binary") == "image/jpeg"
    for refused in ("image/svg+xml", "text/html", "image/svg", "application/octet-stream", "", "image/",
                    "image/x<script>", "image/xml"):
        assert image_type(refused) is None, refused
