"""Load and index steps: typed rows into SQLite with sqlite-utils, then indexes and full-text search.

Column types, primary keys, NOT NULL and foreign keys all come from the Table Schemas.
Booleans are stored as 0/1 (SQLite has no boolean type); dates as ISO 8601 text.
"""
from __future__ import annotations

import datetime
from decimal import Decimal

import sqlite_utils
from frictionless import Resource, Schema

SQL_TYPES = {"string": str, "integer": int, "number": float, "boolean": int, "date": str, "year": int}
FTS_TOKENIZER = "unicode61 remove_diacritics 2"  # case- and accent-insensitive search


def sql_value(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def typed_rows(resource: Resource) -> list[dict]:
    with resource:
        return [{k: sql_value(v) for k, v in row.items()} for row in resource.row_stream]


def create_table(db: sqlite_utils.Database, name: str, schema: Schema) -> None:
    db[name].create(
        {f.name: SQL_TYPES[f.type] for f in schema.fields},
        pk=tuple(schema.primary_key) if len(schema.primary_key) > 1 else (schema.primary_key or [None])[0],
        not_null={f.name for f in schema.fields if f.required},
        foreign_keys=[
            (fk["fields"][0], fk["reference"]["resource"], fk["reference"]["fields"][0])
            for fk in schema.foreign_keys
        ],
    )


def load_table(db: sqlite_utils.Database, resource: Resource) -> int:
    create_table(db, resource.name, resource.schema)
    rows = typed_rows(resource)
    db[resource.name].insert_all(rows)
    return len(rows)


def load_rows(db: sqlite_utils.Database, name: str, schema: Schema, rows: list[dict]) -> None:
    create_table(db, name, schema)
    db[name].insert_all(rows)


def index(db: sqlite_utils.Database, resources: list[Resource]) -> None:
    for resource in resources:
        for fk in resource.schema.foreign_keys:
            db[resource.name].create_index(fk["fields"], if_not_exists=True)
        columns = resource.to_descriptor().get("fullTextSearch")
        if columns:
            db[resource.name].enable_fts(columns, tokenize=FTS_TOKENIZER, create_triggers=False)
