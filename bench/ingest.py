"""Import throughput: an mbox of realistic mail (bench/corpus.py) imported into one account, as `yizhan import`
does it (streaming reader, parsing in worker processes, durable blobs, group-committed index).

    python bench/ingest.py --count 20000 [--count 5000 ...] [--keep DIR]

Prints one JSON line per size: messages, MB, seconds, messages/s, and peak memory of the importing process and
of its parsing workers (resident set, MB), so a flat memory profile shows as the same figure at every size.
Target (2-core machine): >= 1500 messages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from yizhan.config.paths import DataPaths
from yizhan.config.settings import load_settings
from yizhan.services.runtime import Services


def current_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def run_import(mbox: Path, data: Path) -> dict[str, float]:
    services = await Services.open(load_settings(None, environ={}), DataPaths(data))
    try:
        await services.directory.add_domain("example.com")
        await services.directory.add_account("bench@example.com", "bench-password")
        peak = 0.0

        def progress(done: int, total: int | None, unit: str) -> None:
            nonlocal peak
            peak = max(peak, current_rss_mb())

        start = time.perf_counter()
        summary = await services.transfer.import_path("bench@example.com", mbox, "INBOX", progress)
        seconds = time.perf_counter() - start
    finally:
        await services.close()
    return {"imported": summary.imported, "failed": summary.failed, "seconds": round(seconds, 2),
            "messages_per_s": round(summary.imported / seconds, 1), "peak_rss_mb": round(peak, 1)}


def main() -> None:
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
            children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(json.dumps({"bench": "ingest", "messages": count, "mbox_mb": round(mbox.stat().st_size / 2**20, 1),
                              **result, "worker_peak_rss_mb": round(children, 1), "cpus": os.cpu_count()}),
                  flush=True)


if __name__ == "__main__":
    multiprocessing.set_start_method("forkserver")
    main()
