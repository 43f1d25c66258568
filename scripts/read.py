"""Read step: the Frictionless data package, its CSV tables as text, and the source documents."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from frictionless import Package


@dataclass(frozen=True)
class Inputs:
    root: Path                         # the datasets/ folder
    package: Package
    tables: dict[str, list[dict]]      # table name -> rows as written in the CSV (strings)
    sources: dict[str, str]            # document id -> source text, exactly as received

    def file_of(self, table: str) -> str:
        return f"{self.root.name}/{self.package.get_resource(table).path}"


def read_package(root: Path) -> Package:
    return Package(str(root / "datapackage.json"), basepath=str(root))


def read_table(root: Path, path: str) -> list[dict]:
    with open(root / path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_sources(root: Path, documents: list[dict]) -> dict[str, str]:
    return {
        doc["id"]: (root / "sources" / doc["source_file"]).read_text(encoding="utf-8")
        for doc in documents
        if (root / "sources" / doc["source_file"]).is_file()
    }


def read_inputs(root: Path) -> Inputs:
    root = Path(root)
    package = read_package(root)
    tables = {r.name: read_table(root, r.path) for r in package.resources}
    return Inputs(root, package, tables, read_sources(root, tables.get("documents", [])))
