"""Coverage step: every answer item and every slide of a presentation either has its facts in rows,
or is recorded in source_parts as holding none, with the reason.

A part of a source "has its facts in rows" when a verbatim value of a fact table (statements,
statistics, caseload, events, ...) lies within its lines. Slides are the pages of a presentation as
its extracted text marks them: a line that begins with one space and then text starts a new page.
"""

from __future__ import annotations

import re

from .problems import Problem

# Tables whose quotes are not facts of their own: the documents themselves, their full text split
# into paragraphs and items, the glossary of abbreviations, and the parts this step checks.
NOT_FACTS = {"documents", "passages", "answer_items", "question_items", "glossary", "source_parts"}
SLIDE_START = re.compile(r"^ \S")


def slides_of(text: str) -> list[tuple[int, int, int]]:
    """(slide number, first line, last line) of each slide of a presentation's text, from 1."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    starts = [1] + [n for n, line in enumerate(lines, start=1) if n > 1 and SLIDE_START.match(line)]
    ends = [start - 1 for start in starts[1:]] + [len(lines)]
    return [(number, first, last) for number, (first, last) in enumerate(zip(starts, ends), start=1)]


def expected_parts(
    tables: dict[str, list[dict]], sources: dict[str, str]
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(document, kind, number) -> (first line, last line) of every part the sources have."""
    parts = {
        (a["document_id"], "answer_item", a["items"]): (int(a["line_start"]), int(a["line_end"]))
        for a in tables.get("answer_items", [])
    }
    for document in tables.get("documents", []):
        if document["kind"] == "presentation" and document["id"] in sources:
            for number, first, last in slides_of(sources[document["id"]]):
                parts[(document["id"], "slide", str(number))] = (first, last)
    return parts


def facts_in(part: dict, locations: list[dict]) -> list[str]:
    """The fact tables with a verbatim value within the part's lines, in name order."""
    first, last = int(part["line_start"]), int(part["line_end"])
    return sorted(
        {
            loc["table_name"]
            for loc in locations
            if loc["document_id"] == part["document_id"]
            and loc["table_name"] not in NOT_FACTS
            and loc["line_start"] <= last
            and loc["line_end"] >= first
        }
    )


def check_parts(
    tables: dict[str, list[dict]], sources: dict[str, str], locations: list[dict], file: str, statements_file: str
) -> list[Problem]:
    problems = []
    expected = expected_parts(tables, sources)
    rows = tables.get("source_parts", [])
    recorded = {}
    for number, part in enumerate(rows, start=2):
        key = (part["document_id"], part["kind"], part["number"])
        recorded[key] = part
        if key not in expected:
            problems.append(
                Problem(
                    file,
                    f"{part['document_id']} has no {part['kind'].replace('_', ' ')} {part['number']}",
                    number,
                    "number",
                )
            )
            continue
        lines = (int(part["line_start"]), int(part["line_end"]))
        if lines != expected[key]:
            problems.append(
                Problem(
                    file,
                    f"lines {lines[0]}-{lines[1]}, but {part['kind'].replace('_', ' ')} {part['number']} of "
                    f"{part['document_id']} is lines {expected[key][0]}-{expected[key][1]}",
                    number,
                    "line_start",
                )
            )
        found = facts_in(part, locations)
        if not found and not part["no_facts_reason"].strip():
            problems.append(
                Problem(
                    file,
                    "no row of any table quotes this part: add its facts (statements, ...) "
                    "or give the reason it holds none",
                    number,
                    "no_facts_reason",
                )
            )
        if found and part["no_facts_reason"].strip():
            problems.append(
                Problem(
                    file,
                    f"says it holds no facts, but rows of {', '.join(found)} quote it; "
                    "empty no_facts_reason and no_facts_reason_nl",
                    number,
                    "no_facts_reason",
                )
            )
    for document, kind, part_number in sorted(set(expected) - set(recorded)):
        first, last = expected[(document, kind, part_number)]
        problems.append(
            Problem(
                file,
                f"{kind.replace('_', ' ')} {part_number} of {document} (lines {first}-{last}) has no row; "
                "add one, with its facts in rows or the reason it holds none",
            )
        )
    by_id = {part["id"]: part for part in rows}
    for number, statement in enumerate(tables.get("statements", []), start=2):
        part = by_id.get(statement["source_part_id"])
        if part is None:
            continue  # an unknown id is a foreign-key problem, reported by validation
        if part["document_id"] != statement["document_id"]:
            problems.append(
                Problem(
                    statements_file,
                    f"part {part['id']} is of {part['document_id']}, not of {statement['document_id']}",
                    number,
                    "source_part_id",
                )
            )
            continue
        located = [
            loc
            for loc in locations
            if loc["table_name"] == "statements" and loc["row_key"] == statement["id"] and loc["column_name"] == "quote"
        ]
        if located and not (
            int(part["line_start"]) <= located[0]["line_start"] and located[0]["line_end"] <= int(part["line_end"])
        ):
            problems.append(
                Problem(
                    statements_file,
                    f"the quote is on lines {located[0]['line_start']}-{located[0]['line_end']}, "
                    f"outside {part['id']} (lines {part['line_start']}-{part['line_end']})",
                    number,
                    "source_part_id",
                )
            )
    return problems


def coverage_rows(tables: dict[str, list[dict]], locations: list[dict]) -> list[dict]:
    """data_quality rows, one per document with parts: how many hold facts in rows, how many none."""
    rows = []
    documents = [d["id"] for d in tables.get("documents", [])]
    for document in documents:
        parts = [p for p in tables.get("source_parts", []) if p["document_id"] == document]
        if not parts:
            continue
        kind = parts[0]["kind"]
        with_facts = [p for p in parts if facts_in(p, locations)]
        statements = sum(s["document_id"] == document for s in tables.get("statements", []))
        none = len(parts) - len(with_facts)
        noun, noun_nl = ("slides", "slides") if kind == "slide" else ("answer items", "antwoorddelen")
        rows.append(
            {
                "check": f"coverage:{document}",
                "status": "pass",
                "detail": f"{document}: {len(with_facts)} of {len(parts)} {noun} have their facts in rows, {none} recorded as holding "
                f"none with the reason; {statements} statement(s)",
                "detail_nl": f"{document}: {len(with_facts)} van {len(parts)} {noun_nl} hebben hun feiten in rijen, {none} "
                f"{'staat' if none == 1 else 'staan'} genoteerd als zonder feiten, met de reden; {statements} "
                f"{'uitspraak' if statements == 1 else 'uitspraken'}",
            }
        )
    return rows
