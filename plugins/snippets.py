"""Code that loads exactly the data of a page: curl, Python with pandas (defining `df`), R,
JavaScript `fetch` and DuckDB SQL, written here once for every page that shows them
(templates/_code_snippets.html): table pages, canned queries (the feeds), the example questions
and visitor-query pages.

The snippets use the stable URLs: the CSV (curl, pandas, R, DuckDB) and the JSON as an array of
objects (JavaScript), both with `_size=max`. A whole table uses the released CSV (/data/<table>.csv),
and a pinned variant its release's versioned URL (/releases/<version>/data/<table>.csv), whose
content never changes. URLs are absolute, from the public base URL.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from datasette import hookimpl

from serve import shared

# Parameters that do not change which rows a URL gives.
PRESENTATION = {
    "_lang",
    "_dl",
    "_size",
    "_next",
    "_shape",
    "_labels",
    "_nocount",
    "_nofacet",
    "_facet",
    "_facet_size",
    "_trace",
    "_col",
    "_nocol",
}
TEMPLATES = {"table.html", "query.html"}


def code(csv_url: str, json_url: str, name: str) -> list[dict]:
    """The snippets for one CSV URL and its JSON twin: [{"language", "label", "code"}]."""
    return [
        {"language": "shell", "label": "curl", "code": f'curl -fsSL "{csv_url}" -o {name}.csv'},
        {
            "language": "python",
            "label": "Python (pandas)",
            # only an empty cell is missing: pandas and R would also read the text "NA" (an abbreviation here) as missing
            "code": f'import pandas as pd\n\ndf = pd.read_csv("{csv_url}", keep_default_na=False, na_values=[""])',
        },
        {"language": "r", "label": "R", "code": f'df <- read.csv("{csv_url}", encoding = "UTF-8", na.strings = "")'},
        {
            "language": "javascript",
            "label": "JavaScript (fetch)",
            "code": f'const response = await fetch("{json_url}");\nconst rows = await response.json();\nconsole.table(rows.slice(0, 5));',
        },
        {
            "language": "sql",
            "label": "DuckDB",
            "code": f"INSTALL httpfs;\nLOAD httpfs;\nSELECT * FROM read_csv_auto('{csv_url}');",
        },
    ]


def snippets(datasette, request, path: str, pairs: list[tuple[str, str]], table: str | None = None) -> dict:
    """Snippets for the rows of `path` (a table or query URL without its format) with `pairs`.
    `table`: a table shown whole, loaded from its released CSV (and pinned to its release)."""
    base = shared.public_base_url(datasette, request)
    kept = [(k, v) for k, v in pairs if k not in PRESENTATION]
    name = table or path.rstrip("/").rsplit("/", 1)[-1] or shared.DATABASE

    def url(extension: str, extra: list[tuple[str, str]]) -> str:
        query = urlencode(kept + extra)
        return f"{base}{path.lstrip('/')}.{extension}" + (f"?{query}" if query else "")

    json_url = url("json", [("_shape", "array"), ("_size", "max")])
    whole = table and not kept and (shared.release_dir(datasette) / "data" / f"{table}.csv").is_file()
    csv_url = f"{base}data/{table}.csv" if whole else url("csv", [("_size", "max")])
    found = {"snippets": code(csv_url, json_url, name), "pinned": None}
    if whole:
        version = shared.data_version(datasette)
        pinned_csv = f"{base}releases/{version}/data/{table}.csv"
        found["pinned"] = {
            "version": version,
            "snippets": [s for s in code(pinned_csv, json_url, name) if s["language"] != "javascript"],
        }
    return found


def from_url(datasette, request, url: str) -> dict:
    """Snippets for a site URL of a CSV or JSON (an example question's links)."""
    parts = urlsplit(url)
    path = parts.path.rsplit(".", 1)[0] if parts.path.endswith((".csv", ".json")) else parts.path
    return snippets(datasette, request, path, parse_qsl(parts.query, keep_blank_values=True))


@hookimpl
def extra_template_vars(template, request, datasette, view_name):
    """`page_snippets` on table and query pages; `code_snippets(url)` on every page (examples)."""
    if request is None:
        return {}
    found = {"code_snippets": lambda url: from_url(datasette, request, url)}
    if template in TEMPLATES:
        pairs = [(k, v) for k in request.args for v in request.args.getlist(k)]
        database = request.url_vars.get("database", shared.DATABASE)
        table = request.url_vars.get("table")
        if table:
            is_table = view_name == "table"
            found["page_snippets"] = snippets(
                datasette, request, f"/{database}/{table}", pairs, table if is_table else None
            )
        elif request.args.get("sql"):
            found["page_snippets"] = snippets(datasette, request, f"/{database}", pairs)
    return found
