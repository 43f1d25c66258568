"""What one SQL connection of the site allows: the limits, the guarded built-ins, the row budget
and the time limit, in plain sqlite3 (no Datasette), so that the server's own connections
(plugins/sql_guard.py's prepare_connection) and the processes that run visitor SQL
(serve/query_processes.py) apply exactly the same guard.

SQLite's time limit (a progress handler) cannot interrupt one long function call, such as
printf('%.*c', 2147483647, 'x') (16 s on SQLite 3.40 even with a length limit: it still loops
over the width), so the work of each call is bounded too:
- SQLite limits: no value longer than LIMITS[LENGTH] bytes, and short SQL, expressions, LIKE patterns;
- printf and format are replaced on every connection by a guarded version (`BoundedPrintf`): at
  each call, before any formatting, it reads the format string as SQLite does and refuses a width
  or precision above PRINTF_BOUND, whether written in the format, passed through `*`, taken from a
  column or built at run time; within the bound it hands the call to SQLite's own printf on a
  private connection, so the result is SQLite's, byte for byte;
- ltrim, rtrim, trim (with the characters to trim), instr and replace cost the product of two
  arguments' lengths in one call: a call above CALL_COST_BOUND is refused before it starts
  (`BoundedCall`), below it SQLite's own function answers;
- an authorizer: functions with no use on a read-only public API are denied, and the file path in
  pragma_database_list reads as NULL;
- a row budget: a query's result may carry at most RESULT_BUDGET_BYTES of cell data, counted as
  the answer writes it (JSON escapes, HTML entities, and each cell's HTML markup included);
- a time limit counted in the query thread's own CPU time, with a clock backstop (`query_timelimit`).
`config` is plugins.drugbeleid.sql_guard of the site's metadata (limits, result_budget_bytes).
"""

from __future__ import annotations

import sqlite3
import time
import weakref
from contextlib import contextmanager
from json.encoder import encode_basestring_ascii

from markupsafe import escape

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
# randomblob/zeroblob: make data from nothing. fts3_tokenizer: returns a memory address.
# (printf and format are allowed, bounded: see BoundedPrintf.)
DENIED_FUNCTIONS = {"randomblob", "zeroblob", "fts3_tokenizer", "load_extension", "readfile", "writefile", "edit"}
RESULT_BUDGET_BYTES = 5_000_000
# Visitor-written queries (?sql=, _where=) running at once per worker (plugins/sql_guard.py's gate),
# and so the processes that run them (serve/query_processes.py).
ADHOC_CONCURRENCY = 2


class ResultTooLarge(sqlite3.OperationalError):
    pass


# printf/format: a width or precision loops inside one call, and no length limit stops the loop.
PRINTF_BOUND = 1000
PRINTF_FUNCTIONS = ("printf", "format")
PRINTF_MESSAGE = (
    f"printf/format: a width or precision above {PRINTF_BOUND:,} is refused on this server "
    f"(widths and precisions up to {PRINTF_BOUND:,}, written in the format or passed with *, work as in SQLite)"
)
PRINTF_FLAGS = "-+ #!0,"


class PrintfTooWide(ValueError):
    pass


# Built-ins whose one call costs the product of two arguments' lengths (SQLite compares the second
# at every position of the first), which the time limit cannot interrupt: ltrim of two 60,000-
# character strings ran 7.8 s. A call above CALL_COST_BOUND (about 0.2 s) is refused before it
# starts; below, SQLite's own function answers. The largest product our data gives is ~2 x 10^7.
CALL_COST_BOUND = 100_000_000
COSTLY_FUNCTIONS = {"ltrim": 2, "rtrim": 2, "trim": 2, "instr": 2, "replace": 3}  # name -> the arity that costs
COST_MESSAGE = (
    f"ltrim, rtrim, trim, instr and replace: a call whose cost (the length of the text times the length "
    f"of what it looks for) is above {CALL_COST_BOUND:,} is refused on this server"
)
# What the guarded functions' refusal reads as (Python's sqlite3 gives every such error one message)
GUARD_MESSAGE = f"{PRINTF_MESSAGE}; {COST_MESSAGE}"


class CallTooCostly(ValueError):
    pass


def text_length(value) -> int:
    return len(value) if isinstance(value, (str, bytes)) else 24


class BoundedCall:
    """One of COSTLY_FUNCTIONS for one connection: refuses a call above CALL_COST_BOUND, else lets
    SQLite's own function answer on a private in-memory connection (same length limit)."""

    def __init__(self, name: str, arity: int, length_limit: int):
        self.sql = f"select {name}({', '.join('?' * arity)})"
        self.helper = sqlite3.connect(":memory:", check_same_thread=False)
        self.helper.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, length_limit)

    def __call__(self, *arguments):
        if text_length(arguments[0]) * text_length(arguments[1]) > CALL_COST_BOUND:
            raise CallTooCostly(COST_MESSAGE)
        return self.helper.execute(self.sql, arguments).fetchone()[0]


# The conversions of SQLite's printf (fmtinfo in sqlite3's printf.c) that take an argument from
# the list; %n (etSIZE) and %% take none. Any other type (including %T and %S, internal to SQLite)
# ends the call: SQLite stops there and returns NULL, so nothing after it is formatted.
PRINTF_TAKES_ARGUMENT = set("dsgzqQwcouxXfeEGipr")
PRINTF_TAKES_NONE = set("n%")
DIGITS = "0123456789"


def printf_widths(arguments: tuple, as_integer) -> list[int]:
    """Every width and precision a call of printf(format, ...) would use, read exactly as SQLite's
    printf reads its format (sqlite3_str_vappendf, bArgList): after each %, a loop over flags
    (-+ #!0,), a width (digits or *), a .precision (digits or *) and a length (l, ll), in the
    order SQLite accepts them; then the type. A `*` takes the next argument, converted as SQLite
    converts it (`as_integer`); every type but %n and %% takes one argument; an unknown type ends
    the reading, as it ends SQLite's formatting. The format ends at a NUL, as a C string does."""
    if not arguments or arguments[0] is None:
        return []
    first = arguments[0]
    fmt = first.decode("utf-8", "replace") if isinstance(first, bytes) else str(first)
    fmt = fmt.split("\x00", 1)[0]
    rest = list(arguments[1:])
    found: list[int] = []
    n = len(fmt)

    def take():
        return rest.pop(0) if rest else None

    def at(i: int) -> str:
        return fmt[i] if i < n else ""

    i = 0
    while True:
        i = fmt.find("%", i)
        if i < 0 or i + 1 >= n:
            return found
        i += 1
        c = fmt[i]
        while True:  # SQLite's do { switch (c) ... } while (!done && (c = *++fmt) != 0)
            done = False
            if c == "l":
                i += 1
                if at(i) == "l":
                    i += 1
                c, done = at(i), True
            elif c and c in DIGITS[1:]:
                start = i
                while at(i + 1) and at(i + 1) in DIGITS:
                    i += 1
                found.append(int(fmt[start : i + 1]))
                if at(i + 1) not in (".", "l"):
                    i += 1
                    c, done = at(i), True
            elif c == "*":
                found.append(abs(as_integer(take())))
                if at(i + 1) not in (".", "l"):
                    i += 1
                    c, done = at(i), True
            elif c == ".":
                i += 1
                if at(i) == "*":
                    found.append(abs(as_integer(take())))
                    i += 1
                else:
                    start = i
                    while at(i) and at(i) in DIGITS:
                        i += 1
                    if i > start:
                        found.append(int(fmt[start:i]))
                if at(i) == "l":
                    i -= 1
                else:
                    c, done = at(i), True
            elif not (c and c in PRINTF_FLAGS):
                done = True
            if done:
                break
            i += 1
            c = at(i)
            if not c:
                break
        if c in PRINTF_TAKES_ARGUMENT and c:
            take()
        elif not (c and c in PRINTF_TAKES_NONE):
            return found  # an unknown type: SQLite stops formatting here
        i += 1


class BoundedPrintf:
    """printf/format for one connection: refuses widths and precisions above PRINTF_BOUND, then
    lets SQLite's own printf format the call on a private in-memory connection (with the same
    length limit), so what is allowed behaves exactly as in SQLite."""

    def __init__(self, name: str, length_limit: int):
        self.name = name
        self.helper = sqlite3.connect(":memory:", check_same_thread=False)
        self.helper.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, length_limit)

    def as_integer(self, value) -> int:
        if value is None:
            return 0
        if isinstance(value, int):
            return value
        return self.helper.execute("select cast(? as integer)", (value,)).fetchone()[0]

    def __call__(self, *arguments):
        if any(width > PRINTF_BOUND for width in printf_widths(arguments, self.as_integer)):
            raise PrintfTooWide(PRINTF_MESSAGE)
        marks = ", ".join("?" * len(arguments))
        return self.helper.execute(f"select {self.name}({marks})", arguments).fetchone()[0]


def authorizer(action, arg1, arg2, database, source):
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_READ and arg1 == "pragma_database_list" and arg2 == "file":
        return sqlite3.SQLITE_IGNORE  # the column reads as NULL: the server's file path stays private
    return sqlite3.SQLITE_OK


def cell_size(value) -> int:
    """A cell's size as the answer writes it: a text as the longer of its JSON (a quote or a control
    character costs 2 to 6 bytes, not 1) and its HTML (< > & " ' are entities of 4 or 5 bytes); a
    blob in base64. So the budget bounds the body itself, in JSON and in HTML."""
    if isinstance(value, str):
        return max(len(encode_basestring_ascii(value)), len(escape(value)))
    if isinstance(value, bytes):
        return 4 * len(value) // 3 + 4
    return 8


# The HTML page writes each cell in a <td> whose class repeats the column's name: ~40 bytes and the
# name, for a cell of any size (200 columns of small numbers made a 22 MB page of 3 MB of cells).
CELL_MARKUP = 40


def row_markup(cursor) -> int:
    return sum(len(column[0]) + CELL_MARKUP for column in cursor.description or ())


def budgeted_rows(budget: int):
    spent: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    markup: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def row_factory(cursor, row):
        if cursor not in markup:
            markup[cursor] = row_markup(cursor)
        spent[cursor] = spent.get(cursor, 0) + markup[cursor] + sum(cell_size(v) for v in row)
        if spent[cursor] > budget:
            raise ResultTooLarge(
                f"query result too large: more than {budget:,} bytes of data; select fewer rows or columns"
            )
        return sqlite3.Row(cursor, row)

    return row_factory


def guard_connection(conn: sqlite3.Connection, config: dict) -> None:
    """Limits, guarded built-ins, authorizer and row budget on `conn` (see the module's docstring)."""
    # A refused call is an expected answer, not a fault: no traceback in the server's log (Datasette
    # turns callback tracebacks on when it is imported).
    sqlite3.enable_callback_tracebacks(False)
    for name, default in LIMITS.items():
        conn.setlimit(getattr(sqlite3, name), int(config.get("limits", {}).get(name, default)))
    for name in PRINTF_FUNCTIONS:
        conn.create_function(
            name, -1, BoundedPrintf(name, conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)), deterministic=True
        )
    for name, arity in COSTLY_FUNCTIONS.items():  # only this arity: ltrim(x) alone stays SQLite's, linear
        conn.create_function(
            name, arity, BoundedCall(name, arity, conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)), deterministic=True
        )
    conn.set_authorizer(authorizer)
    conn.row_factory = budgeted_rows(int(config.get("result_budget_bytes", RESULT_BUDGET_BYTES)))


# The time limit. Under a burst the SQL threads of a worker spend most of the clock waiting for the
# GIL or a core, so it is counted in the CPU time of the query's own thread (time.thread_time does
# not advance while the thread waits); a clock backstop of WALL_FACTOR times the limit still stops
# any query the clock has run past that (plugins/query_time.py, docs/security.md).
WALL_FACTOR = 2
# SQLite runs the handler every this many virtual-machine instructions (Datasette: about 0.08 ms)
INSTRUCTIONS_PER_CHECK = 1000


@contextmanager
def query_timelimit(conn, ms):
    """datasette.utils.sqlite_timelimit with the limit in the thread's CPU time (see above)."""
    cpu_deadline = time.thread_time() + ms / 1000
    wall_deadline = time.perf_counter() + WALL_FACTOR * ms / 1000

    def handler():
        if time.thread_time() >= cpu_deadline or time.perf_counter() >= wall_deadline:
            return 1  # SQLite stops the query: "interrupted"
        return 0

    conn.set_progress_handler(handler, 1 if ms <= 20 else INSTRUCTIONS_PER_CHECK)
    try:
        yield
    finally:
        conn.set_progress_handler(None, INSTRUCTIONS_PER_CHECK)
