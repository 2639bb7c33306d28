"""`yizhan queue list|show|retry|delete` as real subprocesses over a data directory holding queued mail."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from tests.conftest import clean_environment, make_settings, yizhan_command
from tests.mailfactory import make_message
from yizhan.config.paths import DataPaths
from yizhan.services.runtime import Services


def yz(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*yizhan_command(), *args], capture_output=True, text=True, timeout=120,
                          env=clean_environment(data))


def ok(data: Path, *args: str) -> str:
    result = yz(data, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def queue_two(data: Path) -> tuple[str, str, str]:
    """Queue two messages; returns their ids and the blob of the first."""
    services = await Services.open(make_settings(), DataPaths(data))
    try:
        first = await services.outbound.enqueue(make_message(subject="First one"), "alice@example.com",
                                                ["bob@example.net", "carol@example.org"])
        second = await services.outbound.enqueue(make_message(subject="Second"), "alice@example.com",
                                                 ["dave@example.net"])
        blob = (await services.outbound.show(first))[0].blob
    finally:
        await services.close()
    return first, second, blob


def test_list_show_retry_delete(data_dir: Path) -> None:
    first, second, blob = asyncio.run(queue_two(data_dir))
    listing = ok(data_dir, "queue", "list")
    assert first in listing and second in listing
    assert "bob@example.net (pending)" in listing and "2 message(s)" in listing

    shown = ok(data_dir, "queue", "show", first, "--body")
    assert "<alice@example.com>" in shown and "carol@example.org" in shown and "pending" in shown
    assert "Subject: First one" in shown

    assert "3 recipient(s) due now" in ok(data_dir, "queue", "retry", "--all")
    assert "2 recipient(s) due now" in ok(data_dir, "queue", "retry", first)

    assert (data_dir / "blobs" / blob[:2] / blob).exists()
    ok(data_dir, "queue", "delete", first)
    listing = ok(data_dir, "queue", "list")
    assert first not in listing and second in listing
    # Nothing else used the deleted message's bytes, so they are gone too.
    assert not (data_dir / "blobs" / blob[:2] / blob).exists()

    ok(data_dir, "queue", "delete", second)
    assert "the queue is empty" in ok(data_dir, "queue", "list")


def test_unknown_ids_and_bad_arguments_are_clear_errors(data_dir: Path) -> None:
    for args in (["show", "0123456789abcdef"], ["retry", "0123456789abcdef"], ["delete", "0123456789abcdef"]):
        result = yz(data_dir, "queue", *args)
        assert result.returncode == 1
        assert "no queued message 0123456789abcdef" in result.stderr
    result = yz(data_dir, "queue", "retry")
    assert result.returncode == 1 and "--all" in result.stderr
