"""Guard for public SQL: no single query may hold a thread past the time limit, or return a flood.

SQLite's time limit (Datasette's progress handler) cannot interrupt one long function call, such
as printf('%.*c', 2147483647, 'x') (16 s on SQLite 3.40 even with a length limit: it still loops
over the width), so the work of each call is bounded instead:
- SQLite limits: no value longer than LIMITS[LENGTH] bytes, and short SQL, expressions, LIKE patterns;
- an authorizer: functions with no use on a read-only public API are denied, and the file path in
  pragma_database_list reads as NULL;
- a row budget: a query's result may carry at most RESULT_BUDGET_BYTES of cell data;
- a gate: at most ADHOC_CONCURRENCY visitor-written queries (?sql=, _where=) run at once per
  worker; the others wait up to ADHOC_QUEUE_SECONDS, then get 429. Each query runs up to the time
  limit, and on 2 cores more than two of them at once starve ordinary page requests of CPU.
The figures are configured in metadata.yml (plugins.drugbeleid.sql_guard) and served in
/-/metadata.json; the defaults below apply when a figure is not set.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import weakref
from urllib.parse import unquote_to_bytes

from datasette import hookimpl

LIMITS = {  # sqlite3 limit name -> default; the largest cell in the data is about 4 KB
    "SQLITE_LIMIT_LENGTH": 1_000_000,
    "SQLITE_LIMIT_SQL_LENGTH": 10_000,
    "SQLITE_LIMIT_EXPR_DEPTH": 200,
    "SQLITE_LIMIT_COMPOUND_SELECT": 50,
    "SQLITE_LIMIT_LIKE_PATTERN_LENGTH": 1_000,
    "SQLITE_LIMIT_FUNCTION_ARG": 100,
    "SQLITE_LIMIT_COLUMN": 200,
    "SQLITE_LIMIT_ATTACHED": 0,
}
# printf/format: a huge width or precision loops inside one call; no length limit stops it.
# randomblob/zeroblob: make data from nothing. fts3_tokenizer: returns a memory address.
DENIED_FUNCTIONS = {"printf", "format", "randomblob", "zeroblob", "fts3_tokenizer", "load_extension", "readfile", "writefile", "edit"}
RESULT_BUDGET_BYTES = 5_000_000
ADHOC_CONCURRENCY = 2
ADHOC_QUEUE_SECONDS = 3.0
ADHOC_PARAMETERS = (b"sql", b"_where")


class ResultTooLarge(sqlite3.OperationalError):
    pass


def authorizer(action, arg1, arg2, database, source):
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_READ and arg1 == "pragma_database_list" and arg2 == "file":
        return sqlite3.SQLITE_IGNORE  # the column reads as NULL: the server's file path stays private
    return sqlite3.SQLITE_OK


def cell_size(value) -> int:
    if isinstance(value, (str, bytes)):
        return len(value)
    return 8


def budgeted_rows(budget: int):
    spent: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def row_factory(cursor, row):
        spent[cursor] = spent.get(cursor, 0) + sum(cell_size(v) for v in row)
        if spent[cursor] > budget:
            raise ResultTooLarge(f"query result too large: more than {budget:,} bytes of data; select fewer rows or columns")
        return sqlite3.Row(cursor, row)

    return row_factory


@hookimpl
def prepare_connection(conn, database, datasette):
    if database == "_internal":
        return
    config = (datasette.plugin_config("drugbeleid") or {}).get("sql_guard", {})
    for name, default in LIMITS.items():
        conn.setlimit(getattr(sqlite3, name), int(config.get("limits", {}).get(name, default)))
    conn.set_authorizer(authorizer)
    conn.row_factory = budgeted_rows(int(config.get("result_budget_bytes", RESULT_BUDGET_BYTES)))


def visitor_sql(scope) -> bool:
    """Only the parameter names matter; the values may be any bytes, valid UTF-8 or not."""
    names = (unquote_to_bytes(part.split(b"=", 1)[0].replace(b"+", b" ")) for part in scope.get("query_string", b"").split(b"&"))
    return any(name in ADHOC_PARAMETERS for name in names)


@hookimpl
def asgi_wrapper(datasette):
    config = (datasette.plugin_config("drugbeleid") or {}).get("sql_guard", {})
    concurrency = int(config.get("adhoc_concurrency", ADHOC_CONCURRENCY))
    queue_seconds = float(config.get("adhoc_queue_seconds", ADHOC_QUEUE_SECONDS))

    def wrap(app):
        gate = None  # made on first use, inside the server's event loop

        async def gated(scope, receive, send):
            nonlocal gate
            if scope["type"] != "http" or not visitor_sql(scope):
                return await app(scope, receive, send)
            gate = gate or asyncio.Semaphore(concurrency)
            try:
                await asyncio.wait_for(gate.acquire(), timeout=queue_seconds)
            except asyncio.TimeoutError:
                body = json.dumps({"ok": False, "status": 429, "title": "Too many queries",
                                   "error": f"More than {concurrency} SQL queries are running; try again in a moment."}).encode()
                await send({"type": "http.response.start", "status": 429,
                            "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"retry-after", b"1")]})
                await send({"type": "http.response.body", "body": body})
                return
            try:
                await app(scope, receive, send)
            finally:
                gate.release()

        return gated

    return wrap
