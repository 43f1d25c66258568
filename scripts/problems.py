"""What a failed check reports: the file, the row and the field, so that a person can find it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    row: int | None = None  # row number as in the CSV file: the header is row 1
    field: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f": row {self.row}"
        if self.field is not None:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"


class BuildFailed(Exception):
    """Raised once, with every problem found, before anything is published."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"build failed with {len(problems)} problem(s); nothing was published:\n{lines}")
