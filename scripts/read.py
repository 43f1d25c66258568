"""Read step: the Frictionless data package, its CSV tables as text, and the source documents."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from frictionless import FrictionlessException, Package

from .problems import BuildFailed, Problem


@dataclass(frozen=True)
class Inputs:
    root: Path                         # the datasets/ folder
    package: Package
    tables: dict[str, list[dict]]      # table name -> rows as written in the CSV (strings)
    sources: dict[str, str]            # document id -> source text, exactly as received

    def file_of(self, table: str) -> str:
        return f"{self.root.name}/{self.package.get_resource(table).path}"


def read_package(root: Path) -> Package:
    """The descriptor and every schema it names; an unreadable one stops the build here."""
    try:
        package = Package(str((root / "datapackage.json").resolve()))
        for resource in package.resources:
            resource.schema  # resolves schemas/<table>.json
    except FrictionlessException as error:
        raise BuildFailed([Problem(f"{root.name}/datapackage.json", error.error.message)]) from None
    return package


def read_table(root: Path, path: str) -> list[dict]:
    with open(root / path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_checked_table(root: Path, path: str, columns: list[str]) -> tuple[list[dict], list[Problem]]:
    """The rows of one CSV, or located problems when it is not a table of its schema's columns:
    not UTF-8, other columns than the schema's, or a row with more or fewer cells than the header.
    Later checks can then rely on every row having every column."""
    file = f"{root.name}/{path}"
    try:
        data = (root / path).read_bytes()
    except OSError as error:
        return [], [Problem(file, f"cannot be read: {error.strerror}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return [], [Problem(file, f"is not valid UTF-8 (byte {error.start})", row=line)]
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        return [], [Problem(file, f"is not a readable CSV: {error}")]
    if not records:
        return [], [Problem(file, f"is empty; expected the header {','.join(columns)}")]
    header, problems, rows = records[0], [], []
    if header != columns:
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns]
        detail = "; ".join(part for part in (
            f"missing {', '.join(missing)}" if missing else "",
            f"not in the schema: {', '.join(extra)}" if extra else "",
            "" if missing or extra else f"in another order than the schema's ({','.join(columns)})",
        ) if part)
        problems.append(Problem(file, f"header does not match schemas: {detail}", row=1))
    for number, cells in enumerate(records[1:], start=2):
        if len(cells) != len(header):
            problems.append(Problem(file, f"has {len(cells)} cells, the header has {len(header)}", row=number))
        else:
            rows.append(dict(zip(header, cells)))
    return rows, problems


def read_sources(root: Path, documents: list[dict]) -> dict[str, str]:
    return {
        doc["id"]: (root / "sources" / doc["source_file"]).read_text(encoding="utf-8")
        for doc in documents
        if doc["id"] and doc["source_file"] and (root / "sources" / doc["source_file"]).is_file()
    }


def read_inputs(root: Path) -> Inputs:
    root = Path(root).resolve()
    package = read_package(root)
    tables, problems = {}, []
    for resource in package.resources:
        tables[resource.name], found = read_checked_table(root, resource.path, resource.schema.field_names)
        problems += found
    if problems:
        raise BuildFailed(problems)
    return Inputs(root, package, tables, read_sources(root, tables.get("documents", [])))
