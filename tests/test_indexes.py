"""Every column metadata.yml offers as a facet or sort of a table leads an index in the built
database, so that Datasette's filtered count(*) and facet counts are index searches, not scans."""

from __future__ import annotations

import sqlite3

import yaml

from .conftest import ROOT

SITE_TABLES = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))["databases"]["drugbeleid"]["tables"]
FACETS = [(table, column) for table, config in SITE_TABLES.items() for column in config.get("facets", [])]
SORTS = [
    (table, config[key]) for table, config in SITE_TABLES.items() for key in ("sort", "sort_desc") if key in config
]


def indexes_led_by(db: sqlite3.Connection, table: str, column: str) -> list[str]:
    names = []
    for _, name, *_ in db.execute(f"PRAGMA index_list([{table}])"):
        first = db.execute(f"PRAGMA index_info([{name}])").fetchone()
        if first and first[2] == column:
            names.append(name)
    return names


def test_every_facet_and_sort_column_leads_an_index(built):
    assert FACETS and SORTS  # metadata.yml configures some: this test reads the real config
    db = sqlite3.connect(f"file:{built}?mode=ro", uri=True)
    missing = [(t, c) for t, c in FACETS + SORTS if not indexes_led_by(db, t, c)]
    assert missing == []


def test_filtered_count_on_a_facet_column_searches_its_index(built):
    db = sqlite3.connect(f"file:{built}?mode=ro", uri=True)
    for table, column in FACETS:
        value = db.execute(f"select [{column}] from [{table}] limit 1").fetchone()[0]
        # the count Datasette runs for a filtered table page
        plan = " ".join(
            row[3]
            for row in db.execute(f"EXPLAIN QUERY PLAN select count(*) from [{table}] where [{column}] = ?", [value])
        )
        assert plan.startswith(f"SEARCH {table}") and any(name in plan for name in indexes_led_by(db, table, column)), (
            table,
            column,
            plan,
        )
