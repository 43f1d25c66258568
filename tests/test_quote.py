"""make quote: the quote as the build checks it, where it stands, and for a typo
the nearest passages with their differences, the same as the build's "not found verbatim" error."""

from __future__ import annotations

import subprocess

import pytest

from scripts.build import build
from scripts.problems import BuildFailed
from scripts.provenance import nearest_passages
from scripts.quote import find_quote, main

from .conftest import DATASETS, ROOT
from .test_build_checks import SITE, edit

SOURCE_69 = (DATASETS / "sources" / "000_835a14d83f6b42eb.txt").read_text(encoding="utf-8")


def test_a_quote_is_normalised_and_located():
    status, message = find_quote(DATASETS, "vraag-69-2022", "Justitiehuis Gent\n  0.62 VTE")
    assert status == 0
    assert message == (
        "found in document 'vraag-69-2022' (sources/000_835a14d83f6b42eb.txt), 1 time(s):\n"
        "  paragraph vraag-69-2022-023, source line 114\n"
        "the quote as the build checks it (whitespace normalised), to put in the quote column:\n"
        "  Justitiehuis Gent 0.62 VTE"
    )


def test_every_occurrence_and_a_quote_across_paragraphs():
    assert find_quote(DATASETS, "vraag-69-2022", "Justitiehuis Gent")[1].splitlines()[:3] == [
        "found in document 'vraag-69-2022' (sources/000_835a14d83f6b42eb.txt), 2 time(s):",
        "  paragraph vraag-69-2022-016, source line 58",
        "  paragraph vraag-69-2022-023, source line 114",
    ]
    status, message = find_quote(DATASETS, "vraag-69-2022", "Stand van zaken De drugopvolgingskamer")
    assert status == 0 and "  paragraphs vraag-69-2022-001 to vraag-69-2022-002, source lines 1-3" in message


def test_a_typo_shows_the_nearest_passages_and_where_they_differ():
    status, message = find_quote(DATASETS, "vraag-69-2022", "Justitiehuis Gent 0.63 VTE")
    assert status == 1
    assert message.splitlines()[:7] == [
        "not found verbatim in document 'vraag-69-2022':",
        "  Justitiehuis Gent 0.63 VTE",
        "1. paragraph vraag-69-2022-023, source line 114, 96% alike",
        "   source: Justitiehuis Gent 0.62 VTE",
        "   quote:  Justitiehuis Gent 0.63 VTE",
        "                                ^",
        "   - after 'iehuis Gent 0.6' the quote has '3' where the source has '2'",
    ]
    assert message.count("% alike") == 3


def test_an_accent_left_out_is_named():
    status, message = find_quote(DATASETS, "vraag-69-2022", "de continuiteit van de lopende trajecten")
    assert status == 1
    assert "1. paragraph vraag-69-2022-017, source line 72, " in message
    assert "after 'de continu' the quote has 'i' where the source has 'ï'" in message


def test_personal_data_is_matched_as_the_passages_show_it():
    """The build checks quotes against the redacted text: the quote to use has the mark."""
    status, message = find_quote(DATASETS, "presentatie-who-cares", "mailto:someone@example.org")
    assert status == 0
    assert message.startswith("the text has an e-mail address or phone number, which is never published")
    assert message.endswith("to put in the quote column:\n  mailto:[e-mailadres verwijderd]")
    status, message = find_quote(DATASETS, "presentatie-who-cares", "Besluiten  someone@example.org")
    assert status == 1
    assert "   source: Besluit [e-mailadres verwijderd]" in message


def test_wrong_document_or_empty_text(capsys):
    status, message = find_quote(DATASETS, "vraag-70-2022", "Gent")
    assert status == 2
    assert message.startswith("unknown document 'vraag-70-2022'; the documents are: vraag-69-2022, vraag-681-2023,")
    assert find_quote(DATASETS, "vraag-69-2022", " \n")[0] == 2
    assert "no word of it is in that document" in find_quote(DATASETS, "vraag-69-2022", "Zzyzx qwv")[1]


def test_the_build_error_shows_the_same_nearest_match(datasets_copy, tmp_path):
    edit(datasets_copy, "staffing", 4, "quote", "Justitiehuis Gent 0.63 VTE")
    with pytest.raises(BuildFailed) as failure:
        build(datasets_copy, tmp_path / "build" / "drugbeleid.db", SITE)
    [problem] = failure.value.problems
    nearest = nearest_passages("vraag-69-2022", SOURCE_69, "Justitiehuis Gent 0.63 VTE")[0]
    assert problem.message.endswith(f"; {nearest.describe()}")
    assert nearest.passage_id in find_quote(DATASETS, "vraag-69-2022", "Justitiehuis Gent 0.63 VTE")[1].splitlines()[2]


def test_a_quote_in_the_wrong_document_is_hinted_at(datasets_copy, tmp_path):
    edit(datasets_copy, "staffing", 4, "document_id", "vraag-681-2023")
    with pytest.raises(BuildFailed) as failure:
        build(datasets_copy, tmp_path / "build" / "drugbeleid.db", SITE)
    assert any(p.field == "quote" and p.message.endswith("is document_id right?") for p in failure.value.problems)


def test_command_line_status(capsys):
    assert main(["--datasets", str(DATASETS), "--id", "vraag-69-2022", "--text", "Justitiehuis Gent"]) == 0
    assert main(["--datasets", str(DATASETS), "--id", "vraag-69-2022", "--text", "Justitiehuis Gant"]) == 1
    assert "not found verbatim" in capsys.readouterr().out


def test_make_quote():
    result = subprocess.run(
        ["make", "-s", "quote", "ID=vraag-69-2022", 'TEXT=Justitiehuis Gent 0.63 "VTE"'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "not found verbatim in document 'vraag-69-2022':\n  Justitiehuis Gent 0.63 \"VTE\"" in result.stdout
    assert "1. paragraph vraag-69-2022-023, source line 114" in result.stdout
