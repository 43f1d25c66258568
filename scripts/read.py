"""Read step: the Frictionless data package, its CSV tables as text, and the source documents."""
from __future__ import annotations

import csv
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


def read_sources(root: Path, documents: list[dict]) -> dict[str, str]:
    return {
        doc["id"]: (root / "sources" / doc["source_file"]).read_text(encoding="utf-8")
        for doc in documents
        if (root / "sources" / doc["source_file"]).is_file()
    }


def read_inputs(root: Path) -> Inputs:
    root = Path(root).resolve()
    package = read_package(root)
    tables = {r.name: read_table(root, r.path) for r in package.resources}
    return Inputs(root, package, tables, read_sources(root, tables.get("documents", [])))
