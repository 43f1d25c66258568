"""Release step: what changed since the previous release, and the semantic version that follows.

`changes(previous, current)` compares two releases as they are published, each given as its
data package descriptor and the bytes of its CSVs. Rows are matched by the table's primary key
and listed by it (tables without one, such as data_quality, by their whole row, which is listed:
such rows can only be added or removed). The row comparison is csv-diff's `compare` (added, removed, and per changed row the old
and new value of each changed column); the schema comparison (tables and columns added or
removed, types changed) reads the two descriptors.

The tables the build derives from the others (data_quality, quote_locations, search_index) are
compared by what their rows are (CONTENT_KEYS), not by a running number: a new source then adds
their rows and changes none. changes.json lists the source tables first (`tables`, `summary`) and
the derived ones apart (`derived_tables`, `derived_summary`); CHANGELOG.md counts the source tables.
Releases recorded before this layout keep their changes.json as it was.

`next_semver(previous, changes)` derives MAJOR.MINOR.PATCH from the changes:
- major: a table or column removed (a rename is a removal and an addition) or a type changed,
  a break of the public contract;
- minor: rows, columns or tables added;
- patch: anything else that changed: values corrected, rows withdrawn, descriptions rewritten.
"""

from __future__ import annotations

import csv
import io

import semver
from csv_diff import compare

FIRST_SEMVER = "1.0.0"


# Derived tables matched by what a row is about, and the columns that only number rows (search_index.id
# is public, and the full-text index needs it, but every row after a new one is renumbered).
CONTENT_KEYS = {"search_index": ["table_name", "row_key", "column_name"], "data_quality": ["check"]}
RUNNING_NUMBERS = {"search_index": ["id"]}


def read_rows(data: bytes) -> tuple[list[str], list[dict]]:
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    header = next(reader, [])
    return header, [dict(zip(header, row)) for row in reader]


def primary_key(resource: dict) -> list[str]:
    key = resource.get("schema", {}).get("primaryKey") or []
    return [key] if isinstance(key, str) else list(key)


def row_key(row: dict, key: list[str]) -> tuple:
    return tuple(row.get(c, "") for c in key) if key else tuple(sorted(row.items()))


def keyed(rows: list[dict], key: list[str]) -> dict:
    return {row_key(row, key): row for row in rows}


def key_of(key_value: tuple, key: list[str]) -> dict | None:
    return dict(zip(key, key_value)) if key else None


def row_entry(row: dict, key: list[str]) -> dict:
    return {"key": key_of(row_key(row, key), key)} if key else {"key": None, "row": row}


def field_types(resource: dict) -> dict[str, str]:
    return {f["name"]: f.get("type", "any") for f in resource.get("schema", {}).get("fields", [])}


def without(rows: list[dict], columns: list[str]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in columns} for row in rows] if columns else rows


def table_changes(
    old: dict | None, old_csv: bytes | None, new: dict | None, new_csv: bytes | None, by_content: bool = False
) -> dict:
    """The changes of one table between two releases (either side None: table added or removed);
    `by_content`: a derived table, matched by CONTENT_KEYS and compared without its running numbers."""
    old_header, old_rows = read_rows(old_csv) if old_csv is not None else ([], [])
    new_header, new_rows = read_rows(new_csv) if new_csv is not None else ([], [])
    name = (new or old)["name"]
    key = CONTENT_KEYS.get(name) if by_content and name in CONTENT_KEYS else primary_key(new or old)
    if by_content:
        old_rows, new_rows = (
            without(old_rows, RUNNING_NUMBERS.get(name, [])),
            without(new_rows, RUNNING_NUMBERS.get(name, [])),
        )
    old_types, new_types = field_types(old or {}), field_types(new or {})
    before, after = keyed(old_rows, key), keyed(new_rows, key)
    if before and after:
        diff = compare(before, after)
        added, removed, changed = diff["added"], diff["removed"], diff["changed"]
    else:
        added, removed, changed = list(after.values()), list(before.values()), []
    shared_columns = [c for c in new_header if c in old_header]
    # csv-diff ignores the columns present on one side only; a changed row must differ in a shared one
    changed = [c for c in changed if any(column in shared_columns for column in c["changes"])]
    return {
        "status": "added" if old is None else "removed" if new is None else "kept",
        "primary_key": key,
        "columns_added": [c for c in new_header if c not in old_header] if old is not None else [],
        "columns_removed": [c for c in old_header if c not in new_header] if new is not None else [],
        "types_changed": {
            c: [old_types[c], new_types[c]]
            for c in shared_columns
            if c in old_types and c in new_types and old_types[c] != new_types[c]
        },
        # by primary key; a table without one (data_quality, search_index) gives the whole row
        "rows_added": [row_entry(r, key) for r in added],
        "rows_removed": [row_entry(r, key) for r in removed],
        "rows_changed": [
            {
                "key": key_of(c["key"], key),
                "changes": {
                    column: {"old": values[0], "new": values[1]}
                    for column, values in sorted(c["changes"].items())
                    if column in shared_columns
                },
            }
            for c in changed
        ],
    }


# What the summary of a table's changes counts, in this order, with the words for one and for many.
COUNTED = (
    ("rows_added", "row added", "rows added"),
    ("rows_removed", "row removed", "rows removed"),
    ("rows_changed", "row changed", "rows changed"),
    ("columns_added", "column added", "columns added"),
    ("columns_removed", "column removed", "columns removed"),
    ("types_changed", "column type changed", "column types changed"),
)
COUNTS = tuple(key for key, _, _ in COUNTED)


def summary_of(table: dict) -> dict:
    return {"status": table["status"], **{key: len(table[key]) for key in COUNTS}}


COUNTS_PREFIX = "Counts (from changes.json): "


def counts_line(summary: dict) -> str:
    """One line of counts per release, for CHANGELOG.md: written from changes.json, never by hand."""
    parts = []
    for table, counts in summary.items():
        said = [f"table {counts['status']}"] if counts["status"] != "kept" else []
        said += [f"{counts[k]} {one if counts[k] == 1 else many}" for k, one, many in COUNTED if counts[k]]
        if said:
            parts.append(f"{table}: {', '.join(said)}")
    return COUNTS_PREFIX + ("; ".join(parts) if parts else "no rows or columns changed") + "."


def resources_by_name(descriptor: dict | None) -> dict[str, dict]:
    return {r["name"]: r for r in (descriptor or {}).get("resources", [])}


def changes(
    previous: tuple[dict, dict[str, bytes]] | None,
    current: tuple[dict, dict[str, bytes]],
    derived: frozenset[str] | set[str] = frozenset(),
) -> dict:
    """previous/current: (datapackage descriptor, {table: csv bytes}); previous None for a first release.
    `derived`: the names of the tables the build makes from the others, compared by content and
    listed apart after the source tables."""
    old_package, old_files = previous if previous is not None else (None, {})
    new_package, new_files = current
    old, new = resources_by_name(old_package), resources_by_name(new_package)
    names = list(new) + [name for name in old if name not in new]
    tables = {}
    for name in [n for n in names if n not in derived] + [n for n in names if n in derived]:
        tables[name] = table_changes(
            old.get(name),
            old_files.get(name) if name in old else None,
            new.get(name),
            new_files.get(name) if name in new else None,
            by_content=name in derived,
        )
    found = {
        "previous_version": (old_package or {}).get("version"),
        "version": new_package.get("version"),
        "tables_added": [n for n in new if n not in old] if previous is not None else list(new),
        "tables_removed": [n for n in old if n not in new],
        "summary": {name: summary_of(table) for name, table in tables.items() if name not in derived},
        "tables": {name: table for name, table in tables.items() if name not in derived},
    }
    if derived:
        found["derived_summary"] = {name: summary_of(table) for name, table in tables.items() if name in derived}
        found["derived_tables"] = {name: table for name, table in tables.items() if name in derived}
    return found


def level_of(found: dict) -> str | None:
    """ "major", "minor", "patch", or None when nothing changed."""
    summaries = [*found["summary"].values(), *found.get("derived_summary", {}).values()]
    if found["tables_removed"] or any(s["columns_removed"] or s["types_changed"] for s in summaries):
        return "major"
    if found["tables_added"] or any(s["rows_added"] or s["columns_added"] for s in summaries):
        return "minor"
    if any(s["rows_removed"] or s["rows_changed"] for s in summaries):
        return "patch"
    return None


def next_semver(previous_semver: str | None, found: dict, descriptors_differ: bool = False) -> str:
    """The version after `previous_semver`; a release whose rows and schemas are all unchanged but
    whose package differs otherwise (descriptions, metadata) is a patch."""
    if previous_semver is None:
        return FIRST_SEMVER
    level = level_of(found) or ("patch" if descriptors_differ else None)
    version = semver.Version.parse(previous_semver)
    if level == "major":
        return str(version.bump_major())
    if level == "minor":
        return str(version.bump_minor())
    return str(version.bump_patch())
