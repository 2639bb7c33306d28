"""The message body document: sanitised HTML under its own strict, sandboxing CSP; remote images blocked until the
reader allows them (once, or always for the sender), then pointing at the signed proxy; cid: images through
signed part links that work without the session cookie (a sandboxed frame sends none)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.web.conftest import ADDRESS, Web, csrf_of
from tests.web.read.support import PNG, attribute_values, deliver, html_message


def directives(csp: str) -> dict[str, str]:
    return {part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";") if part.strip()}


async def test_body_is_sanitised_under_a_strict_csp_without_remote_images(web: Web) -> None:
    remote = "http://images.example.net/track.png?user=alice"
    folder_id, uid = await deliver(web, html_message(remote))
    async with web.signed_in() as client:
        page = await client.get(f"/mail/read/{folder_id}/{uid}")
        body = await client.get(f"/mail/body/{folder_id}/{uid}")
    assert body.status_code == 200 and body.headers["content-type"].startswith("text/html")
    csp = directives(body.headers["content-security-policy"])
    assert csp["default-src"] == "default-src 'none'"
    assert csp["img-src"] == "img-src 'self'"
    assert csp["style-src"] == "style-src 'unsafe-inline'"
    assert "script-src" not in csp  # falls back to default-src 'none': no script at all
    assert csp["sandbox"] == "sandbox allow-popups allow-popups-to-escape-sandbox"
    assert csp["frame-ancestors"] == "frame-ancestors 'self'"
    assert body.headers["x-frame-options"] == "SAMEORIGIN"
    assert body.headers["x-content-type-options"] == "nosniff"
    assert body.headers["referrer-policy"] == "no-referrer"
    text = body.text
    assert "月度简报 Monthly news" in text
    assert "<script" not in text and "alert" not in text and "onclick" not in text and "javascript:" not in text
    assert 'style="color: #c00000"' in text  # the <style> rule was inlined, then the sheet dropped
    # The remote image is not loaded: its URL is parked where no browser fetches it.
    assert remote not in attribute_values(text, "src")
    assert attribute_values(text, "data-remote-src") == [remote]
    assert "/mail/proxy" not in text
    # The page offers to show them.
    assert 'data-testid="images-bar"' in page.text and 'data-testid="images-always"' in page.text
    assert "news@example.org" in page.text


async def test_inline_cid_image_is_served_by_a_signed_link_without_cookies(web: Web) -> None:
    folder_id, uid = await deliver(web, html_message("http://images.example.net/a.png"))
    async with web.signed_in() as client:
        body = await client.get(f"/mail/body/{folder_id}/{uid}")
    [link] = [src for src in attribute_values(body.text, "src") if src.startswith("/mail/part/")]
    assert link.startswith(f"/mail/part/{folder_id}/{uid}/2?")
    async with web.client() as anonymous:  # as the sandboxed frame: no cookie
        image = await anonymous.get(link)
        assert image.status_code == 200 and image.content == PNG
        assert image.headers["content-type"] == "image/png"
        assert image.headers["content-disposition"].startswith("inline;")
        assert image.headers["x-content-type-options"] == "nosniff"
        # Forged, stretched or borrowed links are refused.
        query = parse_qs(urlsplit(link).query)
        forged = link.replace(query["sig"][0], "0" * len(query["sig"][0]))
        assert (await anonymous.get(forged)).status_code == 403
        assert (await anonymous.get(link.replace(f"x={query['x'][0]}", f"x={int(query['x'][0]) + 3600}"))
                ).status_code == 403
        other_part = link.replace(f"/{uid}/2?", f"/{uid}/1?")
        assert (await anonymous.get(other_part)).status_code == 403
        # Without a link or a session: sent to sign in.
        bare = await anonymous.get(f"/mail/part/{folder_id}/{uid}/2")
        assert bare.status_code == 303
    # A password change voids every link made before it.
    await web.services.directory.set_password(ADDRESS, "another password 2")
    async with web.client() as anonymous:
        assert (await anonymous.get(link)).status_code == 403


async def test_show_once_and_always_for_this_sender(web: Web) -> None:
    remote = "http://images.example.net/banner.png"
    folder_id, uid = await deliver(web, html_message(remote))
    second_id, second_uid = await deliver(web, html_message(remote, message_id="<html-2@example.org>"))
    async with web.signed_in() as client:
        once = await client.get(f"/mail/body/{folder_id}/{uid}", params={"images": "1"})
        [proxied] = [src for src in attribute_values(once.text, "src") if src.startswith("/mail/proxy?")]
        query = parse_qs(urlsplit(proxied).query)
        assert query["url"] == [remote] and query["sig"] and query["a"]
        assert "data-remote-src" not in once.text
        # "Once" is only once: the next view hides them again.
        again = await client.get(f"/mail/body/{folder_id}/{uid}")
        assert "/mail/proxy" not in again.text
        # The pane's "show once" asks for the body with images.
        pane = await client.get(f"/mail/read/{folder_id}/{uid}", params={"pane": "1", "images": "1"})
        assert f'src="/mail/body/{folder_id}/{uid}?images=1"' in pane.text
        assert 'data-testid="images-bar"' not in pane.text
        # Always for this sender: stored in the account's settings, so every message from it shows them.
        csrf = csrf_of((await client.get(f"/mail/read/{folder_id}/{uid}")).text)
        trusted = await client.post(f"/mail/read/{folder_id}/{uid}/images", data={"csrf_token": csrf})
        assert trusted.status_code == 303
        other = await client.get(f"/mail/body/{second_id}/{second_uid}")
        assert any(src.startswith("/mail/proxy?") for src in attribute_values(other.text, "src"))
    account = await web.services.directory.account(ADDRESS)
    assert await web.services.account_settings.image_senders(account.id) == ["news@example.org"]


async def test_policy_never_refuses_even_once_and_always_shows_without_asking(web: Web) -> None:
    remote = "http://images.example.net/banner.png"
    folder_id, uid = await deliver(web, html_message(remote))
    account = await web.services.directory.account(ADDRESS)
    await web.services.account_settings.update(account, remote_images="never")
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        blocked = await client.get(f"/mail/body/{folder_id}/{uid}", params={"images": "1"})
        assert "/mail/proxy" not in blocked.text and remote in blocked.text
        page = await client.get(f"/mail/read/{folder_id}/{uid}")
        assert "your settings never load them" in page.text and 'data-testid="images-once"' not in page.text
        await web.services.account_settings.update(account, remote_images="always")
        shown = await client.get(f"/mail/body/{folder_id}/{uid}")
        assert any(src.startswith("/mail/proxy?") for src in attribute_values(shown.text, "src"))
        page = await client.get(f"/mail/read/{folder_id}/{uid}")
        assert 'data-testid="images-bar"' not in page.text


async def test_plain_text_body_with_clickable_links_and_chinese(web: Web) -> None:
    from tests.web.read.support import chinese_message

    folder_id, uid = await deliver(web, chinese_message())
    async with web.signed_in() as client:
        body = await client.get(f"/mail/body/{folder_id}/{uid}")
    assert "各位同事" in body.text and "朱镕基" in body.text
    hrefs = attribute_values(body.text, "href")
    assert any(h.startswith("https://example.org/") for h in hrefs)
    assert 'rel="noopener noreferrer"' in body.text
