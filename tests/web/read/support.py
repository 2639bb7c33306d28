"""Messages and helpers for the reading tests: raw mail the way Chinese and HTML senders write it, delivery
through the real delivery service, and a small image server on 127.0.0.1 for the proxy."""

from __future__ import annotations

import asyncio
import base64
import re
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from tests.web.conftest import ADDRESS, Web

BOB = "bob@example.com"
BOB_PASSWORD = "bobs password 1"


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG image (red pixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


PNG = png()
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")


def gb_word(text: str, charset: str = "gb2312") -> str:
    """An RFC 2047 B encoded-word in a Chinese charset (GBK-only characters work under the gb2312 label too)."""
    return f"=?{charset}?B?{base64.b64encode(text.encode('gb18030')).decode('ascii')}?="


def chinese_message(message_id: str = "<cn-1@example.org>", extra_headers: str = "") -> bytes:
    """A message as a Chinese mail client sends it: GB2312-labelled subject and name that hold a GBK-only
    character (镕), a GB2312 body with a link, and attachments named with RFC 2231 and RFC 2047."""
    body = "各位同事：\r\n\r\n会议资料见 https://example.org/议程?id=1 ，请查收。\r\n朱镕基\r\n".encode("gb18030")
    head = (
        f"From: {gb_word('朱镕基')} <zhu@example.org>\r\n"
        f"To: {gb_word('王小明')} <{ADDRESS}>\r\n"
        f"Cc: carol@example.org\r\n"
        f"Subject: {gb_word('关于季度会议的通知（镕）')}\r\n"
        "Date: Wed, 01 May 2024 09:30:00 +0800\r\n"
        f"Message-ID: {message_id}\r\n{extra_headers}"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="BOUNDARY"\r\n\r\n'
    )
    parts = [
        "--BOUNDARY\r\nContent-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b64(body),
        "--BOUNDARY\r\nContent-Type: application/pdf\r\n"
        "Content-Disposition: attachment; filename*=UTF-8''%E5%AD%A3%E5%BA%A6%E6%8A%A5%E5%91%8A.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + b64(PDF),
        f'--BOUNDARY\r\nContent-Type: image/png; name="{gb_word("照片")}.png"\r\n'
        f'Content-Disposition: attachment; filename="{gb_word("照片.png", "gbk")}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + b64(PNG),
        "--BOUNDARY\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Disposition: attachment; filename*=UTF-8''%E9%A1%B5%E9%9D%A2.html\r\n\r\n"
        "<html><body><script>alert(document.cookie)</script>页面</body></html>\r\n",
        "--BOUNDARY\r\nContent-Type: image/svg+xml\r\nContent-Disposition: attachment; filename=\"logo.svg\"\r\n\r\n"
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>\r\n',
    ]
    return (head + "".join(parts) + "--BOUNDARY--\r\n").encode("utf-8")


def html_message(image_url: str, sender: str = "news@example.org", message_id: str = "<html-1@example.org>") -> bytes:
    """HTML mail with a remote image, an inline cid: image, a script, an event handler and a style sheet."""
    html = (
        "<html><head><style>p.note { color: #c00000; }</style></head><body>"
        '<p class="note" onclick="alert(1)">月度简报 Monthly news</p>'
        f'<img src="{image_url}" alt="remote">'
        '<img src="cid:logo@example.org" alt="logo">'
        "<script>alert('x')</script>"
        '<a href="javascript:alert(1)">bad</a> <a href="https://example.org/more">more</a>'
        "</body></html>"
    )
    return (
        f"From: News <{sender}>\r\nTo: {ADDRESS}\r\nSubject: Monthly news\r\n"
        f"Date: Thu, 02 May 2024 10:00:00 +0000\r\nMessage-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/related; boundary="REL"\r\n\r\n'
        '--REL\r\nContent-Type: multipart/alternative; boundary="ALT"\r\n\r\n'
        "--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMonthly news\r\n"
        "--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n--ALT--\r\n"
        "--REL\r\nContent-Type: image/png\r\nContent-ID: <logo@example.org>\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + b64(PNG) + "--REL--\r\n"
    ).encode("utf-8")


def simple_message(subject: str, sender: str = "Bob <bob@example.org>", message_id: str = "",
                   in_reply_to: str = "", date: str = "Wed, 01 May 2024 09:30:00 +0000", body: str = "hello",
                   extra_headers: str = "") -> bytes:
    refs = f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
    return (f"From: {sender}\r\nTo: {ADDRESS}\r\nSubject: {subject}\r\nDate: {date}\r\n"
            f"Message-ID: {message_id or '<' + subject.replace(' ', '-') + '@example.org>'}\r\n{refs}{extra_headers}"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


async def deliver(web: Web, raw: bytes, to: str = ADDRESS) -> tuple[int, int]:
    """File `raw` for `to` through the delivery service; (folder id, UID) of its INBOX entry."""
    report = await web.services.delivery.deliver(raw, "sender@example.org", [to])
    [outcome] = report.outcomes
    assert outcome.ok, outcome.error
    entry = outcome.stored[0]
    return entry.folder_id, entry.uid


async def flags_of(web: Web, address: str, folder: str, uid: int) -> tuple[str, ...]:
    services = web.services
    account = await services.directory.account(address)
    record = await services.mailbox.folder(account.id, folder)
    [entry] = await services.mailbox.fetch_data(record, [uid])
    return tuple(entry.flags)


async def add_bob(web: Web) -> None:
    await web.services.directory.add_account(BOB, BOB_PASSWORD, display_name="Bob Li")


def attribute_values(html: str, attribute: str) -> list[str]:
    return [m.replace("&amp;", "&") for m in re.findall(rf'(?<![\w-]){attribute}="([^"]*)"', html)]


@dataclass
class ImageServer:
    """An HTTP/1.1 server on 127.0.0.1 serving fixed answers by path; it counts the requests it gets."""

    routes: dict[str, tuple[int, dict[str, str], bytes]]
    port: int = 0
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode("ascii")
            self.hits.append(path)
            status, headers, body = self.routes.get(path, (404, {"Content-Type": "text/plain"}, b"missing"))
            if path == "/slow":
                await asyncio.sleep(5)
            length = [] if path.startswith("/unsized") else [f"Content-Length: {len(body)}"]
            lines = [f"HTTP/1.1 {status} X", *length, "Connection: close",
                     *(f"{k}: {v}" for k, v in headers.items())]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def image_server() -> AsyncIterator[ImageServer]:
    server = ImageServer({
        "/pic.png": (200, {"Content-Type": "image/png"}, PNG),
        "/big.png": (200, {"Content-Type": "image/png"}, b"\x89PNG" + b"\0" * (2 * 1024 * 1024)),
        # No Content-Length: the body runs until the connection closes, so only counting can stop it.
        "/unsized.png": (200, {"Content-Type": "image/png"}, b"\x89PNG" + b"\0" * (2 * 1024 * 1024)),
        "/page.html": (200, {"Content-Type": "text/html"}, b"<script>alert(1)</script>"),
        "/logo.svg": (200, {"Content-Type": "image/svg+xml"}, b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        "/moved": (302, {"Location": "/pic.png"}, b""),
        "/slow": (200, {"Content-Type": "image/png"}, PNG),
    })
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        await listener.wait_closed()
