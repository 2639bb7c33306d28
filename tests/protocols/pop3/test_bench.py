"""bench/pop3.py runs end to end and prints its JSON lines (figures are not asserted: speed is the bench's job)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "pop3.py"


def test_bench_prints_a_json_line_per_variant_and_round() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--count", "30", "--size", "2000", "--rounds", "1"],
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [line["variant"] for line in lines] == ["sequential", "sequential_raw", "pipelined"]
    for line in lines:
        assert line["messages"] == 30 and line["seconds"] > 0
        # Every message arrived: at least its 2000 bytes each (plus status lines and terminators when pipelined).
        assert line["received_bytes"] >= 30 * 2000
