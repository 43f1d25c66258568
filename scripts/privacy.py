"""Personal-data step: no e-mail address or phone number of a person in any published cell, nor in
any source text kept in datasets/sources/ (the repository publishes what the site publishes)."""

from __future__ import annotations

from pathlib import Path

from .passages import split_paragraphs
from .problems import Problem
from .text import EMAIL_MARK, PHONE_MARK, personal_data


def check_personal_data(tables: dict[str, list[dict]], files: dict[str, str]) -> list[Problem]:
    problems = []
    for table, rows in tables.items():
        for number, row in enumerate(rows, start=2):
            for field, value in row.items():
                for kind, found in personal_data(value or ""):
                    problems.append(
                        Problem(files[table], f"contains a personal {kind} ({found}); redact it", number, field)
                    )
    return problems


def personal_data_in_text(text: str) -> list[tuple[int, str]]:
    """(line, kind) of every e-mail address and phone number in a text, found as the passages see it
    (a paragraph's lines joined, so a number broken over two lines is found too)."""
    lines = text.splitlines()
    found = []
    for first, last, paragraph in split_paragraphs(text):
        for kind, value in personal_data(paragraph):
            line = next((n for n in range(first, last + 1) if value in lines[n - 1]), first)
            found.append((line, kind))
    return sorted(found)


def check_sources(root: Path, documents: list[dict]) -> list[Problem]:
    """A tracked source text that still holds personal data is refused. The address itself is not
    repeated in the message, which build logs keep."""
    problems = []
    for document in documents:
        path = root / "sources" / document["source_file"]
        if not document["source_file"] or not path.is_file():
            continue  # a missing file is reported by the checksum step
        for line, kind in personal_data_in_text(path.read_text(encoding="utf-8")):
            problems.append(
                Problem(
                    f"{root.name}/sources/{path.name}",
                    f"line {line} holds a personal {kind}; a tracked source is stored with personal data redacted: "
                    f"replace it with {EMAIL_MARK if kind == 'e-mail address' else PHONE_MARK} (as make add-source does), "
                    "record the SHA-256 of the text as received in documents.csv sha256_received, and the new "
                    "SHA-256 in sha256 and documents.sha256",
                )
            )
    return problems
