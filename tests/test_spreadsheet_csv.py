"""CSVs edited the way maintainers edit them.

What a spreadsheet writes without changing a cell (a byte-order mark, CRLF line ends, no final
newline, every cell quoted) is accepted, and the file is written back canonically once every check
has passed. What changes the cells (another separator, another encoding) is refused with what a
person can see and fix; a refused build leaves datasets/ and the published database unchanged."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlite_utils

from scripts.build import build

from .conftest import DATASETS, read_csv
from .test_add_source import snapshot
from .test_build_checks import SITE, edit, failing_build, published  # noqa: F401 (fixture)

CASELOAD = (DATASETS / "caseload.csv").read_bytes()


def quote_every_cell(data: bytes) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


ACCEPTED = {
    "byte-order mark": (lambda b: b"\xef\xbb\xbf" + b, "byte-order mark removed"),
    "CRLF": (lambda b: b.replace(b"\n", b"\r\n"), "CRLF line ends made LF"),
    "no final newline": (lambda b: b.rstrip(b"\n"), "final newline added"),
    "as a spreadsheet saves 'CSV UTF-8'": (
        lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n").rstrip(b"\r\n"),
        "byte-order mark removed, CRLF line ends made LF, final newline added",
    ),
    "every cell quoted": (quote_every_cell, "quoting made minimal"),
}


def version_hash(release: dict) -> str:
    """The content part of the data version (the date part is the day of the build)."""
    return release["version"].rsplit("-", 1)[1]


@pytest.mark.parametrize("case", ACCEPTED)
def test_what_a_spreadsheet_writes_is_accepted_and_written_back_canonically(case, datasets_copy, published, built):
    change, said = ACCEPTED[case]
    path = datasets_copy / "caseload.csv"
    path.write_bytes(change(CASELOAD))
    assert path.read_bytes() != CASELOAD
    result = build(datasets_copy, published, SITE)
    assert result["rewritten"] == [f"datasets/caseload.csv: written back canonically ({said})"]
    assert path.read_bytes() == CASELOAD
    # the same data: the same content-derived version as a build of the committed files
    committed = json.loads((built.parent / "release.json").read_text(encoding="utf-8"))
    assert version_hash(result["release"]) == version_hash(committed)
    rows = read_csv("caseload")
    db = sqlite_utils.Database(published)
    assert db.execute("select count(*), sum(dossiers) from caseload").fetchone() == (
        len(rows),
        sum(int(r["dossiers"]) for r in rows),
    )


def test_a_canonical_file_is_not_rewritten(datasets_copy, published):
    before = (datasets_copy / "caseload.csv").stat().st_mtime_ns
    assert build(datasets_copy, published, SITE)["rewritten"] == []
    assert (datasets_copy / "caseload.csv").stat().st_mtime_ns == before


def test_a_spreadsheet_file_in_a_refused_build_is_left_as_it_is(datasets_copy, published):
    """The write-back happens only when the build passes: a refused build changes nothing."""
    (datasets_copy / "caseload.csv").write_bytes(b"\xef\xbb\xbf" + CASELOAD.replace(b"\n", b"\r\n"))
    edit(datasets_copy, "staffing", 2, "justice_house_id", "leuven")
    before = snapshot(datasets_copy)
    assert len(failing_build(datasets_copy, published)) == 1
    assert snapshot(datasets_copy) == before


def saved_with_semicolons(data: bytes) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def saved_with_tabs(data: bytes) -> bytes:
    return data.replace(b",", b"\t")


def saved_as_cp1252(data: bytes) -> bytes:
    return data.decode("utf-8").encode("cp1252")


def saved_as_utf16(data: bytes) -> bytes:
    return data.decode("utf-8").encode("utf-16")


RESAVE = "open it again and save it as 'CSV UTF-8' with commas as separators"
REFUSED = {
    "semicolons": (
        saved_with_semicolons,
        f"datasets/caseload.csv: row 1: semicolons used as separators instead of commas "
        f"(a spreadsheet's regional setting does this); {RESAVE}",
    ),
    "tabs": (
        saved_with_tabs,
        f"datasets/caseload.csv: row 1: tabs used as separators instead of commas "
        f"(a spreadsheet's regional setting does this); {RESAVE}",
    ),
    "Windows-1252": (saved_as_cp1252, None),
    "UTF-16": (
        saved_as_utf16,
        f"datasets/caseload.csv: row 1: saved as UTF-16 (a spreadsheet's 'Unicode text'), not UTF-8; {RESAVE}",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_what_changes_the_cells_is_refused_with_what_to_do(case, datasets_copy, published):
    change, expected = REFUSED[case]
    (datasets_copy / "caseload.csv").write_bytes(change(CASELOAD))
    before = snapshot(datasets_copy)
    problems = failing_build(datasets_copy, published)  # also: the published database is unchanged
    assert snapshot(datasets_copy) == before
    if expected is None:  # the first byte that is not UTF-8, where Python's decoder stops
        data = change(CASELOAD)
        with pytest.raises(UnicodeDecodeError) as error:
            data.decode("utf-8")
        at, byte = error.value.start, data[error.value.start]
        line = data[:at].count(b"\n") + 1
        assert problems == [
            f"datasets/caseload.csv: row {line}: is not valid UTF-8 "
            f"(byte {at}, 0x{byte:02X}): saved in another encoding, probably Windows-1252 or Latin-1, "
            f"where this byte is {bytes([byte]).decode('cp1252')!r}; {RESAVE}"
        ]
    else:
        assert problems == [expected]
