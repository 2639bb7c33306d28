"""Search latency over one large account, through the same service `yizhan search` uses.

    python bench/search.py --count 100000 [--data DIR]   # DIR is reused when it already holds the corpus

Builds (or reuses) an account holding `count` messages of bench/corpus.py, then times searches of four kinds —
English words, Chinese two-character words, sender filters and date ranges — each over words of high, middle
and low frequency, first page (50 results), newest first. Prints one JSON line per kind with p50 and p95 in ms.
Target: p95 <= 50 ms at 100,000 messages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from yizhan.config.paths import DataPaths
from yizhan.config.settings import load_settings
from yizhan.services.runtime import Services

ADDRESS = "bench@example.com"


def queries(rng: random.Random) -> dict[str, list[str]]:
    def spread(words: list[str]) -> list[str]:
        # High, middle and low frequency words (the corpus lists words most frequent first).
        n = len(words)
        return words[:10] + words[n // 2 : n // 2 + 10] + words[-10:]

    chinese = [w for w in corpus.CHINESE_WORDS if len(w) == 2]
    senders = [address for _, address in corpus.SENDERS]
    dates = []
    for _ in range(30):
        year, month = rng.choice([2021, 2022, 2023]), rng.randint(1, 11)
        dates.append(f"after:{year}-{month:02d}-01 before:{year}-{month + 1:02d}-01")
    return {
        "english_word": spread(corpus.ENGLISH_WORDS),
        "chinese_word": spread(chinese),
        "sender": [f"from:{a}" for a in spread(senders)],
        "date_range": dates,
    }


async def build(services: Services, count: int, seed: int) -> None:
    await services.directory.add_domain("example.com")
    await services.directory.add_account(ADDRESS, "bench-password")
    with tempfile.TemporaryDirectory() as tmp:
        mbox = Path(tmp) / "corpus.mbox"

        def write() -> None:
            with open(mbox, "wb") as out:
                corpus.write_mbox(corpus.generate_records(count, seed), out)

        await asyncio.to_thread(write)
        start = time.perf_counter()
        summary = await services.transfer.import_path(ADDRESS, mbox)
        print(json.dumps({"bench": "search-build", "imported": summary.imported,
                          "seconds": round(time.perf_counter() - start, 1)}), flush=True)


async def run(data: Path, count: int, seed: int, repeat: int) -> None:
    services = await Services.open(load_settings(None, environ={}), DataPaths(data))
    try:
        if await services.store.directory.get_account(ADDRESS) is None:
            await build(services, count, seed)
        account = await services.directory.account(ADDRESS)
        total = await services.store.messages.count(account.id)
        for kind, items in queries(random.Random(seed)).items():
            timings = []
            hits = []
            for _ in range(repeat):
                for query in items:
                    start = time.perf_counter()
                    found = await services.search.search(account.id, query, limit=50)
                    timings.append((time.perf_counter() - start) * 1000)
                    hits.append(len(found))
            timings.sort()
            print(json.dumps({
                "bench": "search", "kind": kind, "messages": total, "queries": len(timings),
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
                "max_ms": round(timings[-1], 2), "mean_hits": round(statistics.mean(hits), 1),
            }), flush=True)
    finally:
        await services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, help="data directory to build in or reuse")
    args = parser.parse_args()
    if args.data:
        asyncio.run(run(args.data, args.count, args.seed, args.repeat))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(run(Path(tmp) / "data", args.count, args.seed, args.repeat))


if __name__ == "__main__":
    multiprocessing.set_start_method("forkserver")
    main()
