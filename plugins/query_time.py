"""The SQL time limit measures the query, not the time its thread waits for the GIL or a core.

Datasette stops a query when the clock passes sql_time_limit_ms (its progress handler,
datasette.utils.sqlite_timelimit). Under a burst of requests the SQL threads spend most of that
time waiting: for the GIL, which every Python step of the worker needs, and on this 2-core
machine for a core. A query of 20 ms of work then ran past 1 s on the clock and a CSV download
answered 500 (QueryInterrupted, which Datasette does not catch on the CSV path).

Here (serve/sql_limits.py query_timelimit, shared with the processes that run visitor SQL) the
limit is counted in the CPU time of the query's own thread (time.thread_time: it does not
advance while the thread waits for the GIL or for a core), so a burst slows answers down but does
not turn them into errors. A wall-clock backstop, WALL_FACTOR times the limit, still stops any
query the clock has run past that, so a query holds its thread for at most
sql_time_limit_ms x WALL_FACTOR (2 s with the site's settings), however busy the machine.
A query that is stopped is answered 400 "SQL query took too long" in every format, CSV included.
"""

from __future__ import annotations

import datasette.database
from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response

from serve.sql_limits import WALL_FACTOR, query_timelimit

# Database.execute looks the context manager up in its module at each query.
datasette.database.sqlite_timelimit = query_timelimit


@hookimpl
def handle_exception(datasette, request, exception):
    """A CSV whose query was stopped at the time limit: Datasette 0.65.5 answers it 500; it is the
    same 400 "SQL query took too long" its JSON and HTML pages give, as JSON (CSV clients are programs)."""
    if isinstance(exception, QueryInterrupted) and request.path.endswith(".csv"):
        limit = datasette.setting("sql_time_limit_ms")
        return Response.json(
            {
                "ok": False,
                "status": 400,
                "title": "SQL Interrupted",
                "error": f"SQL query took too long: the time limit is {limit} ms of the query's own "
                f"work (and {WALL_FACTOR * limit} ms on the clock).",
            },
            status=400,
        )
    return None
