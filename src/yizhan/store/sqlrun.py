"""Whole transactions run as one function on a database thread: the store's fast path.

Through SQLAlchemy's async layer every statement builds and compiles a statement object and then crosses from the
event loop into the driver's thread and back. A busy IMAP command made dozens of such crossings. A function given to
`Database.run_write` or `Database.run_read` instead receives a `Tx` and runs in one go on a database thread, with
plain SQL: one crossing per transaction, and no statement objects.

The SQL is text with `?` placeholders, written to run on SQLite and PostgreSQL alike (`Tx` turns `?` into `$1..$n`
on PostgreSQL). `tx.for_update` is " FOR UPDATE" on PostgreSQL and "" on SQLite, whose write transactions hold the
whole database from their start (BEGIN IMMEDIATE).

Invariants:
- The function runs on a thread: it must not touch the event loop, and does no I/O besides its SQL.
- A write function runs between BEGIN IMMEDIATE and COMMIT, which returns only after the write-ahead log is fsynced
  (synchronous=FULL); if the function raises, the transaction is rolled back and the exception reaches the caller.
- A read function sees one snapshot (BEGIN ... COMMIT around it); readers never block the writer (WAL).
- SQLite: one writer thread with one connection; readers on a small pool of threads, each with its own connection.
- SQLite, several processes (the server's workers, `server.workers`): a group takes an exclusive `flock` on
  DATABASE.write-lock before BEGIN IMMEDIATE and drops it after COMMIT, so the writers of the processes take
  turns in the kernel (woken at once) instead of polling in SQLite's busy handler (which sleeps up to 100 ms).
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from yizhan.util.threads import name_this_thread
from yizhan.util.workers import WorkerThreads

T = TypeVar("T")

_PLACEHOLDER = re.compile(r"\?")


def placeholders(count: int) -> str:
    """"?, ?, ?" for an IN list of `count` values."""
    return ", ".join("?" * count)


# At most this many parameters in one statement (SQLite's default limit is 32766, PostgreSQL's 32767).
_MAX_PARAMETERS = 30_000


@functools.lru_cache(maxsize=1024)
def values_rows(rows: int, width: int) -> str:
    """"(?, ?), (?, ?), (?, ?)": a VALUES list of `rows` rows of `width` values."""
    row = f"({placeholders(width)})"
    return ", ".join([row] * rows)


def row_batches(rows: Sequence[Sequence[Any]]) -> Iterator[tuple[str, list[Any]]]:
    """`rows` cut into batches that fit in one statement: each batch's VALUES list (`values_rows`) and its
    parameters, flattened. One statement per batch runs as one step, where executemany runs one step per row, and
    SQLite's module gives up the GIL at every step (and must win it back: under load the dearest part of a write)."""
    if not rows:
        return
    width = len(rows[0])
    per = max(1, _MAX_PARAMETERS // max(1, width))
    for start in range(0, len(rows), per):
        batch = rows[start:start + per]
        yield values_rows(len(batch), width), [value for row in batch for value in row]


class Tx(Protocol):
    """A transaction in progress, as a transaction function sees it."""

    for_update: str

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row the statement returns."""

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """The first row, or None."""

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute a statement; the number of rows it changed."""

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Execute a statement once per parameter row."""

    def insert(self, head: str, rows: Sequence[Sequence[Any]]) -> None:
        """`head` ("INSERT INTO t (a, b)") with every row in VALUES lists: one statement per `row_batches` batch."""


class _MultiRowInsert:
    """`Tx.insert` over the class's own `run`."""

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise NotImplementedError

    def insert(self, head: str, rows: Sequence[Sequence[Any]]) -> None:
        for values, parameters in row_batches(rows):
            self.run(f"{head} VALUES {values}", parameters)


class SqliteTx(_MultiRowInsert):
    """`Tx` over a sqlite3 connection (in autocommit mode: the runner issues BEGIN and COMMIT)."""

    for_update = ""

    def __init__(self, connection: sqlite3.Connection, tracers: list[Callable[[str], None]] | None = None) -> None:
        self.connection = connection
        # Observers of every statement (tests count what a code path runs); usually none.
        self.tracers = tracers

    def _trace(self, sql: str) -> None:
        for tracer in self.tracers or ():
            tracer(sql)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.tracers:
            self._trace(sql)
        return self.connection.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        if self.tracers:
            self._trace(sql)
        row: tuple[Any, ...] | None = self.connection.execute(sql, params).fetchone()
        return row

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        if self.tracers:
            self._trace(sql)
        return self.connection.execute(sql, params).rowcount

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self.tracers:
            self._trace(sql)
        self.connection.executemany(sql, rows)


class SqlAlchemyTx(_MultiRowInsert):
    """`Tx` over a synchronous SQLAlchemy connection: PostgreSQL through `AsyncConnection.run_sync`, and code that
    holds an `AsyncConnection` already (`await conn.run_sync(lambda c: fn(SqlAlchemyTx(c)))`)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.for_update = "" if connection.dialect.name == "sqlite" else " FOR UPDATE"
        self._dollar = connection.dialect.paramstyle in ("numeric_dollar", "numeric")

    def _numbered(self, sql: str) -> str:
        if not self._dollar:
            return sql
        counter = iter(range(1, 1 << 30))
        return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.connection.exec_driver_sql(self._numbered(sql), tuple(params)).all()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row = self.connection.exec_driver_sql(self._numbered(sql), tuple(params)).first()
        return tuple(row) if row is not None else None

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self.connection.exec_driver_sql(self._numbered(sql), tuple(params)).rowcount)

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(row) for row in rows]
        if batch:
            self.connection.exec_driver_sql(self._numbered(sql), batch)


@dataclass(slots=True)
class _Write:
    fn: Callable[[Tx], Any]
    future: asyncio.Future[Any]


class SqliteThreads:
    """The writer thread and the reader threads of one SQLite database, each thread with its own connection.

    Writes are committed in groups: what callers submit while the writer is busy waits, then runs in ONE
    transaction, each function inside its own SAVEPOINT (a function that raises undoes only its own changes; one
    alone in its group needs none: the transaction is rolled back), and
    the group shares one COMMIT and so one fsync. Every caller is answered only after that COMMIT returned.
    `lock` is held while a group runs; other writers of this process (SQLAlchemy's `Database.write()`) take it too.
    """

    def __init__(self, path: str, configure: Callable[[sqlite3.Connection], None], readers: int = 4,
                 max_group: int = 256) -> None:
        self.path = path
        self.configure = configure
        self.max_group = max_group
        self.lock = asyncio.Lock()
        self._writer = WorkerThreads(1, "sqlite-writer")
        self._readers = WorkerThreads(readers, "sqlite-reader")
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        self._queue: asyncio.Queue[_Write] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        # Called with every statement the transaction functions run (for tests; `Database.trace`).
        self.tracers: list[Callable[[str], None]] = []
        # (barrier, pending) pairs (`Database.add_commit_barrier`): a barrier whose `pending()` is true when a group
        # begins runs beside the group's functions and is waited for before its COMMIT; one that raises fails the
        # whole group.
        self.barriers: list[tuple[Callable[[], None], Callable[[], bool]]] = []
        self._barrier_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-barrier",
                                                  initializer=name_this_thread)
        # The lock file the writers of every process of this database take turns on (opened by the writer thread).
        self._lock_path = None if path in ("", ":memory:") or path.startswith("file:") else path + ".write-lock"
        self._lock_fd: int | None = None

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            # Room for the statements `Tx.insert` builds, one per batch size.
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                         cached_statements=512)
            self.configure(connection)
            self._local.connection = connection
            with self._opened_lock:
                self._opened.append(connection)
        return connection

    def _read(self, fn: Callable[[Tx], T]) -> T:
        connection = self._connection()
        connection.execute("BEGIN")
        try:
            return fn(SqliteTx(connection, self.tracers))
        finally:
            connection.execute("COMMIT")

    def _write_group(self, fns: list[Callable[[Tx], Any]]) -> list[tuple[bool, Any]]:
        """Run `fns` in one transaction; (True, result) or (False, exception) for each, in order."""
        connection = self._connection()
        tx = SqliteTx(connection, self.tracers)
        outcomes: list[tuple[bool, Any]] = []
        # The barriers (the blobs these rows name, made durable) run on their own thread while the functions
        # run here: their fsyncs overlap the SQL. Everything they cover was submitted before this group began.
        barriers = [self._barrier_thread.submit(barrier) for barrier, pending in self.barriers if pending()]
        # Another process's group may be writing: wait for it here, in the kernel (the GIL is released).
        locked = self._lock_writers()
        try:
            connection.execute("BEGIN IMMEDIATE")
            if len(fns) == 1:
                # Alone in its group, a function needs no savepoint: if it raises, the whole transaction is rolled
                # back. (Every statement is a hand-off of the GIL, and each costs more than its SQL under load.)
                try:
                    outcomes.append((True, fns[0](tx)))
                except Exception as exc:
                    outcomes.append((False, exc))
            else:
                for fn in fns:
                    connection.execute("SAVEPOINT write")
                    try:
                        value = fn(tx)
                    except Exception as exc:
                        connection.execute("ROLLBACK TO write")
                        outcomes.append((False, exc))
                    else:
                        outcomes.append((True, value))
                    connection.execute("RELEASE write")
            for barrier in barriers:
                barrier.result()
            failed_alone = len(fns) == 1 and not outcomes[0][0]
            connection.execute("ROLLBACK" if failed_alone else "COMMIT")
        except Exception as exc:
            # BEGIN or COMMIT failed (a locked or full disk, an I/O error): nothing of the group is durable.
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            return [(False, exc)] * len(fns)
        finally:
            if locked is not None:
                fcntl.flock(locked, fcntl.LOCK_UN)
        return outcomes

    def _lock_writers(self) -> int | None:
        """Take the cross-process writer lock (on the writer thread); its descriptor, or None without a file."""
        if self._lock_path is None:
            return None
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        return self._lock_fd

    async def _commit_groups(self) -> None:
        while True:
            group = [await self._queue.get()]
            while len(group) < self.max_group and not self._queue.empty():
                group.append(self._queue.get_nowait())
            try:
                async with self.lock:
                    outcomes = await self._writer.run(functools.partial(self._write_group, [w.fn for w in group]))
            except Exception as exc:
                # The writer thread is gone (the store closed under a running server): fail these writes, go on.
                outcomes = [(False, exc)] * len(group)
            for write, (ok, value) in zip(group, outcomes, strict=True):
                if write.future.done():
                    continue
                if ok:
                    write.future.set_result(value)
                else:
                    write.future.set_exception(value)

    async def write(self, fn: Callable[[Tx], T]) -> T:
        if self._closed:
            raise RuntimeError("the database is closed")
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._commit_groups(), name="sqlite-group-commit")
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put_nowait(_Write(fn, future))
        return await future

    async def read(self, fn: Callable[[Tx], T]) -> T:
        if self._closed:
            raise RuntimeError("the database is closed")
        return await self._readers.run(functools.partial(self._read, fn))

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        while not self._queue.empty():
            self._queue.get_nowait().future.set_exception(RuntimeError("the database is closed"))
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        self._writer.shutdown()
        self._barrier_thread.shutdown()
        self._readers.shutdown()
        with self._opened_lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
