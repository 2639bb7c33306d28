"""The http listener: the web app on the server's own socket, stopped cleanly with connections still open."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from tests.conftest import make_settings
from yizhan.app.server import Server
from yizhan.config.paths import DataPaths


async def test_http_listener_serves_the_app_and_stops_with_open_connections(data_dir: Path) -> None:
    server = Server(make_settings(), DataPaths(data_dir))
    await server.start()
    stopped = False
    try:
        assert next(item.state for item in server.listening if item.spec.name == "http") == "ready"
        base = f"http://127.0.0.1:{server.port('http')}"
        idle = httpx.AsyncClient(base_url=base)
        reply = await idle.get("/healthz")
        assert reply.status_code == 200 and reply.text == "ok\n"
        assert reply.http_version == "HTTP/1.1" and "date" in reply.headers
        # An idle keep-alive connection stays open; stopping must not wait for the browser to drop it.
        began = time.monotonic()
        await server.stop()
        stopped = True
        assert time.monotonic() - began < 4.5
        await idle.aclose()
        try:
            async with httpx.AsyncClient(base_url=base) as late:
                await late.get("/healthz", timeout=2)
            raise AssertionError("the listener still answers after stop")
        except httpx.TransportError:
            pass
    finally:
        if not stopped:
            await server.stop()


async def test_a_port_in_use_is_reported(data_dir: Path) -> None:
    busy = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = busy.sockets[0].getsockname()[1]
    server = Server(make_settings(listen={"smtp": -1, "submission": -1, "smtps": -1, "lmtp": -1, "imap": -1,
                                          "imaps": -1, "pop3": -1, "pop3s": -1, "http": port}), DataPaths(data_dir))
    try:
        await server.start()
        raise AssertionError("started on a port in use")
    except OSError as exc:
        assert "in use" in str(exc)
    finally:
        await server.stop()
        busy.close()
        await busy.wait_closed()
