"""Guard for public SQL: no single query may hold a thread past the time limit, or return a flood.

SQLite's time limit (Datasette's progress handler) cannot interrupt one long function call, such
as printf('%.*c', 2147483647, 'x') (16 s on SQLite 3.40 even with a length limit: it still loops
over the width), so the work of each call is bounded instead:
- SQLite limits: no value longer than LIMITS[LENGTH] bytes, and short SQL, expressions, LIKE patterns;
- printf and format are replaced on every connection by a guarded version (`BoundedPrintf`): at
  each call, before any formatting, it reads the format string as SQLite does and refuses a width
  or precision above PRINTF_BOUND, whether written in the format, passed through `*`, taken from a
  column or built at run time; within the bound it hands the call to SQLite's own printf on a
  private connection, so the result is SQLite's, byte for byte. A check of the SQL text could not
  see a format string or a width computed while the query runs; a check at call time sees them all;
- ltrim, rtrim, trim (with the characters to trim), instr and replace cost the product of two
  arguments' lengths in one call: a call above CALL_COST_BOUND is refused before it starts
  (`BoundedCall`), below it SQLite's own function answers;
- an authorizer: functions with no use on a read-only public API are denied, and the file path in
  pragma_database_list reads as NULL;
- a row budget: a query's result may carry at most RESULT_BUDGET_BYTES of cell data, counted as
  the answer writes it (JSON escapes, HTML entities, and each cell's HTML markup included);
- a gate: at most ADHOC_CONCURRENCY visitor-written queries (?sql=, _where=) run at once per
  worker; the others wait up to ADHOC_QUEUE_SECONDS, then get 429. Each query runs up to the time
  limit, and on 2 cores more than two of them at once starve ordinary page requests of CPU.
The figures are configured in metadata.yml (plugins.drugbeleid.sql_guard) and served in
/-/metadata.json; the defaults below apply when a figure is not set.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import weakref
from json.encoder import encode_basestring_ascii
from urllib.parse import unquote_to_bytes

from datasette import hookimpl
from markupsafe import escape

from serve.shared import plugin_config

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
ADHOC_CONCURRENCY = 2
ADHOC_QUEUE_SECONDS = 3.0
ADHOC_PARAMETERS = (b"sql", b"_where")


class ResultTooLarge(sqlite3.OperationalError):
    pass


# printf/format: a width or precision loops inside one call, and no length limit stops the loop.
PRINTF_BOUND = 1000
PRINTF_FUNCTIONS = ("printf", "format")
# What Python's sqlite3 answers whenever a function written in Python raises; on these connections
# only the guarded printf/format raise, so the message is replaced by PRINTF_MESSAGE (see sql_gate).
UDF_RAISED = b"user-defined function raised exception"
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


# Datasette turns callback tracebacks on when it is imported (before the plugins); a refused printf
# is an expected answer, not a fault, so it prints no traceback into the server's log.
sqlite3.enable_callback_tracebacks(False)


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


LITERAL_CALL = re.compile(
    r"\b(?:printf|format)\s*\(\s*'((?:[^']|'')*)'((?:\s*,\s*(?:[-+]?\d+(?:\.\d*)?|'(?:[^']|'')*'))*)", re.IGNORECASE
)
LITERAL_ARGUMENT = re.compile(r"\s*,\s*([-+]?\d+(?:\.\d*)?|'(?:[^']|'')*')")


def literal_printf_too_wide(sql: str) -> bool:
    """A printf/format call written with a literal format (and literal arguments) whose width or
    precision is above the bound: refused before the query runs at all. The call-time guard
    (BoundedPrintf) stays the bound for everything computed while the query runs."""
    for match in LITERAL_CALL.finditer(sql or ""):
        arguments = [match.group(1).replace("''", "'")]
        for literal in LITERAL_ARGUMENT.findall(match.group(2)):
            arguments.append(
                literal[1:-1].replace("''", "'")
                if literal.startswith("'")
                else float(literal)
                if "." in literal
                else int(literal)
            )

        def as_integer(value):
            if isinstance(value, (int, float)):
                return int(value)
            found = re.match(r"\s*[-+]?\d+", value or "")
            return int(found.group()) if found else 0

        if any(width > PRINTF_BOUND for width in printf_widths(tuple(arguments), as_integer)):
            return True
    return False


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


@hookimpl
def prepare_connection(conn, database, datasette):
    if database == "_internal":
        return
    config = plugin_config(datasette).get("sql_guard", {})
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


def visitor_sql(scope) -> bool:
    """Only the parameter names matter; the values may be any bytes, valid UTF-8 or not."""
    names = (
        unquote_to_bytes(part.split(b"=", 1)[0].replace(b"+", b" "))
        for part in scope.get("query_string", b"").split(b"&")
    )
    return any(name in ADHOC_PARAMETERS for name in names)


def sql_gate(datasette):
    """In the stack (plugins/stack.py): the gate for visitor SQL."""
    config = plugin_config(datasette).get("sql_guard", {})
    concurrency = int(config.get("adhoc_concurrency", ADHOC_CONCURRENCY))
    queue_seconds = float(config.get("adhoc_queue_seconds", ADHOC_QUEUE_SECONDS))

    def wrap(app):
        gate = None  # made on first use, inside the server's event loop

        async def gated(scope, receive, send):
            nonlocal gate
            if scope["type"] != "http" or not visitor_sql(scope):
                return await app(scope, receive, send)
            if (
                not scope["path"].endswith(".db")
                and "." in scope["path"].rsplit("/", 1)[-1]
                and literal_printf_too_wide(sql_of(scope))
            ):
                body = json.dumps(
                    {"ok": False, "status": 400, "title": "Invalid SQL", "error": PRINTF_MESSAGE}
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [(b"content-type", b"application/json; charset=utf-8")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            gate = gate or asyncio.Semaphore(concurrency)
            try:
                await asyncio.wait_for(gate.acquire(), timeout=queue_seconds)
            except TimeoutError:
                body = json.dumps(
                    {
                        "ok": False,
                        "status": 429,
                        "title": "Too many queries",
                        "error": f"More than {concurrency} SQL queries are running; try again in a moment.",
                    }
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 429,
                        "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"retry-after", b"1")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            try:
                clarified = printf_message_clarified(send)
                if scope["path"].endswith(".csv"):
                    clarified = failed_csv_as_400(clarified, datasette, scope)
                await app(scope, receive, clarified)
            finally:
                gate.release()

        return gated

    return wrap


def sql_of(scope) -> str:
    from urllib.parse import parse_qsl

    pairs = parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True)
    return " ".join(value for name, value in pairs if name in ("sql", "_where"))


def printf_message_clarified(send):
    """A 400 whose body carries Python's generic "user-defined function raised exception" (only the
    guarded functions raise on these connections) is sent with GUARD_MESSAGE instead, in
    whatever format the body is (JSON, the HTML SQL page, CSV's JSON error)."""
    held: list = []
    body: list[bytes] = []

    async def clarified(message):
        if message["type"] == "http.response.start" and message["status"] == 400:
            held.append(message)
            return
        if not held or message["type"] != "http.response.body":
            return await send(message)
        body.append(message.get("body", b""))
        if message.get("more_body"):
            return
        data = b"".join(body).replace(UDF_RAISED, GUARD_MESSAGE.encode())
        start = held.pop()
        headers = [
            (k, str(len(data)).encode() if k.lower() == b"content-length" else v) for k, v in start.get("headers", [])
        ]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    return clarified


def failed_csv_as_400(send, datasette, scope):
    """Datasette 0.65.5 answers the CSV of an ad-hoc query that fails (a syntax error, a denied
    function, printf beyond its bound) with 200 and an empty body: the query view keeps the error
    and the CSV writer finds no columns. Every result has at least one column, so a CSV query
    answer with no heading row is such a failure: it is sent as the JSON 400 every other CSV
    error gets, with SQLite's message (the query is run once more, with the same limits, to get it)."""
    held: list = []
    body: list[bytes] = []

    async def checked(message):
        if message["type"] == "http.response.start" and message["status"] == 200 and not held:
            held.append(message)
            return
        if not held or message["type"] != "http.response.body":
            return await send(message)
        body.append(message.get("body", b""))
        data = b"".join(body)
        if data.strip() and held[0] is not None:  # a real result: let it stream
            await send(held[0])
            held[0] = None
            body.clear()
            return await send({**message, "body": data})
        if held[0] is None:
            return await send(message)
        if message.get("more_body"):
            return
        error = await query_error(datasette, scope)
        if error is None:  # an empty result after all (?_header=off and no rows)
            await send(held[0])
            return await send({**message, "body": data})
        payload = json.dumps({"ok": False, "error": error, "status": 400, "title": "Invalid SQL"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", b"application/json; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    return checked


async def query_error(datasette, scope) -> str | None:
    from urllib.parse import parse_qsl

    arguments = dict(parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True))
    database = scope["path"].strip("/").rsplit(".", 1)[0]
    try:
        await datasette.get_database(database).execute(arguments.get("sql", ""), arguments)
    except Exception as error:  # the message is the answer
        return str(error) if UDF_RAISED.decode() not in str(error) else GUARD_MESSAGE
    return None
