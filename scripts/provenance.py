"""Provenance step: the sources are the ones received, and every verbatim value is in them.

A value passes when, after whitespace normalisation (see text.normalise), it occurs in the
normalised and redacted text of the document its row names.
"""
from __future__ import annotations

import bisect
import hashlib
import re
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


class NormalisedText:
    """A source text, redacted and normalised, that can say on which source lines a match lies."""

    def __init__(self, text: str):
        words = [(m.group(), text.count("\n", 0, m.start()) + 1) for m in re.finditer(r"\S+", redact(text))]
        self.text = " ".join(word for word, _ in words)
        self._starts, self._lines, offset = [], [], 0
        for word, line in words:
            self._starts.append(offset)
            self._lines.append(line)
            offset += len(word) + 1

    def find(self, value: str) -> tuple[int, int] | None:
        """(first line, last line) of the value in the source, or None when it is not there."""
        start = self.text.find(normalise(value))
        if start < 0:
            return None
        end = start + len(normalise(value)) - 1
        return self._lines[bisect.bisect_right(self._starts, start) - 1], self._lines[bisect.bisect_right(self._starts, end) - 1]


def document_of(table: str, row: dict) -> str:
    """The document a row's verbatim values come from: its document_id, or for documents its id."""
    return row.get("id", "") if table == "documents" else row.get("document_id", "")


def locate_quotes(package: Package, tables: dict[str, list[dict]], sources: dict[str, str], root_name: str) -> tuple[list[dict], list[Problem]]:
    """Where every verbatim value is in its document; the ones not found are problems."""
    texts = {doc: NormalisedText(text) for doc, text in sources.items()}
    locations, problems = [], []
    for table, fields in verbatim_fields(package).items():
        resource = package.get_resource(table)
        key = resource.schema.primary_key
        for number, row in enumerate(tables[table], start=2):
            document = document_of(table, row)
            text = texts.get(document) if document else None
            if text is None:
                continue  # an empty or unknown document is reported by schema validation
            for field in fields:
                value = row.get(field) or ""
                if not value.strip():
                    continue
                found = text.find(value)
                if found is None:
                    problems.append(Problem(f"{root_name}/{resource.path}", f"not found verbatim in document '{document}': {normalise(value)[:80]!r}", number, field))
                elif table != "passages":
                    locations.append({"table_name": table, "row_key": ",".join(row.get(k, "") for k in key), "column_name": field,
                                      "document_id": document, "line_start": found[0], "line_end": found[1]})
    return locations, problems


def with_passages(locations: list[dict], passages: list[dict]) -> list[dict]:
    """Add the passage in which each located value starts."""
    spans = {}
    for passage in passages:
        spans.setdefault(passage["document_id"], []).append((int(passage["line_start"]), int(passage["line_end"]), passage["id"]))
    return [
        {**location, "passage_id": next((pid for first, last, pid in spans.get(location["document_id"], [])
                                         if first <= location["line_start"] <= last), None)}
        for location in locations
    ]


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
