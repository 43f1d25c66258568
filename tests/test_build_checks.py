"""Each check of the build, shown failing on a copy of the datasets with one defect.

Every failing build must name the file, row and field, report all problems at once, and leave
the previously published database byte for byte unchanged.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import shutil
import subprocess
import sys

import pytest
import sqlite_utils

from scripts.build import build
from scripts.problems import BuildFailed

from .conftest import ROOT, read_csv

SITE = ROOT / "metadata.yml"


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def edit(root, table: str, row: int, field: str, value: str) -> None:
    """Set one cell; `row` is the row number as in the file (the header is row 1)."""
    path = root / f"{table}.csv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows[row - 2][field] = value
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, rows[0].keys(), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@contextlib.contextmanager
def schema_field(root, table: str, column: str):
    """One column's field in its table's schema, to change inside the `with`; written back after it."""
    path = root / "schemas" / f"{table}.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    yield next(f for f in schema["fields"] if f["name"] == column)
    path.write_text(json.dumps(schema), encoding="utf-8")


@pytest.fixture
def published(built, tmp_path):
    """A previously published database, as `make build` leaves it."""
    out = tmp_path / "build" / "drugbeleid.db"
    out.parent.mkdir()
    shutil.copy(built, out)
    shutil.copy(built.parent / "metadata.json", out.parent / "metadata.json")
    return out


def failing_build(datasets_copy, published) -> list[str]:
    before = sha256(published), sha256(published.with_name("metadata.json"))
    with pytest.raises(BuildFailed) as failure:
        build(datasets_copy, published, SITE)
    assert (sha256(published), sha256(published.with_name("metadata.json"))) == before
    assert not list(published.parent.glob(".*.tmp")), "temporary files left behind"
    return [str(p) for p in failure.value.problems]


def test_wrong_type(datasets_copy, published):
    edit(datasets_copy, "caseload", 3, "dossiers", "twaalf")
    assert failing_build(datasets_copy, published) == [
        'datasets/caseload.csv: row 3, field \'dossiers\': type-error: Type error in the cell "twaalf" in row "3" and field "dossiers" at position "3": type is "integer/default"',
    ]


def test_duplicate_key(datasets_copy, published):
    first_id = read_csv("statistics", datasets_copy)[0]["id"]
    edit(datasets_copy, "statistics", 3, "id", first_id)
    assert failing_build(datasets_copy, published) == [
        'datasets/statistics.csv: row 3, field \'id\': unique-error: Row at position "3" has unique constraint violation in field "id" at position "1": the same as in the row at position 2',
        "datasets/statistics.csv: row 3, field 'id': primary-key: Row at position \"3\" violates the primary key: the same as in the row at position 2",
    ]


def test_unknown_foreign_key(datasets_copy, published):
    edit(datasets_copy, "staffing", 2, "justice_house_id", "leuven")
    assert failing_build(datasets_copy, published) == [
        'datasets/staffing.csv: row 2, field \'justice_house_id\': foreign-key: Row at position "2" violates the foreign key: for "justice_house_id": values "leuven" not found in the lookup table "justice_houses" as "id"',
    ]


def test_quote_not_in_source(datasets_copy, published):
    edit(datasets_copy, "staffing", 4, "quote", "Justitiehuis Gent 0.63 VTE")
    assert failing_build(datasets_copy, published) == [
        "datasets/staffing.csv: row 4, field 'quote': not found verbatim in document 'vraag-69-2022': 'Justitiehuis Gent 0.63 VTE'; "
        "nearest in the source (passage vraag-69-2022-023, line 114, 96% alike): 'Justitiehuis Gent 0.62 VTE'; "
        "after 'iehuis Gent 0.6' the quote has '3' where the source has '2'",
    ]


def test_email_address_in_a_text(datasets_copy, published):
    edit(datasets_copy, "caseload", 2, "note", "Vragen: jan.peeters@example.org of 0478 12 34 56")
    edit(datasets_copy, "caseload", 2, "note_nl", "Vragen: zie de bron")
    assert failing_build(datasets_copy, published) == [
        "datasets/caseload.csv: row 2, field 'note': contains a personal e-mail address (jan.peeters@example.org); redact it",
        "datasets/caseload.csv: row 2, field 'note': contains a personal phone number (0478 12 34 56); redact it",
    ]


def test_printed_total_that_does_not_match_is_published_as_a_warning(datasets_copy, published):
    edit(datasets_copy, "printed_totals", 4, "printed_total", "87")  # caseload 2018: rows add up to 86
    build(datasets_copy, published, SITE)
    db = sqlite_utils.Database(published)
    row = db.execute(
        "select status, detail from data_quality where \"check\" = 'reconciliation:caseload-2018'"
    ).fetchone()
    assert row == (
        "warning",
        "caseload 2018: printed total 87 dossiers, sum of 2 rows 86 dossiers: differ by -1; both are published, the printed total as it stands",
    )
    assert db.execute("select printed_total from printed_totals where id = 'caseload-2018'").fetchone() == (87,)


def test_printed_total_without_rows_to_add_up(datasets_copy, published):
    edit(datasets_copy, "printed_totals", 2, "period", "2015")
    assert failing_build(datasets_copy, published) == [
        "datasets/printed_totals.csv: row 2, field 'period': printed total for caseload 2015 has no rows to add up",
    ]


def test_changed_source_text(datasets_copy, published):
    source = datasets_copy / "sources" / "001_a44834a73844fd0f.txt"
    source.write_text(source.read_text(encoding="utf-8").replace("01.01.2028", "01.01.2029"), encoding="utf-8")
    problems = failing_build(datasets_copy, published)
    assert problems[0].startswith("datasets/documents.sha256: 001_a44834a73844fd0f.txt has SHA-256 ")
    assert any(p.startswith("datasets/documents.csv: row 3, field 'sha256': sha256 ") for p in problems)


def test_missing_description_is_refused(datasets_copy, published):
    with schema_field(datasets_copy, "staffing", "fte") as field:
        del field["description_nl"]
    assert failing_build(datasets_copy, published) == [
        "datasets/schemas/staffing.json, field 'fte': column has no description_nl",
    ]


def test_all_problems_are_reported_at_once(datasets_copy, published):
    edit(datasets_copy, "caseload", 3, "dossiers", "twaalf")
    edit(datasets_copy, "staffing", 4, "quote", "Justitiehuis Gent 0.63 VTE")
    edit(datasets_copy, "caseload", 2, "note", "jan.peeters@example.org")
    edit(datasets_copy, "caseload", 2, "note_nl", "zie de bron")
    assert len(failing_build(datasets_copy, published)) == 3


def test_command_line_exit_code_and_message(datasets_copy, published):
    edit(datasets_copy, "staffing", 2, "justice_house_id", "leuven")
    before = sha256(published)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.build",
            "--datasets",
            str(datasets_copy),
            "--out",
            str(published),
            "--site",
            str(SITE),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "build failed with 1 problem(s); nothing was published:" in result.stderr
    assert "datasets/staffing.csv: row 2, field 'justice_house_id': foreign-key" in result.stderr
    assert sha256(published) == before


def test_a_good_build_replaces_the_database(datasets_copy, published):
    edit(datasets_copy, "staffing", 2, "note", "A changed note.")
    build(datasets_copy, published, SITE)
    db = sqlite_utils.Database(published)
    assert db.execute("select note from staffing where justice_house_id = 'antwerpen'").fetchone() == (
        "A changed note.",
    )


def test_authored_text_without_its_twin(datasets_copy, published):
    """A text we wrote in one language only is refused, with the file, row and missing column."""
    edit(datasets_copy, "events", 2, "title_nl", "")
    edit(datasets_copy, "statistics", 3, "note", "")
    assert failing_build(datasets_copy, published) == [
        "datasets/statistics.csv: row 3, field 'note': 'note_nl' is filled but the column it translates, 'note', is empty",
        "datasets/events.csv: row 2, field 'title_nl': 'title' is filled but its twin 'title_nl' (nl) is empty",
    ]


def test_twin_of_an_unknown_column(datasets_copy, published):
    with schema_field(datasets_copy, "staffing", "note_nl") as field:
        field["twin_of"] = "notes"
    assert failing_build(datasets_copy, published) == [
        "datasets/schemas/staffing.json, field 'note_nl': twin_of names no column of the table: 'notes'",
    ]


def test_translation_check_recorded_in_data_quality(built):
    rows = {r["check"]: r for r in sqlite_utils.Database(built)["data_quality"].rows}
    assert rows["translations"]["status"] == "pass"
    assert "Dutch and English" in rows["translations"]["detail"]


def test_data_quality_is_written_in_both_languages(built):
    """The build's own report has a Dutch twin of every detail (detail_nl, at the end of the table),
    written by each of its writers: the checks, the reconciliation, the row counts and the MQA."""
    db = sqlite_utils.Database(built)
    assert list(db["data_quality"].columns_dict) == ["check", "status", "detail", "detail_nl"]
    rows = {r["check"]: r for r in db["data_quality"].rows}
    assert all(r["detail_nl"] and r["detail_nl"] != r["detail"] for r in rows.values()), [
        c for c, r in rows.items() if not r["detail_nl"] or r["detail_nl"] == r["detail"]
    ]
    for check in (
        "translations",
        "reconciliation:caseload-2018",
        "row_count:caseload",
        "mqa:score",
        "mqa:interoperability",
    ):
        assert check in rows
    assert rows["translations"]["detail_nl"].startswith("elke eigen tekst in het Nederlands en het Engels")
    assert rows["reconciliation:staffing-2022-10-14"]["detail_nl"] == (
        "staffing 2022-10-14: gedrukt totaal 2,56 VTE, som van 5 rijen 2,57 VTE: verschil 0,01; "
        "beide worden gepubliceerd, het gedrukte totaal zoals het er staat"
    )
    assert rows["row_count:caseload"]["detail_nl"] == "20 rijen"
    assert rows["mqa:score"]["detail_nl"].startswith("MQA-score ")
    assert any(c.startswith("mqa:missed:") and "punten gemist door" in r["detail_nl"] for c, r in rows.items())


def test_a_data_quality_row_without_its_twin_is_refused():
    from frictionless import Schema

    from scripts.validate import check_written_twins

    schema = Schema(str(ROOT / "datasets" / "schemas" / "data_quality.json"))
    rows = [
        {"check": "a", "status": "pass", "detail": "checked", "detail_nl": "gecontroleerd"},
        {"check": "b", "status": "pass", "detail": "checked", "detail_nl": ""},
    ]
    assert [str(p) for p in check_written_twins("data_quality", schema, rows)] == [
        "data_quality (written by the build): row 2, field 'detail_nl': 'detail' is filled but its twin 'detail_nl' is empty"
    ]


def statistics_row(root, statistic_id: str) -> int:
    """The row number (as in the file) of one statistic, found by its id, not by position."""
    return next(n for n, row in enumerate(read_csv("statistics", root), start=2) if row["id"] == statistic_id)


def test_a_value_rounded_from_a_fraction_in_words_is_not_exact(datasets_copy, published):
    row = next(r for r in read_csv("statistics", datasets_copy) if r["value_text"] == "een derde")
    number = statistics_row(datasets_copy, row["id"])
    edit(datasets_copy, "statistics", number, "qualifier", "exact")
    assert failing_build(datasets_copy, published) == [
        (
            f"datasets/statistics.csv: row {number}, field 'qualifier': value {row['value']} is 'een derde' (1/3 = 33.3333...%) "
            "rounded, so it is not exact: qualify it 'rounded' (the rule for vague quantities)"
        ),
    ]


def test_rounded_needs_a_fraction_and_its_rounding(datasets_copy, published):
    rows = read_csv("statistics", datasets_copy)
    third = next(r for r in rows if r["value_text"] == "een derde")
    plain = next(r for r in rows if r["unit"] == "percent" and r["qualifier"] == "exact" and "%" in r["value_text"])
    edit(datasets_copy, "statistics", statistics_row(datasets_copy, third["id"]), "value", "33.0")
    edit(datasets_copy, "statistics", statistics_row(datasets_copy, plain["id"]), "qualifier", "rounded")
    assert sorted(failing_build(datasets_copy, published)) == sorted(
        [
            (
                f"datasets/statistics.csv: row {statistics_row(datasets_copy, third['id'])}, field 'value': value 33.0 is not "
                "'een derde' (1/3) rounded to one decimal (33.3)"
            ),
            (
                f"datasets/statistics.csv: row {statistics_row(datasets_copy, plain['id'])}, field 'qualifier': qualifier 'rounded' is "
                f"for a value rounded from a fraction the source gives in words, but value_text {plain['value_text']!r} has none"
            ),
        ]
    )


def test_a_fraction_that_is_exact_stays_exact(datasets_copy, published):
    """'drie vierde' is 75 exactly: exact is right, and the build accepts it."""
    row = next(r for r in read_csv("statistics", datasets_copy) if r["value_text"] == "drie vierde")
    assert (row["value"], row["qualifier"]) == ("75", "exact")
    build(datasets_copy, published, SITE)


def record_source(root, file_name: str) -> None:
    """Record a source file's new checksum everywhere, as if it had been received like this."""
    digest = sha256(root / "sources" / file_name)
    sums = root / "documents.sha256"
    sums.write_text(
        "".join(
            f"{digest}  {file_name}\n" if line.endswith(f"  {file_name}") else f"{line}\n"
            for line in sums.read_text(encoding="utf-8").splitlines()
        ),
        encoding="utf-8",
    )
    number = next(n for n, d in enumerate(read_csv("documents", root), start=2) if d["source_file"] == file_name)
    edit(root, "documents", number, "sha256", digest)
    edit(root, "documents", number, "sha256_received", digest)


def test_a_tracked_source_with_personal_data_is_refused(datasets_copy, published):
    source = datasets_copy / "sources" / "001_a44834a73844fd0f.txt"
    lines = source.read_text(encoding="utf-8").split("\n")
    lines[-2] += " Vragen: jan.peeters@example.org of 0478 12 34 56"
    source.write_text("\n".join(lines), encoding="utf-8")
    record_source(datasets_copy, source.name)
    line = len(lines) - 1
    problems = failing_build(datasets_copy, published)
    assert [p for p in problems if p.startswith("datasets/sources/")] == [
        f"datasets/sources/001_a44834a73844fd0f.txt: line {line} holds a personal {kind}; a tracked source is stored with "
        f"personal data redacted: replace it with {mark} (as make add-source does), record the SHA-256 of the text as "
        "received in documents.csv sha256_received, and the new SHA-256 in sha256 and documents.sha256"
        for kind, mark in (
            ("e-mail address", "[e-mailadres verwijderd]"),
            ("phone number", "[telefoonnummer verwijderd]"),
        )
    ]
    assert not any("jan.peeters" in p or "0478" in p for p in problems), "the message repeats the personal data"


def test_a_received_checksum_without_a_redaction_is_refused(datasets_copy, published):
    number = next(n for n, d in enumerate(read_csv("documents", datasets_copy), start=2) if d["id"] == "vraag-681-2023")
    edit(datasets_copy, "documents", number, "sha256_received", "0" * 64)
    assert failing_build(datasets_copy, published) == [
        f"datasets/documents.csv: row {number}, field 'sha256_received': sha256_received differs from the stored file's "
        "SHA-256, but 001_a44834a73844fd0f.txt has no redaction mark ([e-mailadres verwijderd], [telefoonnummer verwijderd]): "
        "only redacting personal data may change a source text",
    ]


def test_a_new_value_of_a_closed_list_needs_its_labels_in_both_languages(datasets_copy, published):
    """A maintainer adds a unit to the closed list and uses it: the build refuses it until the value
    has its English and Dutch labels beside the field, naming table, column and value. The unit is
    one the list does not hold yet, whatever units the data has by then."""
    with schema_field(datasets_copy, "statistics", "unit") as field:
        unit = next(f"new-unit-{n}" for n in range(100) if f"new-unit-{n}" not in field["constraints"]["enum"])
        field["constraints"]["enum"].append(unit)
    edit(datasets_copy, "statistics", 2, "unit", unit)
    problems = failing_build(datasets_copy, published)
    assert problems == [
        f"datasets/schemas/statistics.json, field 'unit': table 'statistics', column 'unit': value '{unit}' of its "
        "closed list has no label and no label_nl; write them beside the field: "
        f'"value_labels": {{"{unit}": {{"label": "…", "label_nl": "…"}}}}',
    ]
    with schema_field(datasets_copy, "statistics", "unit") as field:
        field["value_labels"][unit] = {"label": unit}
    assert failing_build(datasets_copy, published) == [
        problems[0].replace("has no label and no label_nl", "has no label_nl")
    ]


def test_content_refused_by_its_json_schema_names_file_and_place(datasets_copy, published, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    figures = content / "key_figures.yml"
    figures.write_text(figures.read_text(encoding="utf-8").replace("  label_nl:", "  label_fr:", 1), encoding="utf-8")
    before = sha256(published)
    with pytest.raises(BuildFailed) as failure:
        build(datasets_copy, published, SITE, content_dir=content)
    assert sha256(published) == before
    problems = [str(p) for p in failure.value.problems]
    assert len(problems) == 2, problems
    assert all(p.startswith("content/key_figures.yml: at 0: ") for p in problems), problems
    assert any("'label_nl' is a required property" in p for p in problems)
    assert any("'label_fr' was unexpected" in p for p in problems)
