"""Guard for public SQL: no single query may hold a thread past the time limit, or return a flood.

What each connection allows (limits, guarded printf and costly built-ins, authorizer, row budget,
time limit) is in serve/sql_limits.py, shared with the processes that run visitor SQL
(serve/query_processes.py). Here:
- prepare_connection applies it to the server's own connections;
- a gate: at most ADHOC_CONCURRENCY visitor-written queries (?sql=, _where=) run at once per
  worker; the others wait up to ADHOC_QUEUE_SECONDS, then get 429. Each query runs up to the time
  limit, and on 2 cores more than two of them at once starve ordinary page requests of CPU.
  Behind the gate the request's queries run in killable processes (serve/query_processes.py);
- a printf width written literally in the SQL is refused before the query runs at all.
The figures are configured in metadata.yml (plugins.drugbeleid.sql_guard) and served in
/-/metadata.json; the defaults apply when a figure is not set.
"""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import unquote_to_bytes

from datasette import hookimpl

from serve.query_processes import visitor_queries
from serve.shared import plugin_config
from serve.sql_limits import (
    ADHOC_CONCURRENCY,
    GUARD_MESSAGE,
    PRINTF_BOUND,
    PRINTF_MESSAGE,
    guard_connection,
    printf_widths,
)

ADHOC_QUEUE_SECONDS = 3.0
ADHOC_PARAMETERS = (b"sql", b"_where")
# What Python's sqlite3 answers whenever a function written in Python raises; on these connections
# only the guarded built-ins raise, so the message is replaced by GUARD_MESSAGE (see sql_gate).
UDF_RAISED = b"user-defined function raised exception"


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


@hookimpl
def prepare_connection(conn, database, datasette):
    if database == "_internal":
        return
    guard_connection(conn, plugin_config(datasette).get("sql_guard", {}))


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
                with visitor_queries():  # this request's queries run in killable processes
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
