"""The Received field's trace ID (RFC 5321 §4.4 "id"): unique within a process and across processes, and in the
characters a receiving MTA's parser accepts."""

from __future__ import annotations

import re
import subprocess
import sys

from yizhan.protocols.smtp.received import new_id


def test_ids_are_unique_and_plain() -> None:
    ids = [new_id() for _ in range(50_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9A-F]{16}", i) for i in ids)


def test_two_processes_draw_different_ids() -> None:
    # Workers (server.workers) each import the module: their prefixes and counters start apart.
    code = "from yizhan.protocols.smtp.received import new_id; print(new_id())"
    drawn = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
             for _ in range(2)}
    assert len(drawn) == 2
