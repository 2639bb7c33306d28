"""The running server's daily chores: delivery-log entries past their retention are removed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import make_settings
from yizhan.app import server as server_module
from yizhan.app.server import Server
from yizhan.config.paths import DataPaths
from yizhan.util.clock import now_seconds


async def test_old_delivery_log_entries_are_pruned_while_serving(data_dir: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "HOUSEKEEPING_FIRST", 0.5)
    srv = Server(make_settings(), DataPaths(data_dir))
    await srv.start()
    try:
        assert srv.services is not None
        log = srv.services.delivery_log
        old = now_seconds() - (log.retention_days + 1) * 86400
        await log.record("in", "a@old.test", ["b@example.com"], "old@x", 10, "delivered", at=old)
        await log.record("in", "a@new.test", ["b@example.com"], "new@x", 10, "delivered")
        for _ in range(50):
            await asyncio.sleep(0.1)
            found = await log.search()
            if len(found) == 1:
                break
        assert [entry.message_id for entry in await log.search()] == ["new@x"]
    finally:
        await srv.stop()
