"""Memory of idling connections (issue 4: <= 100 KB each): bench/imap_idle.py against a `yizhan serve` process, with
300 imaps connections in IDLE (TLS is the costly case: asyncio's own 256 KiB read buffer per TLS connection would
make it ~290 KB without server.trim_tls_buffer). Every connection must also see a new message while idling."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "imap_idle.py"


async def test_300_idling_tls_connections_cost_under_100_kb_each() -> None:
    arguments = [str(BENCH), "--connections", "300", "--mailboxes", "2", "--tls"]
    process = await asyncio.create_subprocess_exec(sys.executable, *arguments, stdout=asyncio.subprocess.PIPE)
    output, _ = await asyncio.wait_for(process.communicate(), 240)
    assert process.returncode == 0
    result = json.loads(output.decode().strip().splitlines()[-1])
    assert result["errors"] == 0, result
    assert result["connections"] == 300 and result["saw_new_message"] == 300, result
    assert result["kb_per_connection"] <= 100, result
