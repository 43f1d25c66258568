"""Friendly explanations of a mistyped query in the SQL editor, in Dutch or English.

Datasette's own message stays on the page; beside it, a plain explanation and a hint:
- an unknown table or column: "did you mean ..." from the real names (difflib), with the tables;
- a syntax error: the token SQLite stopped at, or that the statement ends too early;
- the time limit (1 s), a denied function, a result too large, a statement that is not a SELECT;
- 429 from plugins/sql_guard.py (too many queries at once): wait and retry, as an HTML page.
The query page (templates/query.html) calls `explain_sql_error(message)`; the errors Datasette
raises instead of rendering the query page (time limit, not a SELECT) are answered here with
templates/sql_error.html, which keeps the visitor's SQL in an editor. The wording is in
the message catalogues (locale/, English in error_strings).
"""

from __future__ import annotations

import difflib
import json
import re

from datasette import hookimpl
from datasette.utils.asgi import Request, Response
from datasette.views.base import DatasetteError

from serve.i18n import gettext
from serve.shared import DATABASE, language_of

EDITOR_PATH = f"/{DATABASE}"


def error_strings(lang: str) -> dict[str, str]:
    """The explanations, in `lang` (locale/); {name} and {token} are filled in by explain()."""
    return {
        "error_unknown_table": gettext("There is no table “{name}”.", lang),
        "error_unknown_column": gettext("There is no column “{name}”.", lang),
        "error_syntax": gettext(
            "The SQL has a typing error at “{token}”: check that word and what comes before it (commas, brackets, quotes).",
            lang,
        ),
        "error_syntax_end": gettext(
            "The SQL ends unexpectedly: is a bracket, a quote or the last part of the statement missing?", lang
        ),
        "error_time_limit": gettext(
            "The query took longer than the 1 second limit and was stopped. Return fewer rows (WHERE, LIMIT) or avoid combining large tables without a condition.",
            lang,
        ),
        "error_printf": gettext(
            "printf and format work as in SQLite, with widths and precisions up to 1000 (e.g. printf('%.1f', fte)). A larger width or precision is refused, to keep the server available for everyone.",
            lang,
        ),
        "error_denied": gettext(
            "This function is switched off on this public server (to keep the server available for everyone).", lang
        ),
        "error_too_large": gettext(
            "The result is too large for this server. Select fewer rows (WHERE, LIMIT) or fewer columns.", lang
        ),
        "error_not_select": gettext(
            "Only queries that read data are allowed: the SQL must start with SELECT (or WITH). Is that first word spelled right?",
            lang,
        ),
        "error_other": gettext(
            "Check the names of the tables and columns and the order of the clauses (SELECT … FROM … WHERE … ORDER BY …).",
            lang,
        ),
        "error_busy": gettext("Too many queries are running at this moment. Wait a few seconds and try again.", lang),
    }


async def schema(datasette) -> dict[str, list[str]]:
    db = datasette.get_database(DATABASE)
    names = await db.table_names() + await db.view_names()
    return {name: await db.table_columns(name) for name in names if not name.startswith(("sqlite_", "_"))}


def close(name: str, candidates) -> list[str]:
    lowered = {c.lower(): c for c in candidates}
    return [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)]


def tables_in(sql: str, tables) -> list[str]:
    """The known tables named after FROM or JOIN in `sql`."""
    named = {m.lower() for m in re.findall(r"\b(?:from|join)\s+[\"`\[]?(\w+)", sql or "", flags=re.IGNORECASE)}
    return [t for t in tables if t.lower() in named]


def explain(message: str, strings: dict, tables: dict[str, list[str]], sql: str = "") -> dict:
    """{"text": explanation, "suggestions": [names], "tables": [names], "columns_of": {table: [columns]}}
    for an error message of SQLite or Datasette."""
    message = str(message or "")
    visible_tables = sorted(t for t in tables if "_fts" not in t)
    if m := re.search(r"no such table: (?:main\.)?(\S+)", message):
        name = m.group(1)
        return {
            "text": strings["error_unknown_table"].format(name=name),
            "name": name,
            "suggestions": close(name, visible_tables),
            "tables": visible_tables,
        }
    if m := re.search(r"no such column: (\S+)", message):
        name = m.group(1).rsplit(".", 1)[-1]
        used = tables_in(sql, tables)
        columns = sorted({c for t in (used or tables) for c in tables[t]})
        return {
            "text": strings["error_unknown_column"].format(name=name),
            "name": name,
            "suggestions": close(name, columns),
            "tables": [],
            "columns_of": {t: tables[t] for t in used},
        }
    if m := re.search(r'(?:near|unrecognized token:) "(.+)"', message):
        return {"text": strings["error_syntax"].format(token=m.group(1)), "suggestions": [], "tables": []}
    if "incomplete input" in message:
        return {"text": strings["error_syntax_end"], "suggestions": [], "tables": []}
    if "took too long" in message or "interrupted" in message.lower():
        return {"text": strings["error_time_limit"], "suggestions": [], "tables": []}
    if "printf/format" in message:
        return {"text": strings.get("error_printf", message), "suggestions": [], "tables": []}
    if "not authorized" in message:
        return {"text": strings["error_denied"], "suggestions": [], "tables": []}
    if "too large" in message:
        return {"text": strings["error_too_large"], "suggestions": [], "tables": []}
    if "must be a SELECT" in message:
        return {"text": strings["error_not_select"], "suggestions": [], "tables": []}
    return {"text": strings["error_other"], "suggestions": [], "tables": []}


@hookimpl
def extra_template_vars(template, request, datasette):
    if template != "query.html":
        return {}
    strings = error_strings(language_of(request))

    async def explain_sql_error(message, sql=""):
        return explain(message, strings, await schema(datasette), sql)

    return {"explain_sql_error": explain_sql_error}


def editor_request(request) -> bool:
    """The HTML SQL editor: /drugbeleid?sql=... (not .json, .csv or another format)."""
    return request is not None and request.path == EDITOR_PATH and "sql" in request.args


@hookimpl(tryfirst=True)
def handle_exception(datasette, request, exception):
    """Time limit and "not a SELECT" are raised, not rendered on the query page: answer them with
    the friendly page, keeping the visitor's SQL. Every other error goes to Datasette/errors.py."""
    if not editor_request(request) or not isinstance(exception, DatasetteError):
        return None
    if exception.title not in ("SQL Interrupted", "Invalid SQL"):
        return None

    async def page():
        strings = error_strings(language_of(request))
        # the time-limit message is HTML with the SQL in a <textarea>: keep only its sentence, as text
        message = " ".join(re.sub(r"<[^>]+>", "", str(exception.message).split("<textarea")[0]).split())
        help = explain(message, strings, await schema(datasette), request.args["sql"])
        html = await datasette.render_template(
            "sql_error.html",
            {"sql": request.args["sql"], "message": f"{exception.title}: {message}", "help": help},
            request=request,
        )
        return Response.html(html, status=exception.status)

    return page


def busy_page(datasette):
    """sql_guard answers a visitor's query beyond its limit with a JSON 429 before Datasette runs;
    in the browser's SQL editor that becomes a page saying to wait and retry (still a 429)."""

    def wrap(app):
        async def friendly(scope, receive, send):
            if scope["type"] != "http" or scope["path"] != EDITOR_PATH:
                return await app(scope, receive, send)
            held = {}

            async def checked(event):
                if event["type"] == "http.response.start" and event["status"] == 429:
                    held["start"] = event
                    return
                if "start" in held and event["type"] == "http.response.body":
                    # outside Datasette's app the scope has no CSRF token, which render_template reads
                    request = Request({**scope, "csrftoken": lambda: ""}, receive)
                    strings = error_strings(language_of(request))
                    await datasette.invoke_startup()  # done once; a refused request may be the first
                    html = await datasette.render_template(
                        "sql_error.html",
                        {
                            "sql": request.args.get("sql", ""),
                            "message": json.loads(event.get("body") or b"{}").get("error", ""),
                            "help": {"text": strings["error_busy"], "suggestions": [], "tables": []},
                        },
                        request=request,
                    )
                    headers = [
                        (k, v)
                        for k, v in held["start"]["headers"]
                        if k.lower() not in (b"content-type", b"content-length")
                    ]
                    await send({**held["start"], "headers": headers + [(b"content-type", b"text/html; charset=utf-8")]})
                    await send({"type": "http.response.body", "body": html.encode("utf-8")})
                    return
                await send(event)

            await app(scope, receive, checked)

        return friendly

    return wrap
