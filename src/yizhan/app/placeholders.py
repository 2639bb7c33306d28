"""Listeners for protocols a later release fills in. They bind their ports now (so the process, the table and
the firewall rules are real) and answer with the protocol's own "not available" reply, then close:
SMTP and LMTP 421 (a temporary failure: senders retry), IMAP BYE, POP3 -ERR. (HTTP is served by web/.)
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
