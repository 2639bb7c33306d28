"""Webmail and API latency over one large Inbox, through a real `yizhan serve` process and httpx.

    python bench/web.py [--count 100000] [--repeat 3] [--cache DIR]   # DIR keeps the built data for reruns

Builds an account whose INBOX holds `count` messages of bench/corpus.py (bench/search.py's import through
services.transfer), or reuses the one built before under `--cache`; starts `yizhan serve` on ports chosen by the
kernel with that data directory; signs in over HTTP (the session cookie serves the pages and the API alike); then
times, one request at a time, each of:

- `list_page`: the folder page (`/mail/f/{inbox}`, first page, the whole HTML page);
- `list_deep`: the rows fragment the list loads next (`/mail/rows?folder=…&cursor=…`) at depths up to half the
  folder, with cursors collected by walking the API;
- `api_list` / `api_list_deep`: `GET /api/v1/messages?folder=…` first page, and with a deep cursor;
- `api_list_walk`: every page (limit 200) of the walk to half the folder, which gathers those cursors;
- `conversation`: `/mail/thread/{folder}/{uid}?pane=1` of messages whose thread has several messages;
- `read_pane_first`: `/mail/read/{folder}/{uid}?pane=1` of unread messages, once each (this sets \\Seen, as a
  reader's first look does: a committed write), and `read_pane` the same messages again (read only);
- `list_threads`: the folder page grouped by conversation (`?view=threads`), first page, and `list_threads_more`
  the next 20 pages of it in a row through the fragment's "more" link;
- `api_list_page_number`: `GET /api/v1/messages?page=` (numbered pages are offset paging) at half the folder;
- `search_english`, `search_chinese`, `search_from`: `/mail/search?q=…` (the page) over English words, Chinese
  two-character words and `from:` addresses of high, middle and low frequency; `api_search_*` the same through
  `GET /api/v1/messages?q=…`.

Prints one JSON line per measurement (requests, p50 / p95 / max in ms, errors = answers other than 200) and a
summary line with the target: p95 <= 100 ms for each on a 2-core machine, with the load average before and after
(the machine may be shared). One warm-up request of each kind is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
import imap as imapbench
import search as searchbench
from yizhan.config.paths import DataPaths
from yizhan.config.settings import load_settings
from yizhan.services.runtime import Services

TARGET_P95_MS = 100.0
PASSWORD = "bench-password"  # what bench/search.py's build gives the account
_BUILT = "bench-web-built.json"


def spread(words: list[str], n: int = 3) -> list[str]:
    """High, middle and low frequency items (the corpus lists them most frequent first)."""
    half = len(words) // 2
    return words[:n] + words[half:half + n] + words[-n:]


async def _build(data: Path, count: int, seed: int) -> None:
    services = await Services.open(load_settings(None, environ={}), DataPaths(data))
    try:
        if await services.store.directory.get_account(searchbench.ADDRESS) is None:
            await searchbench.build(services, count, seed)
    finally:
        await services.close()


def prepare(root: Path, count: int, seed: int) -> Path:
    """The data directory holding the corpus: reused when a finished build is there, (re)built otherwise."""
    data = root / f"web-n{count}-s{seed}"
    marker = data / _BUILT
    if marker.exists():
        return data
    if data.exists():
        shutil.rmtree(data)  # an interrupted build: start again
    start = time.perf_counter()
    asyncio.run(_build(data, count, seed))
    marker.write_text(json.dumps({"count": count, "seed": seed, "seconds": round(time.perf_counter() - start, 1)}))
    return data


def start_server(data: Path) -> tuple[subprocess.Popen[str], int]:
    """`yizhan serve` with every port picked by the kernel; returns the process and its web port."""
    env = imapbench.environment(data, YIZHAN_LOG__LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"))
    process = subprocess.Popen([*imapbench.yizhan(), "serve", *imapbench.PORT_FLAGS], stdout=subprocess.PIPE,
                               text=True, env=env)
    assert process.stdout is not None
    port = 0
    for line in process.stdout:
        match = re.search(r"Web \(webmail[^│]*│ [\d.]+:(\d+)", line)
        if match:
            port = int(match.group(1))
        if line.startswith("ready"):
            if not port:
                break
            return process, port
    process.kill()
    raise SystemExit("yizhan serve did not start (or printed no web port)")


def stop_server(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def sign_in(client: httpx.Client) -> None:
    reply = client.post("/signin", data={"address": searchbench.ADDRESS, "password": PASSWORD, "next": "/mail"})
    if reply.status_code != 303:
        raise SystemExit(f"sign-in failed: {reply.status_code} {reply.text[:200]}")


def get_json(client: httpx.Client, url: str) -> Any:
    reply = client.get(url)
    if reply.status_code != 200:
        raise SystemExit(f"GET {url}: {reply.status_code} {reply.text[:200]}")
    return reply.json()


def inbox_id(client: httpx.Client) -> int:
    data = get_json(client, "/api/v1/folders")
    folders = data["folders"] if isinstance(data, dict) else data
    for folder in folders:
        if folder["name"] == "INBOX":
            return int(folder["id"])
    raise SystemExit("the account has no INBOX")


def walk(client: httpx.Client, folder: int, depth: int,
         limit: int) -> tuple[list[float], list[str], list[dict[str, Any]]]:
    """Page through the folder with the API (`limit` a page) to about `depth` messages: the time of every page,
    the cursors met on the way, and the messages seen."""
    timings: list[float] = []
    cursors: list[str] = []
    messages: list[dict[str, Any]] = []
    url = f"/api/v1/messages?folder={folder}&limit={limit}"
    while len(messages) < depth:
        start = time.perf_counter()
        reply = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        if reply.status_code != 200:
            raise SystemExit(f"GET {url}: {reply.status_code} {reply.text[:200]}")
        page = reply.json()
        messages += page["messages"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
        cursors.append(cursor)
        url = f"/api/v1/messages?folder={folder}&limit={limit}&cursor={cursor}"
    return timings, cursors, messages


def measure(client: httpx.Client, urls: list[str], repeat: int, warm: bool = True) -> tuple[list[float], int]:
    """Time GET of each URL `repeat` times (after one warm-up request, not counted); (timings in ms, errors)."""
    if warm:
        client.get(urls[0])
    timings: list[float] = []
    errors = 0
    for _ in range(repeat):
        for url in urls:
            start = time.perf_counter()
            reply = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
            errors += reply.status_code != 200
    return timings, errors


_MORE = re.compile(r'<tr class="more" hx-get="([^"]+)"')


def follow_more(client: httpx.Client, start: str, pages: int) -> tuple[list[float], int]:
    """Load a list page, then follow its "more" link (the fragment the list loads when scrolled) up to `pages`
    times: the time of each fragment, and how many rows were shown in all."""
    page = client.get(start).text
    shown = page.count('data-testid="message-row"')
    timings: list[float] = []
    for _ in range(pages):
        found = _MORE.search(page)
        if found is None:
            break
        url = found.group(1).replace("&amp;", "&")
        begin = time.perf_counter()
        reply = client.get(url)
        timings.append((time.perf_counter() - begin) * 1000)
        if reply.status_code != 200:
            raise SystemExit(f"GET {url}: {reply.status_code} {reply.text[:200]}")
        page = reply.text
        shown += page.count('data-testid="message-row"')
    return timings or [0.0], shown


def report(name: str, count: int, timings: list[float], errors: int, detail: str) -> dict[str, Any]:
    timings = sorted(timings)
    line = {
        "bench": "web", "measure": name, "messages": count, "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[math.ceil(len(timings) * 0.95) - 1], 2),  # nearest rank
        "max_ms": round(timings[-1], 2), "errors": errors, "what": detail,
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)
    return line


def plan(folder: int, cursors: list[str], messages: list[dict[str, Any]],
         rng: random.Random) -> dict[str, tuple[list[str], str]]:
    """Every measurement: its URLs and what it shows."""
    deep = cursors[len(cursors) // 4:][-10:] or cursors[-1:]
    threads = Counter(m["thread_id"] for m in messages)
    threaded = [m["id"] for m in messages if threads[m["thread_id"]] > 1]
    picked = rng.sample(threaded, min(10, len(threaded))) or [messages[0]["id"]]
    unread = [m["id"] for m in messages if m["unread"]]
    reading = rng.sample(unread, min(20, len(unread))) or [messages[0]["id"]]
    english = spread(corpus.ENGLISH_WORDS)
    chinese = spread([w for w in corpus.CHINESE_WORDS if len(w) == 2])
    senders = [f"from:{a}" for a in spread([address for _, address in corpus.SENDERS])]
    api = f"/api/v1/messages?folder={folder}"
    out: dict[str, tuple[list[str], str]] = {
        "list_page": ([f"/mail/f/{folder}"], "the folder page, first 50 rows"),
        "list_deep": ([f"/mail/rows?folder={folder}&cursor={c}" for c in deep],
                      "the rows fragment from a deep cursor"),
        "api_list": ([api], "GET /api/v1/messages, first page of 50"),
        "api_list_deep": ([f"{api}&cursor={c}" for c in deep], "GET /api/v1/messages with a deep cursor"),
        "api_list_page_number": ([f"{api}&page={max(1, len(messages) // 50)}"],
                                 f"GET /api/v1/messages?page= (numbered: offset paging) at {len(messages)} deep"),
        "conversation": ([f"/mail/thread/{ref.replace(':', '/')}?pane=1" for ref in picked],
                         "the conversation pane of a message in a thread"),
        "read_pane_first": ([f"/mail/read/{ref.replace(':', '/')}?pane=1" for ref in reading],
                            "the reading pane of an unread message (sets \\Seen: a committed write)"),
        "read_pane": ([f"/mail/read/{ref.replace(':', '/')}?pane=1" for ref in reading],
                      "the reading pane of a message already read"),
        "list_threads": ([f"/mail/f/{folder}?view=threads"], "the folder page by conversation, first 50"),
    }
    for kind, queries in (("english", english), ("chinese", chinese), ("from", senders)):
        quoted = [httpx.QueryParams({"q": q}) for q in queries]
        out[f"search_{kind}"] = ([f"/mail/search?{q}" for q in quoted], f"the search page: {', '.join(queries)}")
        out[f"api_search_{kind}"] = ([f"/api/v1/messages?{q}" for q in quoted], "GET /api/v1/messages?q=")
    return out


def run(data: Path, count: int, seed: int, repeat: int, profile: Path | None = None) -> bool:
    process, port = start_server(data)
    results: list[dict[str, Any]] = []
    spy: subprocess.Popen[bytes] | None = None
    if profile is not None:
        # A .svg name gets a flame graph, any other the collapsed stacks (one line per stack) for grep.
        spy = subprocess.Popen(["py-spy", "record", "-p", str(process.pid), "-o", str(profile), "--format",
                                "flamegraph" if profile.suffix == ".svg" else "raw", "--nonblocking"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        load_before = os.getloadavg()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            sign_in(client)
            folder = inbox_id(client)
            # Pages of 200, or smaller for a tiny folder so that the walk still meets a few cursors.
            limit = max(10, min(200, count // 8))
            client.get(f"/api/v1/messages?folder={folder}&limit={limit}")  # warm-up, not counted
            timings, cursors, messages = walk(client, folder, max(200, count // 2), limit)
            results.append(report("api_list_walk", count, timings, 0,
                                  f"GET /api/v1/messages limit {limit}, every page to {len(messages)} messages deep"))
            for name, (urls, detail) in plan(folder, cursors, messages, random.Random(seed)).items():
                # Each unread message is opened once, without a warm-up: a second opening finds it read.
                found, errors = measure(client, urls, 1 if name == "read_pane_first" else repeat,
                                        warm=name != "read_pane_first")
                results.append(report(name, count, found, errors, detail))
            timings, shown = follow_more(client, f"/mail/f/{folder}?view=threads", 20)
            results.append(report("list_threads_more", count, timings, 0,
                                  f"the by-conversation rows fragment, {len(timings)} pages in a row ({shown} rows)"))
        load_after = os.getloadavg()
    finally:
        stop_server(process)
        if spy is not None:
            spy.wait(120)
    missed = [r["measure"] for r in results if r["p95_ms"] > TARGET_P95_MS or r["errors"]]
    print(json.dumps({
        "bench": "web-summary", "messages": count, "target_p95_ms": TARGET_P95_MS, "met": not missed,
        "missed": missed, "worst_p95_ms": max(r["p95_ms"] for r in results), "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in load_after],
    }), flush=True)
    return not missed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="messages in the Inbox")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="times each URL is requested")
    parser.add_argument("--cache", type=Path, help="directory keeping built data directories for reruns")
    parser.add_argument("--profile", type=Path, help="write a py-spy profile of the server here (.svg: flame graph)")
    args = parser.parse_args()
    if args.cache:
        run(prepare(args.cache, args.count, args.seed), args.count, args.seed, args.repeat, args.profile)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(prepare(Path(tmp), args.count, args.seed), args.count, args.seed, args.repeat, args.profile)


if __name__ == "__main__":
    multiprocessing.set_start_method("forkserver")
    main()
