"""IMAP SEARCH latency over one large INBOX, through a real `yizhan serve` process and Python's imaplib.

    python bench/imapsearch.py [--count 20000] [--repeat 3] [--data DIR]   # DIR is reused when it holds the corpus

Builds (or reuses) an account whose INBOX holds `count` messages of bench/corpus.py (as bench/search.py does),
starts the server, selects the INBOX and times SEARCH commands of several kinds: flags, a UID range, internal and
sent dates, SUBJECT / BODY / TEXT words (English and Chinese, through the index), FROM addresses (the index, then
the cached envelope), a phrase BODY needs to read messages for, and a header the index does not hold. Prints one
JSON line per kind: queries, p50 / p95 / max in ms, mean hits. These are whole-mailbox searches, as clients send.
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import json
import multiprocessing
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
import imap as imapbench
import search as searchbench
from yizhan.config.paths import DataPaths
from yizhan.config.settings import load_settings
from yizhan.services.runtime import Services


def spread(words: list[str], n: int = 5) -> list[str]:
    """High, middle and low frequency words (the corpus lists them most frequent first)."""
    half = len(words) // 2
    return words[:n] + words[half:half + n] + words[-n:]


def queries(rng: random.Random) -> dict[str, list[bytes]]:
    english = spread(corpus.ENGLISH_WORDS)
    chinese = spread([w for w in corpus.CHINESE_WORDS if len(w) == 2])
    senders = spread([address for _, address in corpus.SENDERS])
    months = [(rng.choice([2021, 2022, 2023]), rng.randint(1, 12)) for _ in range(10)]
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

    def literal(word: str) -> bytes:
        data = word.encode()
        return b"{%d+}\r\n" % len(data) + data

    return {
        "flags": [b"SEARCH UNSEEN", b"SEARCH FLAGGED", b"SEARCH NOT SEEN NOT DELETED"],
        "uid_range": [b"UID SEARCH UID %d:%d" % (n, n + 200) for n in (1, 500, 5000)],
        "since": [b"SEARCH SINCE 1-%s-%d" % (names[m - 1].encode(), y) for y, m in months],
        "sentbefore": [b"SEARCH SENTBEFORE 1-%s-%d" % (names[m - 1].encode(), y) for y, m in months[:3]],
        "subject_english": [b"SEARCH SUBJECT " + w.encode() for w in english],
        "body_english": [b"SEARCH BODY " + w.encode() for w in english],
        "text_chinese": [b"SEARCH CHARSET UTF-8 TEXT " + literal(w) for w in chinese],
        "from_address": [b"SEARCH FROM " + a.encode() for a in senders],
        "thunderbird_quick": [b"SEARCH UNDELETED OR SUBJECT %s FROM %s" % (w.encode(), w.encode())
                              for w in english[:5]],
        "body_phrase": [b'SEARCH BODY "%s %s"' % (a.encode(), b.encode())
                        for a, b in zip(english[:3], english[5:8], strict=True)],
        "header_unindexed": [b'SEARCH HEADER Message-ID "@"'],
    }


def run_queries(port: int, address: str, password: str, kinds: dict[str, list[bytes]], repeat: int) -> None:
    client = imaplib.IMAP4("127.0.0.1", port, timeout=600)
    client.login(address, password)
    typ, data = client.select("INBOX")
    assert typ == "OK", data
    total = int(data[0] or 0)
    tag = 0
    for kind, items in kinds.items():
        timings: list[float] = []
        hits: list[int] = []
        rounds = 1 if kind in ("header_unindexed", "body_phrase") else repeat
        for _ in range(rounds):
            for query in items:
                tag += 1
                name = b"Q%d" % tag
                start = time.perf_counter()
                client.send(name + b" " + query + b"\r\n")
                found = 0
                while True:
                    line = client.readline()
                    if line.startswith(b"* SEARCH"):
                        found = len(line.split()) - 2
                    if line.startswith(name + b" "):
                        break
                timings.append((time.perf_counter() - start) * 1000)
                if not line.startswith(name + b" OK"):
                    raise SystemExit(f"{query!r}: {line!r}")
                hits.append(found)
        timings.sort()
        print(json.dumps({
            "bench": "imap-search", "kind": kind, "messages": total, "queries": len(timings),
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 2),
            "max_ms": round(timings[-1], 2), "mean_hits": round(statistics.mean(hits), 1),
        }), flush=True)
    client.logout()


async def prepare(data: Path, count: int, seed: int) -> None:
    services = await Services.open(load_settings(None, environ={}), DataPaths(data))
    try:
        if await services.store.directory.get_account(searchbench.ADDRESS) is None:
            await searchbench.build(services, count, seed)
    finally:
        await services.close()


def run(data: Path, count: int, seed: int, repeat: int) -> None:
    asyncio.run(prepare(data, count, seed))
    process, port = imapbench.start_server(data, 4)
    try:
        run_queries(port, searchbench.ADDRESS, "bench-password", queries(random.Random(seed)), repeat)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, help="data directory to build in or reuse")
    args = parser.parse_args()
    if args.data:
        run(args.data, args.count, args.seed, args.repeat)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp) / "data", args.count, args.seed, args.repeat)


if __name__ == "__main__":
    multiprocessing.set_start_method("forkserver")
    main()
