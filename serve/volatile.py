"""Whether a visitor's SQL can answer differently from one call to the next, as SQLite reports it.

The data is immutable, so an answer is fixed by the data version and the URL, except when the SQL
calls a function whose result changes per call: random(), the current date or time. Such an answer
must never be cached (plugins/http_headers.py gives it `Cache-Control: no-store` and no ETag, so
neither the response cache nor nginx keeps it, and no 304 is given).

The decision is not made from the spelling of the URL (`RANDOM ()`, `current_timestamp`, a call
inside a CTE or a subquery all spell it differently) but from SQLite itself: the statement is
prepared (EXPLAIN, which compiles without running) on a private read-only connection with an
authorizer that records every function the statement calls. Every date and time function counts,
whatever its arguments: date('2020-01-01') is as fixed as its argument, but date('now'), date(),
and date(column || 'now') are not, and telling them apart would mean evaluating SQL. Datasette's own
connections cannot tell: their authorizer runs when a statement is first prepared, which is after
the ETag answer, and prepared statements are cached.

The verdict is remembered per (database file, SQL text). SQL that does not prepare (a syntax error, an
unknown table) counts as volatile: its answer is an error, never cached anyway.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from urllib.parse import parse_qsl, unquote

from datasette.plugins import pm
from datasette.utils import tilde_decode

# Functions whose result may change between two calls on the same immutable data.
VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "randomblob",
        "date",
        "time",
        "datetime",
        "julianday",
        "unixepoch",
        "strftime",
        "timediff",
        "current_date",
        "current_time",
        "current_timestamp",
    }
)
REMEMBERED = 4096  # verdicts kept per process; the SQL text is the visitor's, so bounded
VISITOR_SQL = (b"sql=", b"_where=")


def _connect(path: str, name: str, datasette) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    # The site's own functions and limits (sql_guard's printf, length limits), as on Datasette's connections...
    pm.hook.prepare_connection(conn=connection, database=name, datasette=datasette)
    return connection


class Verdicts:
    """One private connection per database file, and the verdicts already reached."""

    def __init__(self):
        self.connections: dict[str, sqlite3.Connection] = {}
        self.known: OrderedDict = OrderedDict()
        self.lock = threading.Lock()  # the tests call it from several event loops' threads

    def volatile(self, datasette, database: str, sql: str) -> bool:
        db = datasette.databases.get(database)
        key = (getattr(db, "path", None), sql)  # the file, not its name: each release is its own file
        with self.lock:
            if key in self.known:
                self.known.move_to_end(key)
                return self.known[key]
            verdict = self._prepare(datasette, database, sql)
            self.known[key] = verdict
            while len(self.known) > REMEMBERED:
                self.known.popitem(last=False)
            return verdict

    def _prepare(self, datasette, database: str, sql: str) -> bool:
        db = datasette.databases.get(database)
        if db is None or db.path is None:
            return True
        connection = self.connections.get(db.path)
        if connection is None:
            connection = self.connections[db.path] = _connect(db.path, database, datasette)
        called: set[str] = set()

        def record(action, name, function, *_):
            if action == sqlite3.SQLITE_FUNCTION:
                called.add((function or "").lower())
            return sqlite3.SQLITE_OK

        # ...but this authorizer instead of sql_guard's: it only records, the real run still refuses.
        connection.set_authorizer(record)
        try:
            connection.execute("EXPLAIN " + sql).close()
        except (sqlite3.Error, ValueError, OverflowError):
            return True
        finally:
            connection.set_authorizer(None)
        return not called.isdisjoint(VOLATILE_FUNCTIONS)


VERDICTS = Verdicts()


def statements(datasette, path: str, query_string: bytes) -> tuple[str | None, list[str]]:
    """(database, the SQL statements a request runs that a visitor wrote): ?sql= on a database,
    and each _where= on a table as `select 1 from "table" where (...)`. Datasette's routes take no
    literal dot in a database or table name (it is written ~2E), so a dot starts the format."""
    if not any(marker in query_string for marker in VISITOR_SQL):
        return None, []
    parts = [tilde_decode(unquote(part).split(".", 1)[0]) for part in path.strip("/").split("/")]
    if not parts or parts[0] not in datasette.databases:
        return None, []
    args = parse_qsl(query_string.decode("utf-8", "replace"), keep_blank_values=True)
    found = [value for name, value in args if name == "sql"]
    if len(parts) == 2:
        table = '"{}"'.format(parts[1].replace('"', '""'))
        found += [f"select 1 from {table} where ({where})" for name, where in args if name == "_where"]
    return parts[0], found


def volatile_request(datasette, scope) -> bool:
    """Whether the answer to this request may change from call to call (see the module's text)."""
    database, sql = statements(datasette, scope["path"], scope.get("query_string", b""))
    return any(VERDICTS.volatile(datasette, database, text) for text in sql)
