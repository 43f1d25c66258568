"""Personal-data step: no e-mail address or phone number of a person in any published cell."""
from __future__ import annotations

from .problems import Problem
from .text import personal_data


def check_personal_data(tables: dict[str, list[dict]], files: dict[str, str]) -> list[Problem]:
    problems = []
    for table, rows in tables.items():
        for number, row in enumerate(rows, start=2):
            for field, value in row.items():
                for kind, found in personal_data(value or ""):
                    problems.append(Problem(files[table], f"contains a personal {kind} ({found}); redact it", number, field))
    return problems
