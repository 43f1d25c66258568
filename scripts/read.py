"""Read step: the Frictionless data package, its CSV tables as text, and the source documents."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from frictionless import FrictionlessException, Package

from .problems import BuildFailed, Problem


@dataclass(frozen=True)
class Inputs:
    root: Path  # the datasets/ folder
    package: Package
    tables: dict[str, list[dict]]  # table name -> rows as written in the CSV (strings)
    sources: dict[str, str]  # document id -> source text, exactly as received
    canonical: dict[str, bytes] = field(default_factory=dict)  # CSV path -> its canonical bytes, when saved otherwise

    def file_of(self, table: str) -> str:
        return f"{self.root.name}/{self.package.get_resource(table).path}"


def read_package(root: Path) -> Package:
    """The descriptor and every schema it names; an unreadable one stops the build here."""
    try:
        package = Package(str((root / "datapackage.json").resolve()))
        for resource in package.resources:
            _ = resource.schema  # resolves schemas/<table>.json
    except FrictionlessException as error:
        raise BuildFailed([Problem(f"{root.name}/datapackage.json", error.error.message)]) from None
    return package


def read_table(root: Path, path: str) -> list[dict]:
    """The rows of a CSV that the build has accepted (a byte-order mark is skipped, as the build does)."""
    with open(root / path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# What a spreadsheet does to a CSV, and what the build makes of it (docs/provenance.md, "CSVs from a spreadsheet"):
# a byte-order mark, CRLF line ends and a missing final newline change no cell, so they are accepted
# and the file is written back canonically; another separator or another encoding changes what the
# cells are, so the file is refused with what a person can see and fix.
BOM = "\ufeff"
SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
RESAVE = "open it again and save it as 'CSV UTF-8' with commas as separators"


def canonical_csv(records: list[list[str]]) -> bytes:
    """The form every CSV in datasets/ is kept in: UTF-8 without a byte-order mark, LF line ends,
    a final newline, quotes only where a cell needs them (Python's csv module, QUOTE_MINIMAL)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    return out.getvalue().encode("utf-8")


def spreadsheet_changes(data: bytes) -> list[str]:
    """What, in these bytes, a spreadsheet may have written that canonical_csv does not."""
    changes = []
    if data.startswith(BOM.encode("utf-8")):
        changes.append("byte-order mark removed")
    if b"\r\n" in data:
        changes.append("CRLF line ends made LF")
    if data and not data.endswith(b"\n"):
        changes.append("final newline added")
    return changes or ["quoting made minimal"]


def decoding_problem(data: bytes, error: UnicodeDecodeError, file: str) -> Problem:
    """Not UTF-8: say which encoding a spreadsheet probably used, and how to save it again."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Problem(file, f"saved as UTF-16 (a spreadsheet's 'Unicode text'), not UTF-8; {RESAVE}", row=1)
    line = data[: error.start].count(b"\n") + 1
    byte = data[error.start]
    message = f"is not valid UTF-8 (byte {error.start}, 0x{byte:02X})"
    try:
        as_windows = bytes([byte]).decode("cp1252")
        message += f": saved in another encoding, probably Windows-1252 or Latin-1, where this byte is {as_windows!r}"
    except UnicodeDecodeError:
        pass
    return Problem(file, f"{message}; {RESAVE}", row=line)


def separator_problem(header: list[str], first_line: str, columns: list[str], file: str) -> Problem | None:
    """A header that is one cell with another separator in it: a spreadsheet's regional setting."""
    if len(header) >= len(columns):
        return None
    for separator, name in SEPARATORS.items():
        if len(first_line.split(separator)) > len(header):
            return Problem(
                file,
                f"{name} used as separators instead of commas (a spreadsheet's regional setting does this); {RESAVE}",
                row=1,
            )
    return None


def read_checked_table(root: Path, path: str, columns: list[str]) -> tuple[list[dict], list[Problem], bytes | None]:
    """The rows of one CSV, or located problems when it is not a table of its schema's columns:
    not UTF-8, another separator, other columns than the schema's, or a row with more or fewer cells
    than the header. Later checks can then rely on every row having every column. Third: the file's
    canonical bytes when it is accepted but not stored canonically (saved by a spreadsheet), else None."""
    file = f"{root.name}/{path}"
    try:
        data = (root / path).read_bytes()
    except OSError as error:
        return [], [Problem(file, f"cannot be read: {error.strerror}")], None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return [], [decoding_problem(data, error, file)], None
    text = text.removeprefix(BOM)
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        return [], [Problem(file, f"is not a readable CSV: {error}")], None
    if not records:
        return [], [Problem(file, f"is empty; expected the header {','.join(columns)}")], None
    header, problems, rows = records[0], [], []
    wrong_separator = separator_problem(header, text.split("\n", 1)[0], columns, file)
    if wrong_separator:
        return [], [wrong_separator], None
    if header != columns:
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns]
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"not in the schema: {', '.join(extra)}" if extra else "",
                "" if missing or extra else f"in another order than the schema's ({','.join(columns)})",
            )
            if part
        )
        problems.append(Problem(file, f"header does not match schemas: {detail}", row=1))
    for number, cells in enumerate(records[1:], start=2):
        if len(cells) != len(header):
            problems.append(Problem(file, f"has {len(cells)} cells, the header has {len(header)}", row=number))
        else:
            rows.append(dict(zip(header, cells)))
    canonical = canonical_csv(records)
    return rows, problems, (None if problems or canonical == data else canonical)


def read_sources(root: Path, documents: list[dict]) -> dict[str, str]:
    return {
        doc["id"]: (root / "sources" / doc["source_file"]).read_text(encoding="utf-8")
        for doc in documents
        if doc["id"] and doc["source_file"] and (root / "sources" / doc["source_file"]).is_file()
    }


def read_inputs(root: Path) -> Inputs:
    root = Path(root).resolve()
    package = read_package(root)
    tables, problems, canonical = {}, [], {}
    for resource in package.resources:
        tables[resource.name], found, rewrite = read_checked_table(root, resource.path, resource.schema.field_names)
        problems += found
        if rewrite is not None:
            canonical[resource.path] = rewrite
    if problems:
        raise BuildFailed(problems)
    return Inputs(root, package, tables, read_sources(root, tables.get("documents", [])), canonical)


def write_canonical(inputs: Inputs) -> list[str]:
    """Write back, in canonical form, the CSVs a spreadsheet saved otherwise (only the bytes change,
    never a cell); called once every check has passed. What was changed, per file."""
    done = []
    for path, data in inputs.canonical.items():
        target = inputs.root / path
        changes = spreadsheet_changes(target.read_bytes())
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        done.append(f"{inputs.root.name}/{path}: written back canonically ({', '.join(changes)})")
    return done
