"""Import throughput: an mbox of realistic mail (bench/corpus.py) imported into one account, as `yizhan import`
does it (streaming reader, parsing in worker processes, durable blobs, group-committed index).

    python bench/ingest.py --count 20000 [--count 5000 ...] [--keep DIR]

Prints one JSON line per size: messages, MB, seconds, messages/s, CPU milliseconds per message, and peak memory
of the importing process (and how much of it SQLite holds) and of its parsing workers (resident set, MB), so a
flat memory profile shows as the same figure at every size.
Target (2-core machine): >= 1500 messages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Yizhan and the corpus are imported inside the functions: the parsing workers run this module again as
# __mp_main__ when they start, and must not pay for importing the whole server (SQLAlchemy, Alembic, ...) to
# parse mail. The forkserver preloads only what they need (see the end of this file).


def _sqlite_library() -> ctypes.CDLL | None:
    """The SQLite library the sqlite3 module uses (same shared object), for its memory counters."""
    try:
        library = ctypes.CDLL("libsqlite3.so.0")
    except OSError:
        return None
    library.sqlite3_memory_used.restype = ctypes.c_int64
    library.sqlite3_memory_highwater.restype = ctypes.c_int64
    return library


SQLITE = _sqlite_library()


def sqlite_memory_mb() -> float:
    """Memory SQLite holds now in this process (page caches of every connection, statements), MB."""
    return SQLITE.sqlite3_memory_used() / 2**20 if SQLITE is not None else 0.0


def current_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


class Descendants:
    """CPU time and peak resident memory of this process's descendants (the parsing workers, which the
    forkserver starts, so RUSAGE_CHILDREN never sees them), sampled from /proc during the import."""

    def __init__(self) -> None:
        self.cpu: dict[int, float] = {}
        self.peak_mb: dict[int, float] = {}
        self._tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        parents: dict[int, int] = {}
        stats: dict[int, list[str]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            stats[int(entry)] = fields
        mine = {os.getpid()}
        grew = True
        while grew:
            found = {pid for pid, parent in parents.items() if parent in mine} - mine
            grew = bool(found)
            mine |= found
        mine.discard(os.getpid())
        for pid in mine:
            fields = stats[pid]
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / self._tick)
            self.peak_mb[pid] = max(self.peak_mb.get(pid, 0.0), int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20)


async def run_import(mbox: Path, data: Path) -> dict[str, float]:
    from yizhan.config.paths import DataPaths
    from yizhan.config.settings import load_settings
    from yizhan.services.runtime import Services

    services = await Services.open(load_settings(None, environ={}), DataPaths(data))
    try:
        await services.directory.add_domain("example.com")
        await services.directory.add_account("bench@example.com", "bench-password")
        peak = 0.0
        sqlite_peak = 0.0
        workers = Descendants()
        workers.sample()
        before_workers = sum(workers.cpu.values())

        last_sample = time.perf_counter()

        def progress(done: int, total: int | None, unit: str) -> None:
            nonlocal peak, sqlite_peak, last_sample
            peak = max(peak, current_rss_mb())
            sqlite_peak = max(sqlite_peak, sqlite_memory_mb())
            # Scanning /proc costs milliseconds: twice a second, and at the end (the workers are still alive).
            if done == total or time.perf_counter() - last_sample > 0.5:
                workers.sample()
                last_sample = time.perf_counter()

        start = time.perf_counter()
        before_self = _cpu_seconds()
        summary = await services.transfer.import_path("bench@example.com", mbox, "INBOX", progress)
        seconds = time.perf_counter() - start
        after_self = _cpu_seconds()
    finally:
        await services.close()
    return {"imported": summary.imported, "failed": summary.failed, "seconds": round(seconds, 2),
            "messages_per_s": round(summary.imported / seconds, 1), "peak_rss_mb": round(peak, 1),
            # Of which SQLite (bounded by cache_size per connection).
            "sqlite_peak_mb": round(sqlite_peak, 1),
            # CPU time per message (user + system) of the importing process and of its worker processes (the
            # workers' figure is sampled at each batch, so it leaves out the last batch).
            "cpu_ms_per_msg": round((after_self - before_self) * 1000 / max(summary.imported, 1), 3),
            "worker_cpu_ms_per_msg": round((sum(workers.cpu.values()) - before_workers) * 1000
                                           / max(summary.imported, 1), 3),
            "worker_peak_rss_mb": round(max(workers.peak_mb.values(), default=0.0), 1)}


def main() -> None:
    import corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, action="append", help="messages (repeatable); default 5000, 20000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep data directories under DIR")
    args = parser.parse_args()
    for count in args.count or [5000, 20000]:
        with tempfile.TemporaryDirectory(dir=args.keep) as tmp:
            mbox = Path(tmp) / "corpus.mbox"
            with open(mbox, "wb") as out:
                corpus.write_mbox(corpus.generate_records(count, args.seed), out)
            result = asyncio.run(run_import(mbox, Path(tmp) / "data"))
            print(json.dumps({"bench": "ingest", "messages": count, "mbox_mb": round(mbox.stat().st_size / 2**20, 1),
                              **result, "cpus": os.cpu_count()}),
                  flush=True)


if __name__ == "__main__":
    multiprocessing.set_start_method("forkserver")
    multiprocessing.set_forkserver_preload(["yizhan.services.prepare"])
    main()
