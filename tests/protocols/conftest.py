"""The protocol servers run on uvloop in these tests, as `yizhan serve` runs them by default (app/eventloop.py);
YIZHAN_TEST_LOOP=asyncio runs them on asyncio's own loop instead."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

import pytest
import uvloop


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Any]:
    if os.environ.get("YIZHAN_TEST_LOOP") == "asyncio":
        return {"asyncio": asyncio.new_event_loop}
    return {"uvloop": uvloop.new_event_loop}
