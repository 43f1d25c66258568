"""Property: whatever is wrong with the CSVs, the build succeeds with valid data or fails cleanly.

Hypothesis corrupts a scratch copy of datasets/ at random (a cell changed, deleted or added, a
column deleted, headers swapped or renamed, a row duplicated or deleted, junk or invalid UTF-8
bytes inserted, a file truncated or emptied) and builds into a folder that already holds a good
published build. Then either
- the build succeeded, and the database passes PRAGMA integrity_check and foreign_key_check and
  matches the release.json written with it; or
- it raised scripts.problems.BuildFailed, every problem names a file, a corrupted row is reported
  with its row number, and the published database, metadata.json and release.json are byte for
  byte unchanged with no temporary file left behind.
Any other exception is a crash (a traceback instead of a located message) and fails the test.
The crashes it found (now fixed in scripts/read.py) are kept as plain tests at the end.
Bounded: MAX_EXAMPLES builds (about 2-3 s each), no example database, no deadline.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import os
import shutil
import sqlite3
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from scripts.build import build
from scripts.problems import BuildFailed

from .conftest import DATASETS, PACKAGE, ROOT

SITE = ROOT / "metadata.yml"
MAX_EXAMPLES = int(os.environ.get("BUILD_PROPERTY_EXAMPLES", 25))
CSV_FILES = sorted(r["path"] for r in PACKAGE["resources"])
PUBLISHED = ("drugbeleid.db", "metadata.json", "release.json")

spec = importlib.util.spec_from_file_location("integrity_plugin", ROOT / "plugins" / "integrity.py")
integrity = importlib.util.module_from_spec(spec)
spec.loader.exec_module(integrity)


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


@dataclass
class Corruption:
    kind: str
    file: str
    row: int | None  # row number as in the file (header = 1) when the defect is in one data row
    detail: str
    new_bytes: bytes

    def __str__(self) -> str:
        where = f"{self.file}" + (f" row {self.row}" if self.row else "")
        return f"{self.kind} in {where}: {self.detail}"

    def _repr_pretty_(self, printer, cycle) -> None:
        """How hypothesis prints a failing example: the defect, not the whole file."""
        printer.text(str(self))


CELL_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "-1",
            "0",
            "1e309",
            "NaN",
            "9" * 40,
            "2022-13-45",
            "null",
            "true",
            "x" * 5000,
            '"',
            "\n",
            "a,b",
            "\x00",
            "\ufeff",
            "caseload",
            "vraag-69-2022",
        ]
    ),
)


ROW_KINDS = [
    "change_cell",
    "delete_cell",
    "add_cell",
    "delete_row",
    "duplicate_row",
    "delete_column",
    "swap_headers",
    "rename_header",
]
BYTE_KINDS = ["junk_bytes", "invalid_utf8", "truncate", "empty_file"]


def parsed(data: bytes) -> list[list[str]] | None:
    """The rows, when the file is still a CSV with a header and at least one non-empty data row."""
    try:
        rows = rows_of(data)
    except (UnicodeDecodeError, csv.Error):
        return None
    return rows if len(rows) >= 2 and rows[0] and any(rows[1:]) else None


@st.composite
def corruptions(draw, datasets: Path) -> Corruption:
    """One defect in one file of `datasets`: what it is, with the file's new bytes."""
    return Corruption(*draw(defects(datasets)))


@st.composite
def defects(draw, datasets: Path) -> tuple:
    file = draw(st.sampled_from(CSV_FILES))
    data = (datasets / file).read_bytes()
    rows = parsed(data)
    kind = draw(st.sampled_from(ROW_KINDS + BYTE_KINDS if rows else BYTE_KINDS))
    if kind in ROW_KINDS:
        header, body = rows[0], rows[1:]
        column = draw(st.integers(0, len(header) - 1))
        index = draw(st.sampled_from([i for i, row in enumerate(body) if row]))
        row_number = index + 2
        cell = min(column, len(body[index]) - 1)
    if kind == "change_cell":
        value = draw(CELL_VALUES)
        body[index][cell] = value
        return kind, file, row_number, f"cell {cell + 1} = {value[:40]!r}", csv_bytes([header] + body)
    if kind == "delete_cell":
        del body[index][cell]
        return kind, file, row_number, f"cell {cell + 1}", csv_bytes([header] + body)
    if kind == "add_cell":
        body[index].append(draw(CELL_VALUES))
        return kind, file, row_number, "extra cell", csv_bytes([header] + body)
    if kind == "delete_row":
        del body[index]
        return kind, file, None, f"row {row_number}", csv_bytes([header] + body)
    if kind == "duplicate_row":
        body.insert(index, list(body[index]))
        return kind, file, row_number + 1, f"row {row_number}", csv_bytes([header] + body)
    if kind == "delete_column":
        for row in rows:
            if column < len(row):
                del row[column]
        return kind, file, None, f"column {column + 1}", csv_bytes(rows)
    if kind == "swap_headers":
        other = draw(st.integers(0, len(header) - 1))
        header[column], header[other] = header[other], header[column]
        return kind, file, None, f"{header[other]} <-> {header[column]}", csv_bytes([header] + body)
    if kind == "rename_header":
        header[column] = draw(CELL_VALUES)
        return kind, file, None, f"column {column + 1} = {header[column][:40]!r}", csv_bytes([header] + body)
    offset = draw(st.integers(0, len(data)))
    if kind == "junk_bytes":
        junk = draw(st.binary(min_size=1, max_size=40))
        return kind, file, None, f"{junk!r} at byte {offset}", data[:offset] + junk + data[offset:]
    if kind == "invalid_utf8":
        junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80\x80"]))
        return kind, file, None, f"{junk!r} at byte {offset}", data[:offset] + junk + data[offset:]
    if kind == "truncate":
        return kind, file, None, f"at byte {offset} of {len(data)}", data[:offset]
    return kind, file, None, "0 bytes", b""


# Crashes to tolerate while a fix is pending, as (exception, scripts/ file it escapes from); only
# if the published files are untouched, and each pinned by a strict xfail test meanwhile.
KNOWN_CRASHES: set[tuple[str, str]] = set()  # all found crashes are fixed (scripts/read.py)


def crash_signature(error: BaseException) -> tuple[str, str]:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if "/scripts/" in frame.filename]
    return type(error).__name__, Path(frames[-1].filename).name if frames else "?"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def published_build(built) -> Path:
    """The folder of a good build, copied fresh into every example."""
    return built.parent


def check_valid_database(out: Path) -> None:
    with sqlite3.connect(out) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert integrity.database_problems(out) == [], "release.json does not describe the new database"


def check_clean_failure(failure: BuildFailed, row_defects: list[Corruption]) -> None:
    problems = failure.problems
    assert problems, "BuildFailed without a problem"
    for problem in problems:
        assert problem.file and problem.file.startswith("datasets/"), f"problem names no file of datasets/: {problem}"
        assert problem.message.strip(), f"problem without a message: {problem}"
    if row_defects:
        assert any(p.row is not None for p in problems), f"{row_defects[0]}: no problem says which row: {problems}"


# No shrinking: every example is a full build (2-3 s), and shrinking could take minutes; the
# failing example's defects are printed as notes, and the blob reproduces it exactly.
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_corrupted_csv_builds_valid_data_or_fails_with_located_problems(data, published_build):
    with tempfile.TemporaryDirectory() as scratch:
        datasets = Path(scratch) / "datasets"
        shutil.copytree(DATASETS, datasets)
        out = Path(scratch) / "build" / "drugbeleid.db"
        shutil.copytree(published_build, out.parent, symlinks=True)
        before = {name: sha256(out.with_name(name)) for name in PUBLISHED}

        applied = []
        for _ in range(data.draw(st.integers(1, 2), label="defects")):
            corruption = data.draw(corruptions(datasets))
            (datasets / corruption.file).write_bytes(corruption.new_bytes)
            applied.append(corruption)
            note(str(corruption))

        try:
            build(datasets, out, SITE)
        except BuildFailed as failure:
            note(str(failure))
            # A row is required only when every defect is in a row: a broken header or file can
            # rightly stop validation of that file before its rows are looked at.
            check_clean_failure(failure, applied if all(c.row for c in applied) else [])
            assert {name: sha256(out.with_name(name)) for name in PUBLISHED} == before, (
                "a failed build changed the published files"
            )
        except Exception as error:  # a crash: only a known one may pass, and only if nothing was touched
            if crash_signature(error) not in KNOWN_CRASHES:
                raise
            note(f"known crash {crash_signature(error)}: {error!r}")
            assert {name: sha256(out.with_name(name)) for name in PUBLISHED} == before, (
                "a crashed build changed the published files"
            )
        else:
            check_valid_database(out)
        leftovers = [p.name for p in out.parent.rglob(".*.tmp")]
        assert not leftovers, f"temporary files left behind: {leftovers}"


# --- the crashes hypothesis found, each kept as a plain test --------------------------------------


def failed_build(datasets: Path, tmp_path: Path) -> list:
    with pytest.raises(BuildFailed) as failure:
        build(datasets, tmp_path / "build" / "drugbeleid.db", SITE)
    return failure.value.problems


def test_invalid_utf8_is_a_located_problem(datasets_copy, tmp_path):
    path = datasets_copy / "caseload.csv"
    data = path.read_bytes()
    second_row = data.index(b"\n") + 1
    path.write_bytes(data[: second_row + 3] + b"\xff" + data[second_row + 3 :])
    problems = failed_build(datasets_copy, tmp_path)
    assert [(p.file, p.row) for p in problems] == [("datasets/caseload.csv", 2)]
    assert "not valid UTF-8" in problems[0].message


def test_a_row_with_an_extra_cell_is_a_located_problem(datasets_copy, tmp_path):
    path = datasets_copy / "caseload.csv"
    rows = rows_of(path.read_bytes())
    rows[3].append("extra")
    path.write_bytes(csv_bytes(rows))
    problems = failed_build(datasets_copy, tmp_path)
    assert ("datasets/caseload.csv", 4) in [(p.file, p.row) for p in problems]


def test_a_missing_column_is_a_located_problem(datasets_copy, tmp_path):
    path = datasets_copy / "documents.csv"
    rows = rows_of(path.read_bytes())
    column = rows[0].index("source_file")
    path.write_bytes(csv_bytes([row[:column] + row[column + 1 :] for row in rows]))
    problems = failed_build(datasets_copy, tmp_path)
    assert problems and all(p.file.startswith("datasets/") for p in problems)
    assert any(p.file == "datasets/documents.csv" and "source_file" in p.message for p in problems)


def test_a_passage_line_that_is_not_a_number_is_a_located_problem(datasets_copy, tmp_path):
    path = datasets_copy / "passages.csv"
    rows = rows_of(path.read_bytes())
    rows[2][rows[0].index("line_start")] = "abc"
    path.write_bytes(csv_bytes(rows))
    problems = failed_build(datasets_copy, tmp_path)
    assert ("datasets/passages.csv", 3, "line_start") in [(p.file, p.row, p.field) for p in problems]


def test_a_short_row_is_a_located_problem(datasets_copy, tmp_path):
    path = datasets_copy / "documents.csv"
    rows = rows_of(path.read_bytes())
    rows[2] = rows[2][: rows[0].index("source_file")]  # row 3 ends before its source_file
    path.write_bytes(csv_bytes(rows))
    problems = failed_build(datasets_copy, tmp_path)
    assert ("datasets/documents.csv", 3) in [(p.file, p.row) for p in problems]


def test_an_empty_document_id_is_a_located_problem(datasets_copy, tmp_path):
    path = datasets_copy / "documents.csv"
    rows = rows_of(path.read_bytes())
    rows[1][rows[0].index("id")] = ""
    path.write_bytes(csv_bytes(rows))
    problems = failed_build(datasets_copy, tmp_path)
    assert ("datasets/documents.csv", 2) in [(p.file, p.row) for p in problems]
