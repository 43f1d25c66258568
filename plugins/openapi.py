"""OpenAPI 3.1 description at /openapi.json and a readable page of it at /api.

Both are generated from what is served: the live database schema (tables, columns, SQLite types,
primary keys, full-text search), Datasette's own filter list and the metadata (titles,
descriptions, licence, canned queries). Nothing about a table is written here, so the description
stays true when a column or a table is added. The database is immutable and the metadata fixed for
the life of the process, so the description is made once per process and data version (it took
~2.5 s for 1.4 MB) and its JSON text served from memory.
"""

from __future__ import annotations

import json
import weakref
from pathlib import Path

from datasette import hookimpl
from datasette.filters import Filters
from datasette.utils import derive_named_parameters, escape_sqlite, tilde_encode
from datasette.utils.asgi import Response

from serve import shared
from serve.shared import labels as schema_labels

DATABASE = shared.DATABASE
API_TEMPLATE = Path(__file__).parent / "templates" / "api.html"

# Datasette 0.65's row shapes (?_shape=) and what each returns.
TABLE_SHAPES = ["arrays", "objects", "array", "arrayfirst", "object"]
QUERY_SHAPES = ["arrays", "objects", "array", "arrayfirst"]  # object needs a primary key
CSV_TYPES = ["text/csv", "text/plain"]  # Datasette sends text/plain unless ?_dl=1


@hookimpl
def register_routes():
    return [
        (r"^/openapi\.json$", openapi_json),
        (r"^/api$", api_page),
    ]


# datasette -> (data version, spec, its JSON text); weak, so a Datasette that is gone (tests
# make many) takes its description with it.
DESCRIPTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def description(datasette) -> tuple[dict, str]:
    """The spec and its JSON text, made on the first request of a data version. Two first requests
    at once may both make it (the same result): simpler than a lock, and it happens once."""
    version = read_release(datasette.get_database(DATABASE)).get("version")
    made = DESCRIPTIONS.get(datasette)
    if made is None or made[0] != version:
        spec = await describe(datasette)
        made = DESCRIPTIONS[datasette] = (version, spec, json.dumps(spec))  # as Response.json writes it
    return made[1], made[2]


async def openapi_json(datasette, request):
    return Response((await description(datasette))[1], content_type="application/json; charset=utf-8")


async def api_page(datasette, request):
    spec = (await description(datasette))[0]
    template = datasette.jinja_env.from_string(API_TEMPLATE.read_text(encoding="utf-8"))
    context = {"spec": spec, "sections": sections_of(spec), "filters": [f.key for f in Filters._filters]}
    return Response.html(await datasette.render_template(template, context, request=request))


def sections_of(spec: dict) -> list[dict]:
    """The spec as the page shows it: per tag, the columns of its rows and its operations."""
    components = spec["components"]
    sections = {tag["name"]: {**tag, "columns": [], "operations": []} for tag in spec["tags"]}
    for name, section in sections.items():
        row = components["schemas"].get(f"{name}.row", {})
        section["columns"] = [
            {
                "name": column,
                "type": schema.get("x-sqlite-type", ""),
                "json": schema.get("type", "any"),
                "description": schema.get("description", ""),
            }
            for column, schema in row.get("properties", {}).items()
        ]
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            parameters = [p for p in operation.get("parameters", []) if "$ref" not in p]
            filters = [p for p in operation.get("parameters", []) if "$ref" in p]  # the per-column filters
            sections[operation["tags"][0]]["operations"].append(
                {
                    "path": path,
                    "method": method.upper(),
                    **operation,
                    "parameters": parameters,
                    "has_filters": bool(filters),
                }
            )
    return list(sections.values())


# ---------------------------------------------------------------- the description


async def describe(datasette) -> dict:
    db = datasette.get_database(DATABASE)
    release = read_release(db)
    site = datasette.metadata() or {}
    spec = {
        "openapi": "3.1.0",
        "info": {
            "title": site.get("title", DATABASE),
            "version": release.get("version", "unreleased"),
            "description": site.get("description_html", "") + ERRORS_NOTE,
            "license": {"name": site.get("license", ""), "url": site.get("license_url", "")},
        },
        "externalDocs": {"url": shared.source_url(datasette), "description": site.get("source", "")}
        if site.get("source_url")
        else None,
        "tags": [],
        "paths": {},
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "parameters": {},
            "responses": ERROR_RESPONSES,
            "headers": RESPONSE_HEADERS,
        },
    }
    if spec["externalDocs"] is None:
        del spec["externalDocs"]
    hidden = set(await db.hidden_table_names())
    for table in await db.table_names():
        if table not in hidden:
            await describe_table(datasette, db, table, spec)
    await describe_queries(datasette, db, spec)
    describe_database(datasette, db, spec)
    describe_downloads(release, [r["version"] for r in shared.recorded_releases(datasette)], spec)
    describe_search(datasette, release, spec)
    describe_reuse(datasette, release, [r["version"] for r in shared.recorded_releases(datasette)], spec)
    for methods in spec["paths"].values():  # every response carries an ETag (plugins/http_headers.py)
        for operation in methods.values():
            operation["responses"].update(error_refs("NotModified"))
    return spec


ERRORS_NOTE = (
    '<p lang="en">Errors are JSON objects <code>{"ok": false, "error": ..., "status": ...}</code> '
    "with a 4xx status: 400 for a parameter the server cannot use, 404 for an unknown table, row or file, "
    "405 (with an <code>Allow</code> header) for any method other than GET, HEAD and OPTIONS. "
    "Row values in paths use Datasette's tilde encoding (<code>~2C</code> for a comma in a key).</p>"
)


def read_release(db) -> dict:
    path = Path(db.path).resolve().parent / "release.json" if db.path else None
    if path and path.exists():
        return shared.release_in(path.parent)
    return {}


def value_schema(sqlite_type: str, nullable: bool) -> dict:
    """The JSON Schema of a column's values, from SQLite's type-affinity rules."""
    declared = (sqlite_type or "").upper()
    if "INT" in declared:
        kind = "integer"
    elif any(word in declared for word in ("CHAR", "CLOB", "TEXT")):
        kind = "string"
    elif any(word in declared for word in ("REAL", "FLOA", "DOUB")) or declared.startswith("NUM") or "DEC" in declared:
        kind = "number"
    elif "BLOB" in declared:  # Datasette's JSON encoding of binary values
        return {
            "type": ["object", "null"] if nullable else "object",
            "properties": {"$base64": {"const": True}, "encoded": {"type": "string"}},
        }
    else:
        return {}
    return {"type": [kind, "null"] if nullable else kind}


async def table_columns(db, table: str) -> tuple[list[dict], list[str]]:
    """(columns as served, primary key); a table without one is keyed and served with its rowid."""
    details = [c for c in await db.table_column_details(table) if not c.hidden]
    primary_key = [c.name for c in sorted((c for c in details if c.is_pk), key=lambda c: c.is_pk)]
    columns = [{"name": c.name, "type": c.type, "nullable": not (c.notnull or c.is_pk)} for c in details]
    if not primary_key:
        columns.insert(0, {"name": "rowid", "type": "INTEGER", "nullable": False})
    return columns, primary_key


def row_schemas(
    columns: list[dict], descriptions: dict, labels: dict | None = None, table: str = ""
) -> tuple[dict, dict]:
    """A row as an object (?_shape=objects) and as an array (the default ?_shape=arrays). `labels`
    (serve.shared.labels): each column's label and its coded values' labels, in both languages, as
    x-label and x-value-labels, from the schemas."""
    labels = labels or {}

    def schema(column):
        described = value_schema(column["type"], column["nullable"])
        described["description"] = descriptions.get(
            column["name"], "Row id (SQLite rowid)." if column["name"] == "rowid" else ""
        )
        described["x-sqlite-type"] = column["type"] or "ANY"
        key = f"{table}.{column['name']}"
        if key in labels.get("columns", {}):
            described["x-label"] = labels["columns"][key]
        if key in labels.get("values", {}):
            described["x-value-labels"] = labels["values"][key]
        return described

    as_object = {
        "type": "object",
        "properties": {c["name"]: schema(c) for c in columns},
        "additionalProperties": False,
    }
    as_array = {
        "type": "array",
        "prefixItems": [{"title": c["name"], **schema(c)} for c in columns],
        "items": False,
    }
    return as_object, as_array


def shaped(envelope: dict, row: str, row_array: str, first_column: dict, shapes: list[str]) -> dict:
    """Datasette's JSON for each ?_shape: the envelope, a list of rows, first values, or rows by key."""
    ref = {"$ref": f"#/components/schemas/{row}"}
    envelope["properties"]["rows"] = {
        "type": "array",
        "items": {"anyOf": [ref, {"$ref": f"#/components/schemas/{row_array}"}]},
    }
    variants = [
        {**envelope, "title": "_shape=arrays or objects (default arrays)"},
        {"type": "array", "title": "_shape=array or arrayfirst", "items": {"anyOf": [ref, first_column]}},
    ]
    if "object" in shapes:
        variants.append({"type": "object", "title": "_shape=object: rows by primary key", "additionalProperties": ref})
    return {"anyOf": variants}


def envelope(required: list[str], **properties) -> dict:
    strings = {"type": "array", "items": {"type": "string"}}
    base = {
        "database": {"type": "string"},
        "columns": {**strings, "description": "Column names, in the order of each row array."},
        "query_ms": {"type": "number"},
        "license": {"type": "string"},
        "license_url": {"type": "string"},
        "source": {"type": "string"},
        "source_url": {"type": "string"},
    }
    return {"type": "object", "required": required, "properties": {**base, **properties}}


def parameter(name: str, description: str, schema: dict, **extra) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema, **extra}


def ok(content: dict, description: str = "OK") -> dict:
    return {
        "description": description,
        "headers": {h: {"$ref": f"#/components/headers/{h}"} for h in RESPONSE_HEADERS},
        "content": content,
    }


def csv_content(description: str) -> dict:
    return {kind: {"schema": {"type": "string", "description": description}} for kind in CSV_TYPES}


async def describe_table(datasette, db, table: str, spec: dict) -> None:
    metadata = datasette.table_metadata(DATABASE, table) or {}
    columns, primary_key = await table_columns(db, table)
    names = [c["name"] for c in columns]
    stored = [n for n in names if n != "rowid"]
    fts = await db.fts_table(table)
    row, row_array = f"{table}.row", f"{table}.row_array"
    labels = schema_labels(datasette)
    as_object, as_array = row_schemas(columns, metadata.get("columns", {}), labels, table)
    spec["components"]["schemas"][row] = {"title": metadata.get("title", table), **as_object}
    spec["components"]["schemas"][row_array] = as_array
    spec["tags"].append(
        {"name": table, "description": f"{metadata.get('title', table)}. {metadata.get('description_html', '')}"}
    )

    sortable = sorted(metadata.get("sortable_columns", stored))
    max_rows = datasette.setting("max_returned_rows")
    shared = [
        parameter(
            "_size",
            f"Rows per page (at most {max_rows}, or max).",
            {"anyOf": [{"type": "integer", "minimum": 0, "maximum": max_rows}, {"const": "max"}]},
        ),
        parameter("_next", "Token from the previous page's `next` field.", {"type": "string"}),
        parameter("_sort", "Sort ascending by this column (not together with _sort_desc).", {"enum": sortable}),
        parameter("_sort_desc", "Sort descending by this column (not together with _sort).", {"enum": sortable}),
        parameter(
            "_facet",
            "Count rows per value of these columns (in facet_results).",
            {"type": "array", "items": {"enum": stored}},
            style="form",
            explode=True,
        ),
    ]
    if fts:
        shared.append(parameter("_search", f"Full-text search (SQLite FTS, table {fts}).", {"type": "string"}))
    for column in stored:
        for operation in Filters._filters:  # Datasette's own list of column filters
            name = f"{column}__{operation.key}"
            key = f"{table}.{name}"
            spec["components"]["parameters"][key] = parameter(
                name,
                f"Rows where {column} {operation.display}" + ("" if operation.no_argument else " the value") + ".",
                {"type": "string"},
            )
            shared.append({"$ref": f"#/components/parameters/{key}"})
    shapes = TABLE_SHAPES if primary_key else [s for s in TABLE_SHAPES if s != "object"]
    shape = parameter(
        "_shape",
        "Form of the JSON: envelope with row arrays (default) or objects, a bare array, first values, or rows by key.",
        {"enum": shapes},
    )
    first_column = {k: v for k, v in as_object["properties"][names[0]].items() if k != "description"}

    table_envelope = envelope(
        ["rows", "columns"],
        table={"const": table},
        primary_keys={"type": "array", "items": {"type": "string"}},
        next={"type": ["string", "null"]},
        next_url={"type": ["string", "null"]},
        truncated={"type": "boolean"},
        filtered_table_rows_count={"type": ["integer", "null"]},
        facet_results={"type": "object"},
    )
    title = metadata.get("title", table)
    spec["paths"][f"/{DATABASE}/{table}.json"] = {
        "get": {
            "operationId": f"{table}_json",
            "tags": [table],
            "summary": f"{title} (JSON)",
            "parameters": shared + [shape],
            "responses": {
                "200": ok(
                    {"application/json": {"schema": shaped(table_envelope, row, row_array, first_column, shapes)}}
                ),
                **error_refs("400", "404"),
            },
        }
    }
    spec["paths"][f"/{DATABASE}/{table}.csv"] = {
        "get": {
            "operationId": f"{table}_csv",
            "tags": [table],
            "summary": f"{title} (CSV)",
            "parameters": shared + [parameter("_dl", "Send as a download (text/csv).", {"enum": ["1"]})],
            "responses": {
                "200": ok(csv_content(f"Header row {', '.join(names)}, then one line per row.")),
                **error_refs("400", "404"),
            },
        }
    }

    key = primary_key or ["rowid"]
    by_name = {c["name"]: c for c in columns}
    first = (
        await db.execute(f"select {', '.join(map(escape_sqlite, key))} from {escape_sqlite(table)} limit 1")
    ).first()

    def path_parameter(name, value):
        integer = "INT" in by_name[name]["type"].upper()
        described = {
            "name": name,
            "in": "path",
            "required": True,
            "description": (metadata.get("columns", {}).get(name) or "SQLite rowid") + " (tilde-encoded)",
            "schema": {**value_schema(by_name[name]["type"], False), **({} if integer else {"minLength": 1})},
        }
        if value is not None:  # a row that exists, as it appears in a URL
            described["example"] = value if integer else tilde_encode(str(value))
        return described

    row_envelope = envelope(
        ["rows", "columns"],
        table={"const": table},
        primary_keys={"type": "array", "items": {"type": "string"}},
        primary_key_values={"type": "array", "items": {"type": "string"}},
    )
    spec["paths"][f"/{DATABASE}/{table}/" + ",".join(f"{{{k}}}" for k in key) + ".json"] = {
        "get": {
            "operationId": f"{table}_row",
            "tags": [table],
            "summary": f"{title}: one row by {', '.join(key)}",
            "parameters": [path_parameter(k, first[k] if first else None) for k in key]
            + [parameter("_shape", shape["description"], {"enum": shapes})],
            "responses": {
                "200": ok({"application/json": {"schema": shaped(row_envelope, row, row_array, first_column, shapes)}}),
                **error_refs("400", "404", "TildeRedirect"),
            },
        }
    }


async def describe_queries(datasette, db, spec: dict) -> None:
    queries = await datasette.get_canned_queries(DATABASE, None)
    for name, query in queries.items():
        every = list(dict.fromkeys(await derive_named_parameters(db, query["sql"])))
        # :_name parameters are Datasette's magic parameters (the server fills them in, a client cannot)
        named = [p for p in every if not p.startswith("_")]
        try:  # the columns a query returns, without running it over the data
            columns = (await db.execute(f"select * from ({query['sql']}) limit 0", {p: None for p in every})).columns
        except Exception:  # a query the planner cannot wrap still gets described, without columns
            columns = []
        row = f"query.{name}.row"
        spec["components"]["schemas"][row] = {
            "type": "object",
            "title": query.get("title", name),
            "properties": {c: {"description": f"Column {c} of the query {name}."} for c in columns},
            "additionalProperties": False,
        }
        spec["components"]["schemas"][f"query.{name}.row_array"] = {
            "type": "array",
            "minItems": len(columns),
            "maxItems": len(columns),
        }
        parameters = [parameter(p, f"Value of :{p} in the query.", {"type": "string"}) for p in named]
        summary = query.get("title", name)
        # in both languages, as the tables' descriptions: Dutch, then English (description_en)
        description = "\n\nEN: ".join(filter(None, [query.get("description"), query.get("description_en")]))
        description += f"\n\nSQL:\n\n```sql\n{query['sql']}\n```"
        body = envelope(
            ["rows", "columns"], ok={"const": True}, query_name={"const": name}, truncated={"type": "boolean"}
        )
        spec["paths"][f"/{DATABASE}/{name}.json"] = {
            "get": {
                "operationId": f"query_{name}_json",
                "tags": ["queries"],
                "summary": f"{summary} (JSON)",
                "description": description,
                "parameters": parameters + [parameter("_shape", "Form of the JSON.", {"enum": QUERY_SHAPES})],
                "responses": {
                    "200": ok(
                        {"application/json": {"schema": shaped(body, row, f"query.{name}.row_array", {}, QUERY_SHAPES)}}
                    ),
                    **error_refs("400"),
                },
            }
        }
        spec["paths"][f"/{DATABASE}/{name}.csv"] = {
            "get": {
                "operationId": f"query_{name}_csv",
                "tags": ["queries"],
                "summary": f"{summary} (CSV)",
                "description": description,
                "parameters": parameters + [parameter("_dl", "Send as a download (text/csv).", {"enum": ["1"]})],
                "responses": {
                    "200": ok(csv_content(f"Header row {', '.join(columns)}, then one line per row.")),
                    **error_refs("400"),
                },
            }
        }
    if queries:
        spec["tags"].append(
            {"name": "queries", "description": "Canned queries: stable feeds whose columns do not change."}
        )


def describe_database(datasette, db, spec: dict) -> None:
    sql = {
        "name": "sql",
        "in": "query",
        "required": False,
        "description": "A read-only SQL SELECT.",
        "schema": {"type": "string"},
        "example": "select year, sum(dossiers) from caseload group by year",
    }
    timeout = datasette.setting("sql_time_limit_ms")
    query_result = envelope(
        ["rows", "columns"], ok={"type": "boolean"}, query_name={"type": "null"}, truncated={"type": "boolean"}
    )
    query_result["properties"]["rows"] = {"type": "array", "items": {"type": ["array", "object"]}}
    database_info = {
        "type": "object",
        "required": ["database", "tables"],
        "properties": {
            "database": {"const": DATABASE},
            "tables": {"type": "array", "items": {"type": "object"}},
            "queries": {"type": "array"},
            "views": {"type": "array"},
        },
    }
    spec["paths"][f"/{DATABASE}.json"] = {
        "get": {
            "operationId": "database_json",
            "tags": ["database"],
            "summary": "The database: its tables, or the result of ad-hoc SQL",
            "description": f"Without `sql`: the tables and canned queries. With `sql`: its result (time limit {timeout} ms).",
            "parameters": [
                sql,
                parameter("_shape", "Form of the JSON (array and arrayfirst need sql).", {"enum": QUERY_SHAPES}),
            ],
            "responses": {
                "200": ok(
                    {
                        "application/json": {
                            "schema": {
                                "anyOf": [
                                    {**query_result, "title": "result of sql"},
                                    {**database_info, "title": "the database"},
                                    {"type": "array", "title": "_shape=array or arrayfirst"},
                                ]
                            }
                        }
                    }
                ),
                **error_refs("400"),
            },
        }
    }
    spec["paths"][f"/{DATABASE}.csv"] = {
        "get": {
            "operationId": "database_csv",
            "tags": ["database"],
            "summary": "The result of ad-hoc SQL as CSV",
            "parameters": [
                {**sql, "required": True},
                parameter("_dl", "Send as a download (text/csv).", {"enum": ["1"]}),
            ],
            "responses": {"200": ok(csv_content("Header row, then one line per result row.")), **error_refs("400")},
        }
    }
    spec["tags"].append({"name": "database", "description": "The whole database and ad-hoc SQL."})


def get_operation(tag: str, operation_id: str, summary: str, content: dict, errors: tuple, **extra) -> dict:
    """A path item with one GET of the project's own endpoints: 200 with `content`, and `errors`."""
    return {
        "get": {
            "operationId": operation_id,
            "tags": [tag],
            "summary": summary,
            "responses": {"200": ok(content), **error_refs(*errors)},
            **extra,
        }
    }


def describe_downloads(release: dict, versions: list[str], spec: dict) -> None:
    """The project's own endpoints, served by the other plugins in this folder; `versions`: the
    recorded releases, newest first, the examples of every {version} parameter."""
    tables = sorted(release.get("tables", {})) or None
    binary = {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
    json_object = {"schema": {"type": "object"}}
    html = {"text/html": {"schema": {"type": "string"}}}

    def get(operation_id, summary, content, *errors, **extra):
        return get_operation("downloads", operation_id, summary, content, errors, **extra)

    paths = spec["paths"]
    paths["/datapackage.json"] = get(
        "datapackage",
        "Frictionless data package: every table as a CSV resource with hash and bytes",
        {
            "application/json": {
                "schema": {"type": "object", "required": ["resources"], "properties": {"resources": {"type": "array"}}}
            }
        },
    )
    paths[f"/{DATABASE}.zip"] = get("zip", "The CSVs and datapackage.json in one zip", {"application/zip": binary})
    paths["/data/{table}.csv"] = get(
        "table_csv_file",
        "The released CSV of one table (as validated at build)",
        {"text/csv": {"schema": {"type": "string"}}},
        "404",
        "TildeRedirect",
        parameters=[
            {
                "name": "table",
                "in": "path",
                "required": True,
                "schema": {"enum": tables} if tables else {"type": "string", "minLength": 1},
            }
        ],
    )
    paths["/catalog.ttl"] = get(
        "catalog_ttl", "DCAT-AP 3.0.1 / DCAT-AP-VL catalogue (Turtle)", {"text/turtle": {"schema": {"type": "string"}}}
    )
    paths["/catalog.jsonld"] = get(
        "catalog_jsonld",
        "DCAT-AP 3.0.1 / DCAT-AP-VL catalogue (JSON-LD)",
        {"application/ld+json": json_object, "application/json": json_object},
    )
    paths[f"/{DATABASE}.db"] = get(
        "database_file",
        "The SQLite database file (its SHA-256 is in /datapackage.json and the catalogue)",
        {"application/octet-stream": binary},
    )
    version_parameter = [
        {
            "name": "version",
            "in": "path",
            "required": True,
            "description": "A release's content version, as listed by /releases.json.",
            "schema": {
                "type": "string",
                "pattern": shared.VERSION.pattern,
                **({"examples": versions} if versions else {}),
            },
        }
    ]
    listed = {
        "type": "object",
        "required": ["version", "semver", "number", "date", "sha256", "bytes", "rows", "links"],
        "properties": {
            "version": {"type": "string"},
            "semver": {"type": "string"},
            "number": {"type": "integer"},
            "date": {"type": "string", "format": "date"},
            "previous": {"type": ["string", "null"]},
            "change_level": {"enum": ["major", "minor", "patch", None]},
            "sha256": {"type": "object"},
            "bytes": {"type": "object"},
            "rows": {"type": "object"},
            "links": {"type": "object"},
        },
    }
    paths["/releases.json"] = get(
        "releases",
        "Every release, newest first, with its hashes, row counts and links",
        {"application/json": {"schema": {"type": "array", "items": listed}}},
    )
    paths["/releases.atom"] = get(
        "releases_feed",
        "Atom feed: one entry per release with its summary of changes",
        {"application/atom+xml": {"schema": {"type": "string"}}},
    )
    paths["/releases/"] = get("releases_page", "Every release, as a web page", html)
    paths["/releases/{version}/"] = get(
        "release_page", "One release, as a web page", html, "404", "TildeRedirect", parameters=version_parameter
    )
    for path, operation_id, summary, content in (
        (
            "datapackage.json",
            "release_datapackage",
            "The data package of a release, byte for byte as released",
            {"application/json": json_object},
        ),
        ("drugbeleid.zip", "release_zip", "The zip of a release", {"application/zip": binary}),
        ("drugbeleid.db", "release_database", "The SQLite database of a release", {"application/octet-stream": binary}),
        (
            "drugbeleid.db.sha256",
            "release_database_checksum",
            "The SHA-256 of a release's database",
            {"text/plain": {"schema": {"type": "string"}}},
        ),
        (
            "changes.json",
            "release_changes",
            "What changed since the previous release, per table and row",
            {"application/json": json_object},
        ),
    ):
        paths[f"/releases/{{version}}/{path}"] = get(
            operation_id, summary, content, "404", "TildeRedirect", parameters=version_parameter
        )
    paths["/releases/{version}/data/{table}.csv"] = get(
        "release_table_csv",
        "The CSV of one table in a release",
        {"text/csv": {"schema": {"type": "string"}}},
        "404",
        "TildeRedirect",
        parameters=version_parameter
        + [{"name": "table", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z_]+$"}}],
    )
    paths["/-/mqa.json"] = get(
        "mqa",
        "The catalogue scored by data.europa.eu's Metadata Quality Assessment, indicator by indicator",
        {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["score", "max", "indicators"],
                    "properties": {
                        "score": {"type": "integer"},
                        "max": {"const": 405},
                        "rating": {"type": "string"},
                        "dimensions": {"type": "object"},
                        "indicators": {
                            "type": "array",
                            "items": {"type": "object", "required": ["id", "dimension", "points", "score", "missed"]},
                        },
                    },
                }
            }
        },
    )
    paths["/robots.txt"] = get(
        "robots",
        "Crawling rules: everything but ad-hoc SQL; names the sitemap",
        {"text/plain": {"schema": {"type": "string"}}},
    )
    paths["/sitemap.xml"] = get(
        "sitemap",
        "Every page and row, in Dutch and English with hreflang alternates",
        {"application/xml": {"schema": {"type": "string"}}},
    )
    paths["/openapi.json"] = get("openapi", "This description (OpenAPI 3.1)", {"application/json": json_object})
    paths["/api"] = get("api_page", "This description as a web page", html)
    spec["tags"].append({"name": "downloads", "description": "Files and descriptions of the whole release."})


def describe_reuse(datasette, release: dict, versions: list[str], spec: dict) -> None:
    """Reuse in one step (docs/reuse.md): a table as a spreadsheet, a release's citation, a chart to
    embed or as an image (plugins/xlsx.py, citations.py, embeds.py)."""
    tables = sorted(release.get("tables", {})) or None
    charts = {slug: sorted(board.get("charts") or {}) for slug, board in shared.dashboards(datasette).items()}
    chart_slugs = sorted({chart for names in charts.values() for chart in names}) or None

    def get(operation_id, summary, content, parameters, *errors):
        errors = ("404", "TildeRedirect", *errors)
        return get_operation("reuse", operation_id, summary, content, errors, parameters=parameters)

    def path_parameter(name, description, schema):
        return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}

    binary = {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
    text = {"schema": {"type": "string"}}
    paths = spec["paths"]
    paths[f"/{DATABASE}/{{table}}.xlsx"] = get(
        "table_xlsx",
        "A table as an Excel workbook: its rows (the filters and sort of the URL apply) and a sheet on its source",
        {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": binary},
        [path_parameter("table", "A table of the database.", {"enum": tables} if tables else {"type": "string"})],
        "400",
    )
    paths["/releases/{version}/citation.{format}"] = get(
        "release_citation",
        "How to cite a release: BibTeX, RIS or CSL-JSON, with the release's version and date",
        {
            "application/x-bibtex": text,
            "application/x-research-info-systems": text,
            "application/vnd.citationstyles.csl+json": {"schema": {"type": "array"}},
        },
        [
            path_parameter(
                "version",
                "A release's content version, as listed by /releases.json.",
                {"type": "string", "pattern": shared.VERSION.pattern, **({"examples": versions} if versions else {})},
            ),
            path_parameter("format", "bib (BibTeX), ris (RIS) or json (CSL-JSON).", {"enum": ["bib", "ris", "json"]}),
        ],
    )
    dashboard = path_parameter(
        "dashboard", "A dashboard of /-/dashboards.", {"enum": sorted(charts)} if charts else {"type": "string"}
    )
    chart = path_parameter(
        "chart", "A chart of that dashboard.", {"enum": chart_slugs} if chart_slugs else {"type": "string"}
    )
    paths["/-/dashboards/{dashboard}/{chart}/embed"] = get(
        "chart_embed",
        "A chart alone, to embed in another page (an iframe): the chart, its figures as a table, source and licence",
        {"text/html": text},
        [dashboard, chart],
    )
    paths["/charts/{dashboard}/{chart}.{lang}.{format}"] = get(
        "chart_image",
        "A chart as an image, in Dutch or English: SVG or PNG",
        {"image/svg+xml": text, "image/png": binary},
        [
            dashboard,
            chart,
            path_parameter("lang", "The language of the chart's words.", {"enum": ["nl", "en"]}),
            path_parameter("format", "svg or png.", {"enum": ["svg", "png"]}),
        ],
    )
    spec["tags"].append(
        {"name": "reuse", "description": "The data in one step: spreadsheets, citations, charts to embed or as images."}
    )


def describe_search(datasette, release: dict, spec: dict) -> None:
    """/search.json (plugins/search.py): every searchable text and the sources, one query."""
    config = shared.search_settings(datasette)
    nullable_string = {"type": ["string", "null"]}
    result = {
        "type": "object",
        "required": ["table", "row_key", "row_url", "text", "snippet_html", "score"],
        "properties": {
            "table": {"type": "string"},
            "table_title": {"type": "string"},
            "column": {"type": "string"},
            "row_key": {"type": "string"},
            "row_url": {"type": "string"},
            "document_id": nullable_string,
            "document_title": nullable_string,
            "passage_id": nullable_string,
            "document_url": {"type": "string"},
            "text": {"type": "string"},
            "snippet_html": {"type": "string", "description": "The text around the first match, matches in <mark>."},
            "score": {"type": "number", "description": "bm25 rank: lower is better."},
        },
    }
    found = {
        "type": "object",
        "required": ["ok", "q", "terms", "results", "total", "tables"],
        "properties": {
            "ok": {"const": True},
            "q": {"type": "string"},
            "terms": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The query's terms in search form (no case, no accents).",
            },
            "table": nullable_string,
            "results": {"type": "array", "items": result, "maxItems": config["max_results"]},
            "total": {"type": "integer", "description": "Texts that matched; the best max_results are returned."},
            "tables": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "title": {"type": "string"},
                        "count": {"type": "integer"},
                    },
                },
            },
            "max_results": {"type": "integer"},
        },
    }
    tables = sorted(release.get("tables", {}))
    spec["paths"]["/search.json"] = {
        "get": {
            "operationId": "search",
            "tags": ["search"],
            "summary": "Search all tables and the full text of the sources (case, accents and word endings do not matter)",
            "parameters": [
                parameter(
                    "q",
                    "Words to find; every word must occur in the same text, a part of a word is enough "
                    f"(at least {config.get('min_term_length', 3)} characters).",
                    {"type": "string", "maxLength": config["max_query_length"]},
                    required=True,
                ),
                parameter(
                    "table",
                    "Only results from this table.",
                    {"type": "string", **({"examples": tables} if tables else {})},
                ),
                parameter("_lang", "Language of titles and messages.", {"enum": ["nl", "en"]}),
            ],
            "responses": {"200": ok({"application/json": {"schema": found}}), **error_refs("400")},
        }
    }
    spec["tags"].append({"name": "search", "description": "Search across every table and the source documents."})


ERROR_SCHEMA = {
    "type": "object",
    "required": ["ok", "error"],
    "properties": {
        "ok": {"const": False},
        "error": {"type": "string"},
        "status": {"type": "integer"},
        "title": {"type": ["string", "null"]},
    },
}
ERROR_CONTENT = {
    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
    # Datasette answers some errors for HTML and CSV URLs with its HTML error page
    "text/html": {"schema": {"type": "string"}},
}
ERROR_RESPONSES = {
    "400": {
        "description": "A parameter the server cannot use (bad column, SQL error, bad value).",
        "content": ERROR_CONTENT,
    },
    "404": {"description": "No such table, row or file.", "content": ERROR_CONTENT},
    "NotModified": {"description": "Not modified: the ETag sent in If-None-Match is current."},
    # Datasette answers a percent-encoded path it cannot route with a redirect to its tilde encoding.
    "TildeRedirect": {
        "description": "Redirect to the same URL with the path in Datasette's tilde encoding.",
        "headers": {"Location": {"schema": {"type": "string"}, "required": True}},
    },
}
RESPONSE_HEADERS = {
    "X-Data-Version": {
        "description": "Version of the data release (date and database hash).",
        "schema": {"type": "string"},
    },
    "X-Data-Semver": {
        "description": "Semantic version of the data release (MAJOR.MINOR.PATCH, from its changes).",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": "Changes with the data version; send it back in If-None-Match to get a 304.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"description": "How long the response may be cached.", "schema": {"type": "string"}},
    "Access-Control-Allow-Origin": {
        "description": "Any origin may read the response (CORS).",
        "schema": {"type": "string"},
    },
}


STATUS_OF = {"TildeRedirect": "302", "NotModified": "304"}


def error_refs(*names: str) -> dict:
    return {STATUS_OF.get(name, name): {"$ref": f"#/components/responses/{name}"} for name in names}
