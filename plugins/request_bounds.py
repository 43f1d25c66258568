"""The cost of a page, bounded by its request: what makes a body large is refused or capped before
Datasette runs.

Datasette builds a JSON or HTML body whole, in memory, and several parts of a table page repeat
the request's query string: every facet value carries a toggle URL holding it, every column
heading a sort link. The body of a page therefore grows with (facets x facet size + columns) x
the length of the query string. Each factor is bounded here:
- identical repeated parameters (the same name and value twice) count once: the duplicates are
  dropped from the query string before Datasette reads it;
- at most MAX_FACETS distinct facets (_facet, _facet_array, _facet_date together): 400 naming
  the parameter beyond that;
- _facet_size at most MAX_FACET_SIZE (`max` and larger numbers mean MAX_FACET_SIZE, as Datasette
  itself caps them at max_returned_rows);
- the query string at most MAX_QUERY_BYTES on every page, except visitor SQL (?sql=) on a
  database's query page, which repeats its query string a fixed number of times and may carry
  SQL up to SQLite's SQL length limit: MAX_SQL_QUERY_BYTES there; 414 beyond;
- no rendering chosen by the visitor: datasette-atom cleans a query's atom_content_html column
  with an HTML parser, seconds for a long value, so an Atom feed is offered for the site's own
  feeds (canned queries) and tables, not for visitor SQL (?sql=): 400. (datasette-render-markdown
  renders no column at all: its patterns are empty in metadata.yml.)
- rows per page: Datasette's own max_returned_rows (serve/settings.json) and the SQL guard's
  result budget (plugins/sql_guard.py) bound them.
docs/security.md gives the largest body any URL can produce with these figures, measured.

`wrap(app, datasette=None)` is a plain ASGI wrapper. It belongs outside the response cache (so
the cache key is the canonical query string and a refused request costs nothing) and inside the
read-only method check; until the explicit middleware stack exists, the asgi_wrapper hook below
places it with the other plugins' wrappers.
"""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

from datasette.utils.asgi import Request

MAX_FACETS = 10
MAX_FACET_SIZE = 50
MAX_QUERY_BYTES = 4_096
MAX_SQL_QUERY_BYTES = 16_384  # nginx's request line limit (deploy/nginx.conf) is 16 KB as well
FACET_PARAMETERS = ("_facet", "_facet_array", "_facet_date")


def decoded(raw: bytes) -> str:
    return unquote_plus(raw.decode("latin-1"), encoding="utf-8", errors="replace")


def parameters(query_string: bytes) -> list[tuple[bytes, str, str]]:
    """(raw pair, decoded name, decoded value) for each &-separated pair, as Datasette reads them."""
    pairs = []
    for raw in query_string.split(b"&"):
        if not raw:
            continue
        name, _, value = raw.partition(b"=")
        pairs.append((raw, decoded(name), decoded(value)))
    return pairs


def is_query_page(path: str) -> bool:
    """/<database> or /<database>.<format>: the page where ?sql= runs visitor SQL."""
    return path.count("/") == 1 and not path.startswith("/-/")


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def bounded_query_string(path: str, query_string: bytes) -> bytes:
    """The query string Datasette gets: duplicates dropped, the facet size capped; or Refused."""
    pairs = parameters(query_string)
    has_sql = any(name == "sql" for _, name, _ in pairs)
    if has_sql and path.endswith(".atom"):
        raise Refused(
            400,
            "Invalid parameter sql: an Atom feed is offered for the site's own feeds and tables, "
            "not for visitor SQL; ask for .json or .csv instead.",
        )
    limit = MAX_SQL_QUERY_BYTES if has_sql and is_query_page(path) else MAX_QUERY_BYTES
    if len(query_string) > limit:
        raise Refused(
            414,
            f"The query string is {len(query_string):,} bytes long; this page takes at most {limit:,} "
            f"(visitor SQL on a database's query page: {MAX_SQL_QUERY_BYTES:,}).",
        )
    seen: set[tuple[str, str]] = set()
    kept: list[bytes] = []
    facets: dict[str, None] = {}
    for raw, name, value in pairs:
        if (name, value) in seen:
            continue
        seen.add((name, value))
        if name in FACET_PARAMETERS:
            facets[f"{name}={value}"] = None
        if name == "_facet_size" and (value == "max" or (value.isdigit() and int(value) > MAX_FACET_SIZE)):
            raw = b"_facet_size=" + str(MAX_FACET_SIZE).encode()
        kept.append(raw)
    if len(facets) > MAX_FACETS:
        name = next(reversed(facets)).split("=", 1)[0]
        raise Refused(
            400,
            f"Invalid parameter {name}: {len(facets)} different facets requested "
            f"({', '.join(FACET_PARAMETERS)} together); at most {MAX_FACETS} per request.",
        )
    return b"&".join(kept)


def wants_json(scope) -> bool:
    path = scope["path"]
    if path.endswith((".json", ".csv")) or "." in path.rsplit("/", 1)[-1]:
        return True
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    return b"application/json" in accept and b"text/html" not in accept


async def refuse(scope, receive, send, refused: Refused, datasette=None):
    payload = {
        "ok": False,
        "error": refused.message,
        "status": refused.status,
        "title": "Request too large" if refused.status == 414 else "Invalid parameter",
    }
    if datasette is not None and not wants_json(scope):
        html = await datasette.render_template(
            ["error.html"], payload, request=Request({**scope, "csrftoken": lambda: ""}, receive)
        )
        body, content_type = html.encode("utf-8"), b"text/html; charset=utf-8"
    else:
        body, content_type = json.dumps(payload).encode("utf-8"), b"application/json; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": refused.status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def wrap(app, datasette=None):
    """The site's app with each request's cost bounded (see the module's docstring). With
    `datasette`, a refused HTML page is rendered by the site's error template; else JSON."""

    async def bounded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        query_string = scope.get("query_string", b"")
        try:
            canonical = bounded_query_string(scope["path"], query_string) if query_string else query_string
        except Refused as refused:
            return await refuse(scope, receive, send, refused, datasette)
        if canonical != query_string:
            scope = {**scope, "query_string": canonical}
        return await app(scope, receive, send)

    return bounded


def request_bounds(datasette):
    """In the stack (plugins/stack.py), inside the header wrappers: its 400 and 414 carry them."""
    return lambda app: wrap(app, datasette)
