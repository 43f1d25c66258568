"""Constraints for the future: a schema states rules, not today's data, and says
why each constraint holds (constraints_reason / constraints_reason_nl beside it)."""

from __future__ import annotations

import json

import pytest
from frictionless import Resource, Schema

from .conftest import DATASETS

SCHEMAS = sorted((DATASETS / "schemas").glob("*.json"))
EXPLAINED = {"minimum", "maximum", "enum", "pattern", "minLength", "maxLength"}


def fields():
    for path in SCHEMAS:
        for field in json.loads(path.read_text(encoding="utf-8"))["fields"]:
            yield path.stem, field


@pytest.mark.parametrize(
    "table, field",
    [(t, f) for t, f in fields() if EXPLAINED & set(f.get("constraints", {}))],
    ids=lambda v: v if isinstance(v, str) else v["name"],
)
def test_every_constraint_says_why_in_both_languages(table, field):
    assert field.get("constraints_reason"), f"{table}.{field['name']}: no constraints_reason"
    assert field.get("constraints_reason_nl"), f"{table}.{field['name']}: no constraints_reason_nl"
    assert field["constraints_reason"] != field["constraints_reason_nl"]


def errors(table: str, row: dict) -> list[str]:
    """Constraint errors of one row against a table's schema (foreign keys aside: they need the package)."""
    descriptor = json.loads((DATASETS / "schemas" / f"{table}.json").read_text(encoding="utf-8"))
    descriptor.pop("foreignKeys", None)
    report = Resource(data=[list(row), list(row.values())], schema=Schema.from_descriptor(descriptor)).validate()
    return [f"{e.type}: {e.field_name}" for task in report.tasks for e in task.errors]


CASELOAD = {
    "justice_house_id": "gent",
    "year": "2023",
    "dossiers": "40",
    "period_complete": "true",
    "note": "",
    "document_id": "vraag-123-2024",
    "quote": "In 2023 waren er 40 dossiers.",
    "note_nl": "",
}


def test_a_caseload_year_after_the_sources_of_today_is_accepted():
    assert errors("caseload", CASELOAD) == []
    assert errors("caseload", {**CASELOAD, "year": "2031"}) == []


def test_rules_still_hold_a_year_before_the_first_drug_court_and_a_negative_count():
    assert errors("caseload", {**CASELOAD, "year": "2007"}) == ["constraint-error: year"]
    assert errors("caseload", {**CASELOAD, "dossiers": "-1"}) == ["constraint-error: dossiers"]


def test_the_year_2008_rule_is_in_the_sources():
    rule = next(f for t, f in fields() if (t, f["name"]) == ("caseload", "year"))
    assert rule["constraints"]["minimum"] == 2008 and "maximum" not in rule["constraints"]
    quoted = rule["constraints_reason"].split('"')[1]
    assert quoted in " ".join((DATASETS / "sources" / "000_835a14d83f6b42eb.txt").read_text(encoding="utf-8").split())


@pytest.mark.parametrize(
    "table, row",
    [
        (
            "justice_houses",
            {
                "id": "sint-niklaas",
                "name": "Justitiehuis Sint-Niklaas",
                "document_id": "vraag-123-2024",
                "quote": "Justitiehuis Sint-Niklaas",
            },
        ),
        (
            "recommendations",
            {
                "id": "nieuw",
                "ordinal": "1",
                "section": "",
                "kind": "recommendation",
                "text": "x",
                "document_id": "nota-nieuw",
                "quote": "x",
                "footnote": "vii",
            },
        ),
        (
            "question_items",
            {
                "document_id": "vraag-123-2024",
                "item": "1",
                "ordinal": "1",
                "kind": "question",
                "text": "x",
                "line_start": "3",
                "line_end": "3",
            },
        ),
        (
            "answer_items",
            {
                "document_id": "vraag-123-2024",
                "items": "1",
                "ordinal": "1",
                "text": "x",
                "line_start": "3",
                "line_end": "3",
            },
        ),
        (
            "citations",
            {
                "id": "x",
                "year": "1987",
                "year_suffix": "c",
                "cited_as": "x",
                "citation_form": "author_year",
                "claim": "x",
                "document_id": "d",
                "quote": "x",
            },
        ),
    ],
)
def test_lists_of_todays_values_do_not_refuse_the_next_source(table, row):
    descriptor = json.loads((DATASETS / "schemas" / f"{table}.json").read_text(encoding="utf-8"))
    names = [f["name"] for f in descriptor["fields"]]
    full = {name: row.get(name, "") for name in names}
    assert [e for e in errors(table, full) if e.split(": ")[1] in row] == []
