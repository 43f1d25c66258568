"""Clean 4xx JSON errors where Datasette 0.65.5 answers a bad request with a 500.

The site is read-only, so every method but GET, HEAD and OPTIONS is refused with 405 before
Datasette sees it (Datasette answers TRACE, and POST to a table or canned query, with a 500).
Requests Datasette cannot answer are turned into 400 or 404; a real server fault stays a 500.
"""

from __future__ import annotations

import json
import re
import sqlite3

from datasette import hookimpl
from datasette.handle_exception import handle_exception as default_handle_exception
from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError
from markupsafe import Markup

READ_METHODS = ("GET", "HEAD", "OPTIONS")
# Datasette's own pages under /-/ (log out, messages, permission debugging) post forms.
FORM_METHODS = READ_METHODS + ("POST",)


def allowed_methods(path: str) -> tuple[str, ...]:
    return FORM_METHODS if path.startswith("/-/") else READ_METHODS


def read_only(datasette):
    """In the stack (plugins/stack.py): 405 for a method the site does not take."""

    def wrap(app):
        async def read_only(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            allowed = allowed_methods(scope["path"])
            if scope["method"] not in allowed:
                await Response.json(
                    {"ok": False, "error": f"Method {scope['method']} not allowed", "status": 405, "title": None},
                    status=405,
                    headers={"Allow": ", ".join(allowed)},
                ).asgi_send(send)
                return
            if b"_shape=" in scope.get("query_string", b""):
                send = error_status_fixed(send)
            await app(scope, receive, send)

        return read_only

    return wrap


def error_status_fixed(send):
    """Datasette answers ?_shape= it cannot honour (object without a primary key, an unknown
    shape for a query) with 200 and an error body; send those with 400."""
    held = []

    async def checked_send(message):
        if message["type"] == "http.response.start" and message["status"] == 200:
            held.append(message)
            return
        if held and message["type"] == "http.response.body":
            if not message.get("more_body") and message.get("body", b"").startswith(b'{"ok": false'):
                held[0] = {**held[0], "status": 400}
            await send(held.pop())
        await send(message)

    return checked_send


SQLITE_INTEGER = (-(2**63), 2**63 - 1)
INTEGER = re.compile(r"[-+]?\d+")
FACET_PARAMETERS = ("_facet", "_facet_array", "_facet_date")
# What Datasette raises when a parameter it passes on unchecked cannot be used: an integer SQLite
# cannot bind (OverflowError), a facet configuration that is not {"simple": "<column>"} (KeyError,
# TypeError, AttributeError inside the facet code).
PARAMETER_FAULTS = (OverflowError, KeyError, TypeError, AttributeError, IndexError)


def integers_in(value: str):
    """The integers a parameter value holds as Datasette reads it: the value itself, or the items
    of a JSON list (column__in=[...])."""
    if INTEGER.fullmatch(value.strip()):
        yield int(value.strip())
    elif value.lstrip().startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return
        if isinstance(items, list):
            yield from (item for item in items if isinstance(item, int) and not isinstance(item, bool))
    else:
        yield from (int(part) for part in value.split(",") if INTEGER.fullmatch(part.strip()))


def facet_problem(value: str) -> str | None:
    """Why a facet parameter cannot be used, or None: a column name, or the JSON form {"simple": "<column>"}."""
    if not value.lstrip().startswith("{"):
        return None
    try:
        config = json.loads(value)
    except ValueError:
        return "is neither a column name nor valid JSON"
    if not (isinstance(config, dict) and isinstance(config.get("simple"), str)):
        return 'must be a column name, or {"simple": "<column>"} in JSON'
    return None


def through_problem(value: str) -> str | None:
    """Why a _through value cannot be used, or None: Datasette reads it as {"table", "column", "value"} in JSON."""
    try:
        through = json.loads(value)
    except ValueError:
        return "is not valid JSON"
    if not (
        isinstance(through, dict)
        and isinstance(through.get("table"), str)
        and isinstance(through.get("column"), str)
        and "value" in through
    ):
        return 'must be {"table": "<table>", "column": "<column>", "value": <value>} in JSON'
    return None


def unusable_parameters(request) -> list[str]:
    """One message per request parameter SQLite or Datasette cannot take, naming the parameter.
    This is the one place that says which parameter values are unusable; it is asked whenever
    Datasette fails on a request, in every format (JSON, CSV, HTML)."""
    problems = []
    for name, value in ((key, value) for key in request.args for value in request.args.getlist(key)):
        if any(not SQLITE_INTEGER[0] <= n <= SQLITE_INTEGER[1] for n in integers_in(value)):
            problems.append(
                f"{name}: the integer is too large for SQLite (it takes {SQLITE_INTEGER[0]} to {SQLITE_INTEGER[1]})"
            )
        elif name in FACET_PARAMETERS and (why := facet_problem(value)):
            problems.append(f"{name}: {value[:60]!r} {why}")
        elif name == "_through" and (why := through_problem(value)):
            problems.append(f"{name}: {value[:60]!r} {why}")
    return problems


# A value SQLite's date() does not give back as the date it is: a year or a month alone ('2013',
# '2013-05'), a number (read as a Julian day: date(2013) is '-4707-05-29'), any other text.
NOT_A_DATE = "select [{column}] from [{table}] where [{column}] is not null and date([{column}]) is not substr([{column}], 1, 10) limit 1"


async def misread_dates(datasette, request, database: str, table: str) -> list[str]:
    """One message per `_facet_date` column holding values that are not full dates: Datasette's date
    facet groups by date(column), so it would show dates the data does not have ('-4707-05-29' for
    the year 2013) and drop the months. (CSV has no facets.)"""
    problems = []
    for column in request.args.getlist("_facet_date"):
        if column.lstrip().startswith("{"):
            continue  # the JSON form: facet_problem's
        try:
            found = await datasette.get_database(database).execute(
                NOT_A_DATE.format(table=table.replace("]", ""), column=column.replace("]", ""))
            )
        except Exception:  # an unknown column: Datasette answers it
            continue
        for row in found.rows[:1]:
            problems.append(
                f"_facet_date={column}: {table}.{column} holds values that are not full dates, such as "
                f"{row[0]!r}; a date facet would read them as other dates. Facet by the value instead: _facet={column}"
            )
    return problems


@hookimpl
def filters_from_request(request, database, table, datasette):
    """Not a filter: the one table-request hook that runs before Datasette's queries, so a facet
    parameter that would give wrong values is refused (400, naming it) in every format that has facets."""
    if "_facet_date" not in request.args or request.path.endswith(".csv"):
        return None

    async def inner():
        if problems := await misread_dates(datasette, request, database, table):
            raise DatasetteError("Invalid parameter " + "; ".join(problems), status=400)
        return None

    return inner


def client_error(request, exception) -> tuple[int, str] | None:
    """(status, message) when the request, not the server, is at fault; None otherwise."""
    url_vars = request.url_vars or {}
    if isinstance(exception, (*PARAMETER_FAULTS, ValueError)) and (problems := unusable_parameters(request)):
        return 400, "Invalid parameter " + "; ".join(problems)
    if isinstance(exception, DatasetteError) and exception.status == 500:
        # Raised for a request Datasette cannot answer (_sort by an unknown column, _sort with
        # _sort_desc) with its status left at the default 500.
        return 400, exception.message
    if isinstance(exception, ValueError) and request.args:
        # A parameter Datasette parses without checking: _timelimit=abc (int), column__in=[ (JSON).
        return 400, f"Invalid parameter value: {exception}"
    if isinstance(exception, sqlite3.ProgrammingError):
        if "pks" in url_vars:  # a row URL with fewer key values than the primary key has columns
            return 404, "Record not found"
        if request.args:  # a parameter name that becomes a column name, with a NUL character in it
            return 400, f"Invalid parameter: {exception}"
    if (
        isinstance(exception, KeyError)
        and "table" not in url_vars
        and "database" in url_vars
        and not request.args.get("sql")
    ):
        # /db.csv, or /db.json?_shape=array: only the result of a query has rows.
        return 400, "This format needs a query: add ?sql=select ..."
    return None


SERVER_FAULT = "Internal server error"


def is_client_error(exception) -> bool:
    return isinstance(exception, (Base400, DatasetteError)) and 400 <= exception.status < 500


def error_page(datasette, request, status: int, message, title):
    """The HTML error page, rendered with the request (Datasette's own rendering has none), so that
    it is in the page's language like every other page (templates/error.html)."""

    async def inner():
        context = {"ok": False, "error": message, "status": status, "title": title}
        html = await datasette.render_template([f"{status}.html", "error.html"], context, request=request)
        return Response.html(html, status=status)

    return inner


@hookimpl
def handle_exception(datasette, request, exception):
    fixed = client_error(request, exception)
    if fixed is None and not is_client_error(exception):
        # A real server fault: its message (logged by error_logging.py) may name a file of the server,
        # so the visitor gets the status and no detail.
        fixed = 500, SERVER_FAULT
    status, message = fixed or (exception.status, getattr(exception, "message", None) or str(exception))
    if fixed is None and getattr(exception, "message_is_html", False):
        message = Markup(message)
    title = getattr(exception, "title", None)
    if request.path.endswith((".csv", ".xlsx")):  # CSV and Excel clients are programs: a JSON error, not an HTML page
        return Response.json({"ok": False, "error": str(message), "status": status, "title": title}, status=status)
    if request.path.endswith(".json"):  # Datasette's own JSON error, with the right status
        return default_handle_exception(datasette, request, DatasetteError(message, status=status, title=title))
    return error_page(datasette, request, status, message, title)
