"""Listeners for protocols a later release fills in. They bind their ports now (so the process, the table and
the firewall rules are real) and answer with the protocol's own "not available" reply, then close:
SMTP and LMTP 421 (a temporary failure: senders retry), IMAP BYE, POP3 -ERR, HTTP 503 (200 on /healthz).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

_GREETINGS = {
    "smtp": b"421 4.3.2 %s Yizhan: this service is not available yet, try again later\r\n",
    "lmtp": b"421 4.3.2 %s Yizhan: this service is not available yet, try again later\r\n",
    "imap": b"* BYE %s Yizhan: IMAP is not available yet\r\n",
    "pop3": b"-ERR %s Yizhan: POP3 is not available yet\r\n",
}

_HTTP_BODY = (
    "<!doctype html><meta charset=utf-8><title>Yizhan 驿站</title>"
    "<h1>Yizhan 驿站</h1><p>The server is running. Webmail arrives in a later release.</p>"
    "<p>服务器正在运行。网页邮箱将在后续版本中提供。</p>"
).encode()


def greeting_handler(kind: str, hostname: str) -> Handler:
    line = _GREETINGS[kind] % hostname.encode("ascii", "replace")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(line)
            await asyncio.wait_for(writer.drain(), 10)
        except (OSError, TimeoutError) as exc:
            log.debug("%s placeholder: %s", kind, exc)
        finally:
            writer.close()

    return handle


def http_handler() -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            path = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b"/"
            if path == b"/healthz":
                status, body, kind = b"200 OK", b"ok\n", b"text/plain"
            else:
                status, body, kind = b"503 Service Unavailable", _HTTP_BODY, b"text/html; charset=utf-8"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + kind + b"\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            await asyncio.wait_for(writer.drain(), 10)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            log.debug("http placeholder: %s", exc)
        finally:
            writer.close()

    return handle
