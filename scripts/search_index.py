"""Index step: the site-wide search index (table search_index, served by /search).

One row per non-empty cell of every column a resource lists under `fullTextSearch` in
datapackage.json (passages.text is the full text of the sources), with where it comes from and
its search form (text.fold: NFKD, accents removed, case-folded). The search form is indexed with
SQLite FTS5's trigram tokenizer, which matches any substring of three characters or more: Dutch
compounds and word forms are found from their stem (`recidive` finds `recidiveert`,
`drugopvolgingskamer` finds `drugopvolgingskamers`, `kamer` finds `drugbehandelingskamer`), which
a word tokenizer (unicode61) or a prefix index would not do for the middle of a compound. SQLite
3.40's trigram tokenizer cannot remove diacritics, hence the search form made here in Python.
"""

from __future__ import annotations

import sqlite_utils
from datasette.utils import tilde_encode
from frictionless import Package, Schema

from . import load
from .project import DATABASE
from .provenance import document_of
from .text import fold

TABLE = "search_index"
FTS_TOKENIZER = "trigram"


def row_path(table: str, key_values: list[str]) -> str:
    """The row's URL path as Datasette builds it: key values tilde-encoded, joined with commas."""
    return f"/{DATABASE}/{table}/{','.join(tilde_encode(v) for v in key_values)}"


def passage_of(table: str, row: dict, key: str, column: str, passages: dict[tuple, str]) -> str | None:
    """The paragraph of a cell: the passage itself, where a verbatim cell was located, or else
    where the row's quote was located (the row as a whole comes from there)."""
    if table == "passages":
        return row["id"]
    return passages.get((table, key, column)) or passages.get((table, key, "quote"))


def search_rows(package: Package, tables: dict[str, list[dict]], locations: list[dict]) -> list[dict]:
    passages = {(loc["table_name"], loc["row_key"], loc["column_name"]): loc["passage_id"] for loc in locations}
    rows = []
    for resource in package.resources:
        columns = resource.to_descriptor().get("fullTextSearch") or []
        key_columns = resource.schema.primary_key
        for row in tables.get(resource.name, []) if columns else []:
            key_values = [row.get(k, "") for k in key_columns]
            key = ",".join(key_values)
            for column in columns:
                text = row.get(column) or ""
                if not text.strip():
                    continue
                rows.append(
                    {
                        "id": len(rows) + 1,
                        "table_name": resource.name,
                        "row_key": key,
                        "row_path": row_path(resource.name, key_values),
                        "column_name": column,
                        "document_id": document_of(resource.name, row),
                        "passage_id": passage_of(resource.name, row, key, column, passages),
                        "text": text,
                        "text_normalised": fold(text),
                    }
                )
    return rows


def load_search_index(
    db: sqlite_utils.Database, schema: Schema, package: Package, tables: dict[str, list[dict]], locations: list[dict]
) -> int:
    rows = search_rows(package, tables, locations)
    load.load_rows(db, TABLE, schema, rows)
    db[TABLE].enable_fts(["text_normalised"], tokenize=FTS_TOKENIZER, create_triggers=False)
    return len(rows)
