"""`yizhan serve` runs the queue: mail queued while it runs is delivered, and so is mail left from before."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import make_settings
from tests.mailfactory import make_message
from tests.queue.receiver import Receiver
from tests.support.dnsserver import DnsTestServer
from yizhan.app.server import Server
from yizhan.config.paths import DataPaths
from yizhan.services.runtime import Services


async def test_server_delivers_mail_queued_before_and_during_its_run(tmp_path: Path,
                                                                     dns_server: DnsTestServer) -> None:
    dns_server.add("plain.test", "A", "127.0.0.6")
    async with Receiver("127.0.0.6") as mx:
        settings = make_settings(dns={"nameservers": [dns_server.address]}, queue={"remote_port": mx.port})
        paths = DataPaths(tmp_path / "data")
        services = await Services.open(settings, paths)
        await services.outbound.enqueue(make_message(subject="before"), "a@example.com", ["x@plain.test"])
        await services.close()

        server = Server(settings, paths)
        await server.start()
        try:
            assert server.services is not None
            await server.services.outbound.enqueue(make_message(subject="during"), "a@example.com",
                                                   ["y@plain.test"])
            for _ in range(200):
                if len(mx.messages) == 2:
                    break
                await asyncio.sleep(0.05)
            assert sorted(m.rcpt_tos[0] for m in mx.messages) == ["x@plain.test", "y@plain.test"]
            for _ in range(100):
                if not await server.services.outbound.list():
                    break
                await asyncio.sleep(0.05)
            assert await server.services.outbound.list() == []
        finally:
            await server.stop()
