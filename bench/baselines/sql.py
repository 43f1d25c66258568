"""The SQL baseline of `make bench`: a bare ASGI app that runs, per benchmarked URL, the main SQL the
site's page needs with the standard library's sqlite3 on the same database, and serialises the rows
as JSON, CSV or a plain HTML table. It measures the SQL plus the cheapest possible serialisation.

BENCH_DB is the database; BENCH_SQL_ROUTES names a JSON file
{"<path>?<query>": {"format": "json|csv|html", "queries": {"rows": [sql, params], "count": ...}}}:
the "rows" query gives the rows; every other named query is added to the JSON as a list of rows.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import sqlite3

from bench.baselines.asgi import lifespan, request_key

ROUTES = json.loads(open(os.environ["BENCH_SQL_ROUTES"], encoding="utf-8").read())
# read-only and immutable, as Datasette opens it with -i
DB = sqlite3.connect(f"file:{os.environ['BENCH_DB']}?immutable=1", uri=True, check_same_thread=False)
CONTENT_TYPES = {
    "json": b"application/json; charset=utf-8",
    "csv": b"text/plain; charset=utf-8",
    "html": b"text/html; charset=utf-8",
}


def run(sql: str, params) -> tuple[list[str], list[tuple]]:
    cursor = DB.execute(sql, params)
    return [d[0] for d in cursor.description], cursor.fetchall()


def render(route: dict) -> bytes:
    results = {name: run(*query) for name, query in route["queries"].items()}
    columns, rows = results.pop("rows")
    if route["format"] == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
        return out.getvalue().encode()
    if route["format"] == "html":
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
        return f"<!DOCTYPE html><table><tr>{head}</tr>{body}</table>".encode()
    document = {"columns": columns, "rows": [dict(zip(columns, row)) for row in rows]}
    document.update({name: [dict(zip(cols, row)) for row in found] for name, (cols, found) in results.items()})
    return json.dumps(document, ensure_ascii=False).encode()


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(receive, send)
    route = ROUTES.get(request_key(scope))
    status, content_type, body = (
        (200, CONTENT_TYPES[route["format"]], render(route)) if route else (404, b"text/plain", b"no route\n")
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
