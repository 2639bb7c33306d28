"""What the machine was doing while a benchmark ran, so figures from different runs can be compared.

The machines these benchmarks run on are often virtual and shared: the hypervisor may take CPU time away (steal)
and the same pure-Python work can take 30% longer from one minute to the next. Each bench therefore reports,
beside its own figures, the machine-wide CPU shares over the measured run (busy, idle, steal, from /proc/stat)
and a calibration: the time of a fixed pure-Python loop, taken just before the run.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

# /proc/stat "cpu" fields: user nice system idle iowait irq softirq steal guest guest_nice.
_BUSY = (0, 1, 2, 5, 6)
_IDLE = (3, 4)
_STEAL = 7


def cpu_snapshot() -> list[int]:
    """The machine's cumulative CPU time counters (all CPUs), in clock ticks."""
    try:
        with open("/proc/stat") as stat:
            return [int(value) for value in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return [0] * 8


def cpu_shares(before: list[int], after: list[int]) -> dict[str, float]:
    """Shares of all CPU time between two snapshots that went to work, to idling and to the hypervisor."""
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta) or 1
    return {"busy": round(sum(delta[i] for i in _BUSY) / total, 2),
            "idle": round(sum(delta[i] for i in _IDLE) / total, 2),
            "steal": round(delta[_STEAL] / total, 2)}


def calibration_ms(rounds: int = 3) -> float:
    """The best of `rounds` timings of a fixed pure-Python loop (2 million additions), in milliseconds: about
    100 ms on a current desktop core; larger means a slower or busier machine."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        total = 0
        for number in range(2_000_000):
            total += number
        best = min(best, time.perf_counter() - start)
    return round(1000 * best, 1)


def machine_report(before: list[int], calibration: float) -> dict[str, object]:
    """The `machine` object every bench prints: CPU shares since `before` and the calibration taken then."""
    return {"cpu": cpu_shares(before, cpu_snapshot()), "calibration_ms": calibration}


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds used so far by the threads of `pid`, summed by native name with any trailing number dropped
    ("sqlite-reader-2" and "asyncio_5" count as "sqlite-reader" and "asyncio"); the server names its threads
    (yizhan/util/threads.py), and its event loop runs in the thread named after the process."""
    tick = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        group = re.sub(r"[-_]\d*$", "", name)
        totals[group] = totals.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return totals


def thread_shares(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    """Cores each thread group kept busy between two `thread_cpu` readings, busiest first (those above 1%)."""
    shares = {name: (after[name] - before.get(name, 0.0)) / max(seconds, 1e-9) for name in after}
    return {name: round(share, 2) for name, share in sorted(shares.items(), key=lambda item: -item[1])
            if share >= 0.01}
