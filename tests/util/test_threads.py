"""Native thread names (util/threads.py): a running store's threads show under their own names to the operating
system (/proc/self/task/*/comm, what `top -H` and `ps -L` read)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from yizhan.services.runtime import Services
from yizhan.util.threads import name_this_thread

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="native thread names are read on Linux")


def native_names() -> set[str]:
    return {path.read_text().strip() for path in Path("/proc/self/task").glob("*/comm")}


def test_a_thread_takes_its_python_name_cut_to_fifteen_bytes() -> None:
    seen: list[str] = []

    def run() -> None:
        name_this_thread()
        seen.append(Path(f"/proc/self/task/{threading.get_native_id()}/comm").read_text().strip())

    thread = threading.Thread(target=run, name="a-rather-long-thread-name")
    thread.start()
    thread.join()
    assert seen == ["a-rather-long-t"]


async def test_the_store_threads_are_named(services: Services) -> None:
    # A write and a read start the writer and a reader; a deferred blob makes the write group run the barrier.
    services.store.blobs.put(b"Subject: named\r\n\r\nthreads\r\n", defer=True)
    await services.store.db.run_write(lambda tx: tx.one("SELECT 1"))
    await services.store.db.run_read(lambda tx: tx.one("SELECT 1"))
    names = native_names()
    assert "sqlite-writer-0" in names
    assert any(name.startswith("sqlite-reader-") for name in names)
    assert any(name.startswith("sqlite-barrier") for name in names)
