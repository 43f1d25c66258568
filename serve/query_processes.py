"""Visitor SQL runs in separate processes, killed and replaced when a query overruns its deadline.

SQLite checks its time limit between virtual-machine instructions, never inside one function call:
a LIKE with many `%` over a long built string, or a built-in whose cost serve/sql_limits.py does
not model, runs to its end whatever the limit, holding a thread of the worker (and the GIL between
its rows). A thread cannot be stopped from outside; a process can. So every query of a request
that carries visitor SQL (`?sql=`, `_where=`: plugins/sql_guard.py's gate marks the request with
`visitor_queries()`) runs in a small pool of processes (pebble's ProcessPool):
- each process opens the database file read-only, prepares it as Datasette prepares the worker's
  connections and applies the same guard and time limit (serve/sql_limits.py), so an ordinary query
  answers exactly as before;
- each query gets a deadline of WALL_FACTOR x its time limit + KILL_MARGIN_SECONDS (2.25 s with the
  site's settings); a process still busy then is killed (SIGTERM, which ends it even inside a C
  call, then SIGKILL) and the pool starts a fresh one. The query answers "SQL query took too
  long", as one stopped by the time limit does;
- the processes run at a lower priority (nice NICENESS) than the worker that serves the pages, so a
  stuck query takes the CPU the pages leave;
- the rows come back over a pipe, already within the result budget, and are handed to Datasette as
  sqlite3.Row objects, as its own threads hand them.
The pool is one per worker process, as many processes as visitor queries may run at once (the
gate's `adhoc_concurrency`), started at the first visitor query (a worker that never runs one never
starts it) and stopped before the worker exits. Its cost (docs/security.md): about
a millisecond of pickling and a pipe per query, and one more process of ~20 MB per pool slot.
Datasette has no hook around a query's execution, so plugins/query_processes.py routes each
database's `execute` through `execute` below while a request is marked. The processes import this
module, so it imports Datasette and the site's modules only in the functions the worker runs.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import multiprocessing.util
import os
import signal
import sqlite3
import sys
import threading
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from pebble import ProcessExpired, ProcessPool

from serve.sql_limits import ADHOC_CONCURRENCY, WALL_FACTOR, guard_connection, query_timelimit

# A process that has not answered WALL_FACTOR x the limit after it started a query is killed this
# much later: the progress handler stops any query that reaches a check in time, so the margin only
# has to cover the pool's own clock (it looks every 0.1 s) and a loaded machine.
KILL_MARGIN_SECONDS = 0.25
NICENESS = 10

_visitor_query: ContextVar[bool] = ContextVar("visitor_query", default=False)


@contextmanager
def visitor_queries():
    """Within this block (one request of visitor SQL), the site's databases run queries in the pool."""
    token = _visitor_query.set(True)
    try:
        yield
    finally:
        _visitor_query.reset(token)


def in_visitor_request() -> bool:
    return _visitor_query.get()


# --- in the query processes --------------------------------------------------------------------

_connections: dict[tuple[str, str], sqlite3.Connection] = {}


def start_process() -> None:
    """The pool's initializer, in each new process: a lower priority than the pages, and SIGTERM
    ends the process at once. (The pool's own SIGTERM handler is Python code, which runs only between
    two bytecodes: a process inside a long SQLite call would ignore it until the pool's SIGKILL,
    3 s later. The pool stops a process only while it holds the channel's lock, so no message is
    cut in half.)"""
    os.nice(NICENESS)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def connection(path: str, setup_json: str) -> sqlite3.Connection:
    """One read-only connection per database file (each release is its own file) and setup,
    prepared as Datasette prepares the worker's (Datasette._prepare_connection): text decoded with
    replacement, its cache size, Datasette's own SQL functions (escape_fts, for _search), then the
    site's guard (serve/sql_limits.py). tests/test_query_processes.py checks that both connections
    know the same functions."""
    key = (path, setup_json)
    if key not in _connections:
        from datasette import sql_functions  # Datasette's own prepare_connection, a light import

        setup = json.loads(setup_json)
        conn = sqlite3.connect(Path(path).as_uri() + "?mode=ro&immutable=1", uri=True)
        conn.text_factory = lambda data: str(data, "utf-8", "replace")
        if setup["cache_size_kb"]:
            conn.execute(f"PRAGMA cache_size=-{int(setup['cache_size_kb'])}")
        sql_functions.prepare_connection(conn)
        guard_connection(conn, setup["guard"])
        _connections[key] = conn
    return _connections[key]


def run_query(path: str, setup_json: str, sql: str, params, time_limit_ms: int, max_returned_rows: int, truncate: bool):
    """One query, as Datasette's Database.execute runs it in its thread. Returns ("rows", rows as
    tuples, truncated, column names) or ("error", the sqlite3 class's name, its message): sqlite3's
    errors are answered, not raised, so that every message reaches Datasette as SQLite wrote it."""
    conn = connection(path, setup_json)
    with query_timelimit(conn, time_limit_ms):
        try:
            cursor = conn.execute(sql, params if params is not None else {})
            if max_returned_rows and truncate:
                rows = cursor.fetchmany(max_returned_rows + 1)
                truncated = len(rows) > max_returned_rows
                rows = rows[:max_returned_rows]
            else:
                rows = cursor.fetchall()
                truncated = False
        except sqlite3.Error as error:
            kind = next(cls for cls in type(error).__mro__ if cls.__module__ == "sqlite3")
            return ("error", kind.__name__, str(error))
    columns = None if cursor.description is None else [column[0] for column in cursor.description]
    return ("rows", [tuple(row) for row in rows], truncated, columns)


# --- in the worker -------------------------------------------------------------------------------

_pool: tuple[int, ProcessPool] | None = None
_pool_lock = threading.Lock()


def pool(size: int) -> ProcessPool:
    """This process's pool (made on first use: a worker forked from a parent gets its own)."""
    global _pool
    with _pool_lock:
        if _pool is not None and _pool[0] == os.getpid() and not _pool[1].active:
            # A process of the pool that ends while idle (killed, out of memory) breaks the whole
            # pool: it refuses every task from then on. This worker replaces it instead of
            # answering every later visitor query with an error.
            print("query processes: the pool failed; starting a new one", file=sys.stderr, flush=True)
            broken = _pool[1]
            threading.Thread(target=stop, args=(broken,), daemon=True).start()
            _pool = None
        if _pool is None or _pool[0] != os.getpid():
            # spawn: a fresh interpreter, never a fork of a worker that runs threads and an event loop
            started = ProcessPool(
                max_workers=max(size, 1), initializer=start_process, context=multiprocessing.get_context("spawn")
            )
            # When the worker exits, its processes are stopped first: before multiprocessing's own exit
            # removes the semaphores a process still starting would open (a traceback in the log), and
            # before it waits for them (the pool's processes are not daemons: the worker would hang).
            multiprocessing.util.Finalize(None, stop, args=(started,), exitpriority=100)
            _pool = (os.getpid(), started)
        return _pool[1]


def stop(started: ProcessPool) -> None:
    started.stop()
    started.join()


_row_helper = sqlite3.connect(":memory:", check_same_thread=False)
_row_helper_lock = threading.Lock()


def as_rows(columns: list[str], values: list[tuple]) -> tuple[list[sqlite3.Row], tuple]:
    """sqlite3.Row objects and a cursor description for these column names, as a query of the
    worker's own would give them (Datasette tests `isinstance(row, sqlite3.Row)`). A Row takes its
    names from a cursor, so a cursor with these columns and no rows is made on a private connection."""
    names = ", ".join('NULL AS "{}"'.format(name.replace('"', '""')) for name in columns)
    with _row_helper_lock:
        cursor = _row_helper.execute(f"SELECT {names} LIMIT 0")
        return [sqlite3.Row(cursor, row) for row in values], cursor.description


def guard_config(datasette) -> dict:
    from serve.shared import plugin_config

    return plugin_config(datasette).get("sql_guard", {})


def pool_for(datasette) -> ProcessPool:
    return pool(int(guard_config(datasette).get("adhoc_concurrency", ADHOC_CONCURRENCY)))


def start(datasette) -> None:
    """Start this process's pool now (the pool starts its processes on its first task), so that the
    first visitor query does not wait for them."""
    pool_for(datasette).schedule(os.getpid)


def deadline_seconds(time_limit_ms: int) -> float:
    return WALL_FACTOR * time_limit_ms / 1000 + KILL_MARGIN_SECONDS


async def scheduled(datasette, arguments: tuple, time_limit_ms: int):
    """The query's outcome from the pool. A pool that breaks just as a query is handed to it can drop
    the query without an answer (pebble stops its loops before the query is either run or failed):
    a query that has no answer after twice its deadline, a wait in the queue included, is given up,
    and counts as met by a broken pool if the pool is broken, as stopped by its deadline otherwise."""
    pool = pool_for(datasette)
    deadline = deadline_seconds(time_limit_ms)
    future = pool.schedule(run_query, args=arguments, timeout=deadline)
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), 2 * deadline)
    except TimeoutError:
        future.cancel()
        if not pool.active:
            raise BrokenProcessPool("the pool broke before the query ran") from None
        raise


async def execute(db, sql, params=None, truncate=False, custom_time_limit=None, page_size=None, log_sql_errors=True):
    """Database.execute of Datasette 0.65.5, with the query run in the pool: the same time limit,
    row limit, truncation, Results and errors (QueryInterrupted for a query stopped or killed)."""
    from datasette.database import QueryInterrupted, Results
    from datasette.tracer import trace

    datasette = db.ds
    page_size = page_size or datasette.page_size
    time_limit_ms = datasette.sql_time_limit_ms
    if custom_time_limit and custom_time_limit < time_limit_ms:
        time_limit_ms = custom_time_limit
    max_returned_rows = datasette.max_returned_rows
    if max_returned_rows == page_size:
        max_returned_rows += 1
    setup = json.dumps(
        {"guard": guard_config(datasette), "cache_size_kb": datasette.setting("cache_size_kb")}, sort_keys=True
    )
    arguments = (db.path, setup, sql, params, time_limit_ms, max_returned_rows, truncate)
    with trace("sql", database=db.name, sql=sql.strip(), params=params):
        try:
            try:
                outcome = await scheduled(datasette, arguments, time_limit_ms)
            except BrokenProcessPool:  # an idle process of the pool ended: the query runs in a new pool
                outcome = await scheduled(datasette, arguments, time_limit_ms)
        except TimeoutError:  # killed at the deadline
            raise QueryInterrupted(sqlite3.OperationalError("interrupted"), sql, params) from None
        except ProcessExpired as ended:  # ended by something else (out of memory, a signal)
            raise sqlite3.OperationalError(f"the query's process ended unexpectedly ({ended.exitcode})") from None
    if outcome[0] == "error":
        _, kind, message = outcome
        error = getattr(sqlite3, kind, sqlite3.OperationalError)(message)
        if message == "interrupted":
            raise QueryInterrupted(error, sql, params)
        if log_sql_errors:
            print(f"ERROR: query process, sql = {sql!r}, params = {params}: {message}", file=sys.stderr)
        raise error
    _, values, truncated, columns = outcome
    if columns is None:
        return Results(values, False, None)
    rows, description = as_rows(columns, values)
    return Results(rows, truncated if truncate else False, description)
