"""bench/web.py keeps working: a tiny run (a real `yizhan serve`, real HTTP) prints one JSON line per measurement
with its figures and a summary line, and a second run reuses the cached data directory instead of building again.

Timings are not asserted (the machine is shared); what is asserted is what a reader of the output relies on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[2] / "bench" / "web.py"
MEASURES = {"api_list_walk", "list_page", "list_deep", "api_list", "api_list_deep", "conversation", "read_pane_first",
            "read_pane", "list_threads", "list_threads_more", "api_list_page_number",
            "search_english", "api_search_english", "search_chinese", "api_search_chinese", "search_from",
            "api_search_from"}


def _run(cache: Path) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, str(BENCH), "--count", "200", "--repeat", "1", "--cache", str(cache)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_tiny_run_prints_every_measurement_and_a_summary(tmp_path: Path) -> None:
    lines = _run(tmp_path)
    assert [line["bench"] for line in lines if line["bench"] == "search-build"] == ["search-build"]
    measured = {line["measure"]: line for line in lines if line["bench"] == "web"}
    assert set(measured) == MEASURES
    for name, line in measured.items():
        assert line["messages"] == 200
        assert line["requests"] >= 1, name
        assert line["errors"] == 0, name
        assert 0 < line["p50_ms"] <= line["p95_ms"] <= line["max_ms"], name
    summary = lines[-1]
    assert summary["bench"] == "web-summary"
    assert summary["target_p95_ms"] == 100
    assert summary["missed"] == [name for name, line in measured.items() if line["p95_ms"] > 100]
    assert summary["met"] is (not summary["missed"])
    assert len(summary["load_before"]) == len(summary["load_after"]) == 3

    # The second run finds the finished build under --cache and does not import again.
    again = _run(tmp_path)
    assert not [line for line in again if line["bench"] == "search-build"]
    assert {line["measure"] for line in again if line["bench"] == "web"} == MEASURES
