"""What the machine was doing while a benchmark ran, so figures from different runs can be compared.

The machines these benchmarks run on are often virtual and shared: the hypervisor may take CPU time away (steal)
and the same pure-Python work can take 30% longer from one minute to the next. Each bench therefore reports,
beside its own figures, the machine-wide CPU shares over the measured run (busy, idle, steal, from /proc/stat)
and a calibration: the time of a fixed pure-Python loop, taken just before the run.

The server may be several processes (`server.workers` > 1: a supervisor and its worker processes), so the server's
CPU time, threads and peak memory are read over its whole process tree: the process the bench started and all its
descendants (`process_tree`), found again at each reading.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from tests.support.processes import children

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


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name, so that field N of proc(5) is at index N - 3. Raises
    OSError if the process is gone."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


# /proc/PID/task/TID/children needs CONFIG_PROC_CHILDREN; without it, children are found by their parent's pid.
_CHILDREN_FILES = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists()


def _children_by_parent() -> dict[int, list[int]]:
    """Every process's children, from the parent pid (field 4) of each /proc/PID/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(_stat(int(entry))[1])
            except (OSError, ValueError, IndexError):
                continue  # the process ended meanwhile
            children.setdefault(parent, []).append(int(entry))
    return children


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (children, grandchildren...), parents before their children; [] if `pid` is
    gone. A process that exits while the tree is walked is left out, not an error."""
    if not Path(f"/proc/{pid}").exists():
        return []
    by_parent = None if _CHILDREN_FILES else _children_by_parent()
    tree = [pid]
    seen = {pid}
    index = 0
    while index < len(tree):
        parent = tree[index]
        index += 1
        for child in (children(parent) if by_parent is None else by_parent.get(parent, [])):
            if child not in seen:
                seen.add(child)
                tree.append(child)
    return tree


def tree_cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds used so far by `pid` and its descendants: for each process of the tree, its own
    time (proc(5) fields 14 and 15) plus that of its children it has waited for (fields 16 and 17). A process that
    exits and is reaped by its parent in the tree moves its time to that parent's waited-for children, so the sum does
    not drop (the difference between two readings stays the time the tree used in between); one that exits without
    being waited for (its parent ignores SIGCHLD) takes its time with it. Processes gone meanwhile are skipped."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0
    for process in process_tree(pid):
        try:
            fields = _stat(process)
            user += int(fields[11]) + int(fields[13])
            system += int(fields[12]) + int(fields[14])
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
    return user / tick, system / tick


def tree_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds used so far by `pid` and its descendants (`tree_cpu_times`)."""
    return sum(tree_cpu_times(pid))


def tree_peak_rss_mb(pid: int) -> dict[int, float]:
    """Peak resident memory (VmHWM, MB) of `pid` and of each of its descendants still running, by pid, parents first.
    Their sum overstates the memory used when processes share pages (shared libraries, copy-on-write after fork)."""
    peaks: dict[int, float] = {}
    for process in process_tree(pid):
        try:
            with open(f"/proc/{process}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peaks[process] = int(line.split()[1]) / 1024
                        break
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile (or is a zombie, without memory)
    return peaks


ENDED = "(ended)"


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds used so far by the threads of `pid` and of all its descendants (a multi-process server's
    supervisor and workers), summed by native name across the processes with any trailing number dropped
    ("sqlite-reader-2" and "asyncio_5" count as "sqlite-reader" and "asyncio"); the server names its threads
    (yizhan/util/threads.py), and its event loop runs in the main thread, named after the process ("yizhan" when
    started by the yizhan script, "python..." for workers started as `python -m`): main threads keep that name, so
    the supervisor's and the workers' main threads show apart when their programs differ.

    The time of threads that ended, and of child processes that ended and were waited for, is no longer any live
    thread's: it is counted as ENDED (each process's time, `tree_cpu_times`, less that of its live threads), so the
    groups add up to the tree's CPU time. A thread that was alive at one reading and ended before the next moves its
    whole time from its group to ENDED between them (its group shrinks, which `thread_shares` leaves out)."""
    tick = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for process in process_tree(pid):
        try:
            tasks = list(Path(f"/proc/{process}/task").iterdir())
        except OSError:
            continue  # the process ended meanwhile
        live = 0
        for task in tasks:
            try:
                name = (task / "comm").read_text().strip()
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the thread ended meanwhile
            group = re.sub(r"[-_]\d*$", "", name)
            ticks = int(fields[11]) + int(fields[12])
            live += ticks
            totals[group] = totals.get(group, 0.0) + ticks / tick
        try:
            fields = _stat(process)  # read after its threads': at least their sum
        except OSError:
            continue
        ended = sum(int(field) for field in fields[11:15]) - live
        if ended > 0:
            totals[ENDED] = totals.get(ENDED, 0.0) + ended / tick
    return totals


def thread_shares(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    """Cores each thread group kept busy between two `thread_cpu` readings, busiest first (those above 1%)."""
    shares = {name: (after[name] - before.get(name, 0.0)) / max(seconds, 1e-9) for name in after}
    return {name: round(share, 2) for name, share in sorted(shares.items(), key=lambda item: -item[1])
            if share >= 0.01}


def processes_report(pid: int, at_start: list[int]) -> dict[str, object]:
    """The server's processes and peak memory, read at the end of a measured run whose `process_tree` was `at_start`:
    server_processes (how many now), server_processes_at_start (how many then, only if some exited or started
    meanwhile), server_peak_rss_mb (the sum of their peaks) and, for a server of several processes,
    server_peak_rss_mb_each (each one's peak, the process the bench started first)."""
    peaks = tree_peak_rss_mb(pid)
    report: dict[str, object] = {"server_processes": len(peaks)}
    if set(at_start) != set(peaks):
        report["server_processes_at_start"] = len(at_start)
    report["server_peak_rss_mb"] = round(sum(peaks.values(), 0.0), 1)
    if len(peaks) > 1:
        report["server_peak_rss_mb_each"] = [round(peak, 1) for peak in peaks.values()]
    return report
