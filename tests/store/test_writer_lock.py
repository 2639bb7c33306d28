"""The writers of several processes on one SQLite database take turns on DATABASE.write-lock (store/sqlrun.py,
`SqliteThreads._lock_writers`): real files, real separate processes, real `flock`."""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from yizhan.store.db import _sqlite_pragmas
from yizhan.store.sqlrun import SqliteThreads, Tx

pytestmark = pytest.mark.skipif(not hasattr(fcntl, "flock"), reason="flock is POSIX")

# One worker process: opens a SqliteThreads on the database (configured as store/db.py does, busy_timeout
# optionally overridden), says "ready", waits for "go", then commits COUNT write groups one after another, each
# inserting one row, and prints the errors it met as JSON.
WRITER = r"""
import asyncio, json, sys
from yizhan.store.db import _sqlite_pragmas
from yizhan.store.sqlrun import SqliteThreads

path, worker, count, busy = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def configure(connection):
    _sqlite_pragmas(connection)
    if busy != "db.py":
        connection.execute(f"PRAGMA busy_timeout={int(busy)}")

async def main():
    threads = SqliteThreads(path, configure)
    errors = []
    try:
        await threads.write(lambda tx: tx.one("SELECT count(*) FROM items"))
        print("ready", flush=True)
        sys.stdin.readline()
        for n in range(count):
            try:
                await threads.write(lambda tx, n=n: tx.run("INSERT INTO items (worker, n) VALUES (?, ?)", (worker, n)))
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        await threads.close()
    print(json.dumps(errors), flush=True)

asyncio.run(main())
"""

# Holds an exclusive flock on the path given until it reads a line (or is killed).
HOLDER = r"""
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.readline()
"""


def make_database(tmp_path: Path) -> Path:
    path = tmp_path / "mail.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        _sqlite_pragmas(connection)
        connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, worker TEXT NOT NULL, n INTEGER NOT NULL)")
    finally:
        connection.close()
    return path


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".write-lock")


def count_items(tx: Tx) -> int:
    row = tx.one("SELECT count(*) FROM items")
    assert row is not None
    return int(row[0])


def insert(worker: str, n: int) -> Callable[[Tx], int]:
    return lambda tx: tx.run("INSERT INTO items (worker, n) VALUES (?, ?)", (worker, n))


def can_lock(path: Path) -> bool:
    """Whether an exclusive flock on `path` is free now (taken and dropped at once on a new open file)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    yield make_database(tmp_path)


@pytest.mark.parametrize("busy_timeout", ["db.py", "0"], ids=["busy_timeout-as-db.py", "busy_timeout-0"])
def test_two_processes_writing_at_once_lose_nothing_and_never_meet_a_locked_database(
        database: Path, busy_timeout: str) -> None:
    # With busy_timeout 0, SQLite itself would fail at once ("database is locked") whenever the two writers met in
    # BEGIN IMMEDIATE: only the flock keeps them apart.
    count = 200
    workers = [subprocess.Popen([sys.executable, "-c", WRITER, str(database), name, str(count), busy_timeout],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name in ("w1", "w2")]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline() == "ready\n", worker.stderr
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker in workers:
            out, err = worker.communicate(timeout=60)
            assert worker.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert results == [[], []]
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute("SELECT worker, n FROM items ORDER BY id").fetchall()
    finally:
        connection.close()
    assert len(rows) == 2 * count
    assert sorted(rows) == sorted((name, n) for name in ("w1", "w2") for n in range(count))
    # Each process's rows are in its own order, and the two really wrote at the same time (interleaved).
    for name in ("w1", "w2"):
        assert [n for worker, n in rows if worker == name] == list(range(count))
    switches = sum(1 for before, after in itertools.pairwise(rows) if before[0] != after[0])
    assert switches >= 10, switches
    assert lock_path(database).exists()


async def test_a_write_waits_while_another_process_holds_the_writer_lock(database: Path) -> None:
    threads = SqliteThreads(str(database), _sqlite_pragmas)
    holder = await asyncio.create_subprocess_exec(sys.executable, "-c", HOLDER, str(lock_path(database)),
                                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert await asyncio.wait_for(holder.stdout.readline(), 10) == b"locked\n"
        write = asyncio.ensure_future(threads.write(insert("test", 1)))
        done, _pending = await asyncio.wait({write}, timeout=1.0)
        assert not done, "the write committed while another process held the writer lock"
        # Readers are not held up, and nothing was written.
        assert await asyncio.wait_for(threads.read(count_items), 5) == 0
        assert holder.stdin is not None
        holder.stdin.write(b"release\n")
        await holder.stdin.drain()
        assert await asyncio.wait_for(write, 5) == 1
        assert await threads.read(count_items) == 1
        assert await asyncio.wait_for(holder.wait(), 5) == 0
    finally:
        # Free the lock before closing: close() waits for the writer thread.
        if holder.returncode is None:
            holder.kill()
        await holder.wait()
        await threads.close()


async def test_the_writer_lock_is_held_during_a_group_and_dropped_after_commit_and_after_errors(
        database: Path) -> None:
    threads = SqliteThreads(str(database), _sqlite_pragmas)
    lock = lock_path(database)
    try:
        held: list[bool] = []

        def probe(tx: Tx) -> None:
            held.append(not can_lock(lock))
            tx.run("INSERT INTO items (worker, n) VALUES ('probe', 0)")

        await threads.write(probe)
        assert held == [True]
        assert can_lock(lock)

        def failing(tx: Tx) -> None:
            tx.run("INSERT INTO items (worker, n) VALUES ('failing', 0)")
            raise ValueError("undone")

        with pytest.raises(ValueError):
            await threads.write(failing)
        assert can_lock(lock)
        assert await threads.read(count_items) == 1
    finally:
        await threads.close()


async def test_the_writer_lock_is_dropped_when_the_transaction_cannot_begin(database: Path) -> None:
    def impatient(connection: sqlite3.Connection) -> None:
        _sqlite_pragmas(connection)
        connection.execute("PRAGMA busy_timeout=0")

    threads = SqliteThreads(str(database), impatient)
    # A writer that does not take the flock (a plain SQLite connection) holds the database's write lock.
    other = sqlite3.connect(database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await asyncio.wait_for(threads.write(insert("test", 1)), 5)
        assert can_lock(lock_path(database))
        other.execute("ROLLBACK")
        assert await asyncio.wait_for(threads.write(insert("test", 2)), 5) == 1
        assert can_lock(lock_path(database))
    finally:
        other.close()
        await threads.close()

