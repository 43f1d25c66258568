"""Provenance step: the sources are the ones received, and every verbatim value is in them.

A value passes when, after whitespace normalisation (see text.normalise), it occurs in the
normalised and redacted text of the document its row names.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from frictionless import Package

from .passages import all_passages
from .problems import Problem
from .text import normalise, redact


def read_checksums(path: Path) -> dict[str, str]:
    """sha256sum format: '<hex>  <file name>' per line."""
    sums = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*")] = digest
    return sums


def check_sources(root: Path, documents: list[dict]) -> list[Problem]:
    problems = []
    recorded = read_checksums(root / "documents.sha256")
    for number, doc in enumerate(documents, start=2):
        path = root / "sources" / doc["source_file"]
        if not path.is_file():
            problems.append(Problem(f"{root.name}/documents.csv", f"source file {path.name} is missing", number, "source_file"))
            continue
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if recorded.get(doc["source_file"]) != actual:
            problems.append(Problem(f"{root.name}/documents.sha256",
                                    f"{doc['source_file']} has SHA-256 {actual}, but {recorded.get(doc['source_file'])} is recorded"))
        if doc.get("sha256") != actual:
            problems.append(Problem(f"{root.name}/documents.csv",
                                    f"sha256 {doc.get('sha256')!r} does not match the file ({actual})", number, "sha256"))
    return problems


def verbatim_fields(package: Package) -> dict[str, list[str]]:
    return {
        r.name: [f.name for f in r.schema.fields if f.to_descriptor().get("verbatim")]
        for r in package.resources
    }


def check_quotes(package: Package, tables: dict[str, list[dict]], sources: dict[str, str], root_name: str) -> list[Problem]:
    texts = {doc: normalise(redact(text)) for doc, text in sources.items()}
    problems = []
    for table, fields in verbatim_fields(package).items():
        file = f"{root_name}/{package.get_resource(table).path}"
        for number, row in enumerate(tables[table], start=2):
            text = texts.get(row.get("document_id", ""))
            if text is None:
                continue  # an unknown document is reported by the foreign-key check
            for field in fields:
                value = normalise(row.get(field) or "")
                if value and value not in text:
                    problems.append(Problem(file, f"not found verbatim in document '{row['document_id']}': {value[:80]!r}", number, field))
    return problems


def check_passages(tables: dict[str, list[dict]], sources: dict[str, str], root_name: str) -> list[Problem]:
    expected = all_passages(sources)
    actual = tables.get("passages", [])
    file = f"{root_name}/passages.csv"
    problems = []
    for number, (want, have) in enumerate(zip(expected, actual), start=2):
        for column, value in want.items():
            if have.get(column) != value:
                problems.append(Problem(file, f"differs from the source text: expected {value[:60]!r}; regenerate with `python -m scripts.passages`", number, column))
                break
    if len(expected) != len(actual):
        problems.append(Problem(file, f"has {len(actual)} passages, the sources give {len(expected)}; regenerate with `python -m scripts.passages`"))
    return problems
