"""Languages (简体中文, English) chosen from the browser, switched and remembered; dates in the reader's zone;
every string the web shows has its Chinese translation."""

from __future__ import annotations

import base64
import json
import re
import zoneinfo
from datetime import UTC, datetime
from pathlib import Path

from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import yizhan.web
from tests.web.conftest import ADDRESS, Web
from yizhan.web.i18n import LANG_COOKIE, TZ_COOKIE, catalogue_files, negotiate
from yizhan.web.sessions import COOKIE

WEB = Path(yizhan.web.__file__).parent


def lang_of(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match
    return match.group(1)


async def test_accept_language_chooses_the_language(web: Web) -> None:
    async with web.client() as client:
        chinese = await client.get("/signin", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
        english = await client.get("/signin", headers={"Accept-Language": "en-GB,en;q=0.9"})
        preferred = await client.get("/signin", headers={"Accept-Language": "en;q=0.4, zh-Hans;q=0.9, fr"})
        unknown = await client.get("/signin", headers={"Accept-Language": "fr-FR, de;q=0.5"})
    assert lang_of(chinese.text) == "zh-CN" and "登录" in chinese.text and "邮箱地址" in chinese.text
    assert lang_of(english.text) == "en" and "Mail address" in english.text and "登录" not in english.text
    assert lang_of(preferred.text) == "zh-CN"
    assert lang_of(unknown.text) == "en"


def test_negotiation_rules() -> None:
    assert negotiate("zh-TW") == "zh_CN"
    assert negotiate("en-US,zh-CN;q=0.8") == "en"
    assert negotiate("zh;q=0, en;q=0.1") == "en"  # q=0 means "not this one" (RFC 9110 §12.4.2)
    assert negotiate("*") is None and negotiate("") is None and negotiate("q=;;,,") is None
    assert negotiate("xx;q=abc, zh") == "zh_CN"


async def test_the_switch_sets_a_cookie_that_beats_the_browser(web: Web) -> None:
    async with web.client(headers={"Accept-Language": "en"}) as client:
        page = await client.get("/signin")
        assert '/language/zh_CN?next=/signin' in page.text
        switched = await client.get("/language/zh_CN", params={"next": "/signin"})
        assert switched.status_code == 303 and switched.headers["location"] == "/signin"
        assert client.cookies[LANG_COOKIE] == "zh_CN"
        after = await client.get("/signin")
        assert lang_of(after.text) == "zh-CN" and "密码" in after.text
        back = await client.get("/language/en", params={"next": "https://evil.example/"})
        assert back.headers["location"] == "/"
        assert lang_of((await client.get("/signin")).text) == "en"
        bad = await client.get("/language/klingon")
        assert bad.status_code == 400 and "zh_CN" in bad.text


async def test_messages_and_errors_are_translated(web: Web) -> None:
    async with web.client(headers={"Accept-Language": "zh-CN"}) as client:
        wrong = await client.post("/signin", data={"address": ADDRESS, "password": "wrong"})
        assert "邮箱地址或密码错误。" in wrong.text
        api = await client.get("/api/v1/me")
        assert api.json()["error"]["message"] == "请先登录：此操作需要会话 Cookie 或 API 令牌。"
        missing = await client.get("/no-such-page")
        assert missing.status_code == 404 and "此地址没有内容。" in missing.text
    async with web.signed_in(headers={"Accept-Language": "zh-CN"}) as client:
        home = await client.get("/", follow_redirects=True)
        for word in ("收件箱", "已发送", "草稿箱", "已删除", "垃圾邮件", "归档", "退出登录", "未读"):
            assert word in home.text, word


async def test_dates_are_shown_in_the_readers_time_zone(web: Web) -> None:
    async with web.signed_in(headers={"Accept-Language": "en"}) as client:
        payload = json.loads(base64.urlsafe_b64decode(client.cookies[COOKIE].split(".")[1] + "=="))
        issued = datetime.fromtimestamp(payload["i"], UTC)
        for zone in ("Asia/Shanghai", "America/New_York"):
            client.cookies.set(TZ_COOKIE, zone)
            home = await client.get("/", follow_redirects=True)
            expected = format_datetime(issued, "medium", tzinfo=zoneinfo.ZoneInfo(zone), locale="en")
            assert f"Signed in since {expected}." in home.text, zone
        # A cookie that names no zone falls back to the configured one (UTC by default).
        client.cookies.set(TZ_COOKIE, "../../etc/passwd")
        home = await client.get("/", follow_redirects=True)
        assert f"Signed in since {format_datetime(issued, 'medium', tzinfo=UTC, locale='en')}." in home.text


def test_every_string_of_the_web_has_a_chinese_translation() -> None:
    catalogue = Catalog(locale="zh_CN")
    for path in catalogue_files("zh_CN"):
        with open(path, "rb") as f:
            for entry in read_po(f, locale="zh_CN"):
                if entry.id:
                    catalogue[entry.id] = entry
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    found = 0
    for _, _, message, _, _ in extract_from_dir(str(WEB), method_map, options, keywords={
            "_": None, "gettext": None, "ngettext": (1, 2), "N_": None}):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalogue.get(message)
        assert entry is not None and entry.string, f"no zh_CN translation for {msgid!r}"
        translated = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for text in translated:
            assert set(re.findall(r"%\(\w+\)\w", text)) == set(re.findall(r"%\(\w+\)\w", msgid)), msgid
        found += 1
    assert found > 30
