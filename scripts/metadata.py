"""Publish step, metadata half: Datasette's metadata derived from metadata.yml and the data package.

metadata.yml holds what is about the site (title, licence, source, what the data is and is
not) and Datasette settings per table (facets, sort, label column). Every table and column
description is written once, in the Frictionless descriptors, and copied from there.
"""

from __future__ import annotations

import html
from pathlib import Path

import yaml
from frictionless import Package, Schema


def column_description(field: dict) -> str:
    text = f"{field['description_nl']} — EN: {field['description']}"
    if field.get("unit"):
        text += f" (eenheid/unit: {field['unit']})"
    return text


def table_description_html(descriptor: dict) -> str:
    return (
        f'<p lang="nl">{html.escape(descriptor["description_nl"])}</p>'
        f'<p lang="en"><strong>{html.escape(descriptor["title"])}.</strong> {html.escape(descriptor["description"])}</p>'
    )


def table_metadata(descriptor: dict, schema: dict) -> dict:
    return {
        "title": descriptor["title_nl"],
        "description_html": table_description_html(descriptor),
        "columns": {f["name"]: column_description(f) for f in schema["fields"]},
    }


def generated_tables(package: Package) -> list[tuple[dict, Schema]]:
    """(descriptor, schema) of each table the build makes itself, such as data_quality."""
    root = Path(package.basepath)
    return [(d, Schema(str(root / d["schema"]))) for d in package.custom.get("generatedResources", [])]


def described_tables(package: Package) -> list[tuple[dict, Schema]]:
    return [(r.to_descriptor(), r.schema) for r in package.resources] + generated_tables(package)


def datasette_metadata(site: dict, package: Package, database: str) -> dict:
    metadata = {k: v for k, v in site.items() if k != "databases"}
    configured = site.get("databases", {}).get(database, {})
    tables = {}
    for descriptor, schema in described_tables(package):
        name = descriptor["name"]
        derived = table_metadata(descriptor, schema.to_descriptor())
        tables[name] = {**derived, **configured.get("tables", {}).get(name, {})}
    metadata["databases"] = {database: {**{k: v for k, v in configured.items() if k != "tables"}, "tables": tables}}
    return metadata


def read_site(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))
