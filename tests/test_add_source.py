"""make add-source: a new source is copied, recorded and split into passages;
anything else is refused with a clear message and datasets/ left byte for byte unchanged.

The happy path runs the Makefile in a temporary copy of the project, as a maintainer would
(docs/maintaining.md): add the source, find the quote, add a caseload row for a new year, build,
and read the new rows through Datasette."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from scripts import add_source
from scripts.text import EMAIL_MARK, PHONE_MARK

from .conftest import DATASETS, NEW_ID, QUOTE_2023, in_process, new_source_text, read_csv, run_make

# personal data in the last paragraph, which the passages must redact
NEW_TEXT = new_source_text("Vragen: jan.peeters@example.org of\n0478 12 34 56.\n")


def snapshot(root: Path) -> dict[str, str]:
    """Every file under root, by relative path, with its SHA-256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def refused(datasets: Path, file: Path, document_id: str, kind: str | None = None) -> str:
    """Run the command on a copy of datasets/; it must refuse and change nothing. Its message."""
    before = snapshot(datasets)
    with pytest.raises(add_source.Refused) as refusal:
        add_source.add_source(datasets, file, document_id, kind)
    assert snapshot(datasets) == before, "a refused source changed datasets/"
    return str(refusal.value)


@pytest.fixture
def new_source(tmp_path) -> Path:
    path = tmp_path / "antwoord-123.txt"
    path.write_bytes(NEW_TEXT.encode("utf-8"))
    return path


# --- refusals ---------------------------------------------------------------------------------------


def test_not_utf8_is_refused(datasets_copy, tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes("Antwoord op de vraag\n\nHet justitiehuis heeft één dossier.\n".encode("cp1252"))
    message = refused(datasets_copy, path, NEW_ID)
    assert "is not UTF-8 text (byte 45, 0xE9, on line 3)" in message
    assert "in Windows-1252 or Latin-1 that byte is 'é'" in message


def test_a_binary_file_is_refused(datasets_copy, tmp_path):
    path = tmp_path / "slides.pdf"
    path.write_bytes(b"%PDF-1.4\n%\x00\x01 binary\n")
    assert "is not plain text: control character U+0000 on line 2" in refused(datasets_copy, path, NEW_ID)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "is empty (0 bytes); nothing to add"),
        (b" \n\n\t\n", "has no text (only white space); nothing to add"),
        ("\ufeffAntwoord\n".encode("utf-8"), "starts with a byte-order mark (U+FEFF)"),
    ],
)
def test_an_empty_or_marked_file_is_refused(datasets_copy, tmp_path, content, expected):
    path = tmp_path / "new.txt"
    path.write_bytes(content)
    assert expected in refused(datasets_copy, path, NEW_ID)


def test_a_missing_file_is_refused(datasets_copy, tmp_path):
    assert "cannot be read: No such file or directory" in refused(datasets_copy, tmp_path / "nope.txt", NEW_ID)


def test_an_id_already_present_is_refused(datasets_copy, new_source):
    message = refused(datasets_copy, new_source, "vraag-69-2022")
    assert "ID 'vraag-69-2022' is already in datasets/documents.csv; choose another id" in message


def test_an_invalid_id_is_refused(datasets_copy, new_source):
    assert "ID 'Vraag 123' is not a valid document id" in refused(datasets_copy, new_source, "Vraag 123")


def test_a_file_name_already_present_is_refused(datasets_copy, tmp_path):
    path = tmp_path / "000_835a14d83f6b42eb.txt"
    path.write_text(NEW_TEXT, encoding="utf-8")
    message = refused(datasets_copy, path, NEW_ID)
    assert "a file named 000_835a14d83f6b42eb.txt is already in datasets/sources/" in message


def test_the_same_text_under_another_name_is_refused(datasets_copy, tmp_path):
    path = tmp_path / "renamed.txt"
    shutil.copy(DATASETS / "sources" / "001_a44834a73844fd0f.txt", path)
    message = refused(datasets_copy, path, NEW_ID)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (
        f"the same text (SHA-256 {digest}) is already in datasets/sources/ as 001_a44834a73844fd0f.txt "
        "(document 'vraag-681-2023')"
    ) in message


def test_a_wrong_or_missing_kind_is_refused(datasets_copy, new_source, tmp_path):
    assert "KIND='report' is not a kind of document; use one of written_question, policy_note, presentation" in refused(
        datasets_copy, new_source, NEW_ID, "report"
    )
    note = tmp_path / "nota.txt"
    note.write_text("Een nota\n\nzonder vraag.\n", encoding="utf-8")
    assert "KIND is needed" in refused(datasets_copy, note, NEW_ID)


def test_the_command_line_says_nothing_was_changed(datasets_copy, new_source, capsys):
    before = snapshot(datasets_copy)
    status = add_source.main(["--datasets", str(datasets_copy), "--file", str(new_source), "--id", "vraag-69-2022"])
    assert status == 1
    assert capsys.readouterr().err.startswith("not added; nothing was changed:\n  - ID 'vraag-69-2022' is already")
    assert snapshot(datasets_copy) == before


# --- what an added source becomes -------------------------------------------------------------------


def test_the_row_holds_only_what_the_text_states(datasets_copy, new_source):
    add_source.add_source(datasets_copy, new_source, NEW_ID)
    row = read_csv("documents", datasets_copy)[-1]
    assert {
        k: row[k]
        for k in (
            "id",
            "title",
            "kind",
            "date",
            "date_precision",
            "question_number",
            "quote",
            "asked_by",
            "answered_by",
            "answered_by_role",
        )
    } == {
        "id": NEW_ID,
        "title": "Drugopvolgingskamers - Stand van zaken 2024",
        "kind": "written_question",
        "date": "2024-03-05",
        "date_precision": "day",
        "question_number": "123",
        "quote": "vraag nr. 123 van 5 maart 2024",
        "asked_by": "",
        "answered_by": "",
        "answered_by_role": "",
    }
    assert row["date_note"] == 'Date of the question ("vraag nr. 123 van 5 maart 2024"), as the text states it.'
    assert "asked_by, answered_by, answered_by_role): not read from the text; left NULL" in row["note"]


def test_a_policy_note_without_a_date_gets_nulls_with_reasons(datasets_copy, tmp_path):
    path = tmp_path / "nota.txt"
    path.write_text("Een nieuwe nota over detentie\n\nDe werkgroep beveelt aan.\n", encoding="utf-8")
    add_source.add_source(datasets_copy, path, "nota-nieuw", "policy_note")
    row = read_csv("documents", datasets_copy)[-1]
    assert (row["kind"], row["date"], row["question_number"], row["title"]) == (
        "policy_note",
        "",
        "",
        "Een nieuwe nota over detentie",
    )
    assert row["date_note"] == "No date read from the text; left NULL."
    assert row["note"].endswith("Not a question: question and answer columns are NULL.")


def test_the_source_is_stored_redacted_with_both_checksums_and_named_by_number_and_checksum(datasets_copy, new_source):
    # the next number after the highest one there, whatever number of sources the repository has
    after = max(int(p.name.split("_", 1)[0]) for p in (datasets_copy / "sources").glob("*.txt")) + 1
    message = add_source.add_source(datasets_copy, new_source, NEW_ID)
    received = hashlib.sha256(new_source.read_bytes()).hexdigest()
    stored_text = NEW_TEXT.replace("jan.peeters@example.org", EMAIL_MARK).replace("0478 12 34 56", PHONE_MARK)
    stored = hashlib.sha256(stored_text.encode("utf-8")).hexdigest()
    copied = datasets_copy / "sources" / f"{after:03d}_{stored[:16]}.txt"
    assert copied.read_text(encoding="utf-8") == stored_text, "only the personal data differs from the text as received"
    assert (datasets_copy / "documents.sha256").read_text(encoding="utf-8").endswith(f"{stored}  {copied.name}\n")
    row = read_csv("documents", datasets_copy)[-1]
    assert (row["sha256"], row["sha256_received"]) == (stored, received)
    assert (
        f"datasets/sources/{copied.name}  (copied with its personal data redacted; SHA-256 of the stored copy "
        f"{stored}, of the text as received {received}: both are kept, in documents.csv)"
    ) in message
    assert "next steps (docs/maintaining.md):" in message and f"make quote ID={NEW_ID} TEXT=" in message


def test_a_source_without_personal_data_is_copied_byte_for_byte(datasets_copy, tmp_path):
    path = tmp_path / "nota.txt"
    path.write_text("Een nieuwe nota over detentie\n\nDe werkgroep beveelt aan.\n", encoding="utf-8")
    after = max(int(p.name.split("_", 1)[0]) for p in (datasets_copy / "sources").glob("*.txt")) + 1
    message = add_source.add_source(datasets_copy, path, "nota-nieuw", "policy_note")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (datasets_copy / "sources" / f"{after:03d}_{digest[:16]}.txt").read_bytes() == path.read_bytes()
    row = read_csv("documents", datasets_copy)[-1]
    assert (row["sha256"], row["sha256_received"]) == (digest, digest)
    assert f"(copied byte for byte, SHA-256 {digest})" in message


def test_the_received_text_of_a_redacted_source_is_recognised(datasets_copy, tmp_path):
    """The presentation as received (with its e-mail address) is the stored, redacted 004 file: the
    same text, though no stored file has its checksum."""
    presentation = next(d for d in read_csv("documents", datasets_copy) if d["sha256"] != d["sha256_received"])
    path = tmp_path / "presentatie.txt"
    stored = (datasets_copy / "sources" / presentation["source_file"]).read_text(encoding="utf-8")
    path.write_text(stored.replace(EMAIL_MARK, "iemand@example.org"), encoding="utf-8")
    message = refused(datasets_copy, path, NEW_ID, "presentation")
    assert (
        f"is already in datasets/sources/ as {presentation['source_file']} (document '{presentation['id']}')" in message
    )


def test_a_phone_number_broken_over_two_lines_is_refused(datasets_copy, tmp_path):
    path = tmp_path / "antwoord.txt"
    path.write_text(new_source_text("Bel 0478 12\n34 56.\n"), encoding="utf-8")
    assert "line 10: a phone number that is not on one line, so it cannot be redacted in the stored copy" in refused(
        datasets_copy, path, NEW_ID
    )


def test_personal_data_is_located_and_redacted_in_the_passages(datasets_copy, new_source):
    message = add_source.add_source(datasets_copy, new_source, NEW_ID)
    assert "line 10: e-mail address jan.peeters@example.org" in message
    assert "line 11: phone number 0478 12 34 56" in message
    assert f"the published passages show {EMAIL_MARK} and {PHONE_MARK} instead" in message
    passages = [p for p in read_csv("passages", datasets_copy) if p["document_id"] == NEW_ID]
    assert [(p["id"], p["line_start"], p["line_end"]) for p in passages] == [
        (f"{NEW_ID}-001", "1", "1"),
        (f"{NEW_ID}-002", "3", "5"),
        (f"{NEW_ID}-003", "7", "8"),
        (f"{NEW_ID}-004", "10", "11"),
    ]
    assert passages[-1]["text"] == f"Vragen: {EMAIL_MARK} of {PHONE_MARK}."
    assert "example.org" not in (datasets_copy / "passages.csv").read_text(encoding="utf-8")


# --- the whole way, as a maintainer goes it ----------------------------------------------------------


async def test_a_maintainer_adds_a_source_and_a_figure_for_a_new_year(project_copy, new_source):
    added = run_make(project_copy, "add-source", f"FILE={new_source}", f"ID={NEW_ID}")
    assert added.returncode == 0, added.stderr
    assert f"added document '{NEW_ID}' (written_question)" in added.stdout

    found = run_make(
        project_copy, "quote", f"ID={NEW_ID}", "TEXT=In 2023 waren er 40 dossiers bij het  Justitiehuis Gent."
    )
    assert found.returncode == 0, found.stderr
    assert f"paragraph {NEW_ID}-003, source lines 7-8" in found.stdout
    assert found.stdout.rstrip().endswith(f"  {QUOTE_2023}")

    with open(project_copy / "datasets" / "caseload.csv", "a", encoding="utf-8", newline="") as f:
        f.write(f"gent,2023,40,true,,{NEW_ID},{QUOTE_2023},\n")  # the last cell: note_nl, empty as note
    built = run_make(project_copy, "build")
    assert built.returncode == 0, built.stderr
    assert "published build/drugbeleid.db" in built.stdout

    db = project_copy / "build" / "drugbeleid.db"
    datasette = in_process(db, settings=None)
    rows = (await datasette.client.get("/drugbeleid/caseload.json?_shape=array&year=2023")).json()
    assert [(r["justice_house_id"], r["dossiers"], r["document_id"]) for r in rows] == [("gent", 40, NEW_ID)]
    located = (
        await datasette.client.get(
            "/drugbeleid/quote_locations.json?_shape=array&table_name=caseload&row_key=gent,2023"
        )
    ).json()
    assert [(r["document_id"], r["line_start"], r["line_end"], r["passage_id"]) for r in located] == [
        (NEW_ID, 7, 8, f"{NEW_ID}-003")
    ]
    passage = (await datasette.client.get(f"/drugbeleid/passages/{NEW_ID}-004.json?_shape=array")).json()
    assert passage[0]["text"] == f"Vragen: {EMAIL_MARK} of {PHONE_MARK}."


def test_make_add_source_refuses_through_make_too(project_copy, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    before = snapshot(project_copy / "datasets")
    result = run_make(project_copy, "add-source", f"FILE={empty}", f"ID={NEW_ID}")
    assert result.returncode != 0
    assert f"not added; nothing was changed:\n  - {empty}: is empty (0 bytes); nothing to add" in result.stderr
    assert snapshot(project_copy / "datasets") == before
    usage = run_make(project_copy, "add-source", f"FILE={empty}")
    assert usage.returncode != 0 and "usage: make add-source FILE=path ID=document-id" in usage.stderr


def test_every_reason_is_given_at_once(datasets_copy, tmp_path):
    path = tmp_path / "renamed.txt"
    shutil.copy(DATASETS / "sources" / "003_819240f20e59b9ab.txt", path)
    message = refused(datasets_copy, path, "nota-reintegratie-detentie", "leaflet")
    assert message.splitlines() == [
        "  - ID 'nota-reintegratie-detentie' is already in datasets/documents.csv; choose another id",
        "  - the same text (SHA-256 9f0165b51c20e820584da47079b4eefdb05092427e834e6a4191b6f7466d3bf5) is already in datasets/sources/ as 003_819240f20e59b9ab.txt (document 'nota-reintegratie-detentie')",
        "  - KIND='leaflet' is not a kind of document; use one of written_question, policy_note, presentation",
    ]
