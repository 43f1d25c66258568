"""The vague-quantity rule for fractions: a value rounded from a fraction the source gives in words
("een derde" -> 33.3 percent) is never qualified `exact`; it is qualified `rounded`, and a `rounded`
value is that fraction rounded to one decimal. Checked from value_text, the source's wording."""

from __future__ import annotations

import re

from .problems import Problem

NUMERATORS = {"een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "negen": 9}
DENOMINATORS = {"derde": 3, "vierde": 4, "kwart": 4, "vijfde": 5, "zesde": 6, "zevende": 7, "achtste": 8, "tiende": 10}
IN_WORDS = re.compile(rf"\b({'|'.join(NUMERATORS)})\s+({'|'.join(DENOMINATORS)})\b", re.IGNORECASE)
HALF = re.compile(r"\bde helft\b", re.IGNORECASE)
IN_DIGITS = re.compile(r"(?<![\d/])(\d+)\s*/\s*(\d+)e?\b")


def fraction_of(text: str) -> tuple[int, int, str] | None:
    """(numerator, denominator, the words) of the first fraction in a text, or None."""
    if m := IN_WORDS.search(text):
        return NUMERATORS[m.group(1).lower()], DENOMINATORS[m.group(2).lower()], m.group()
    if m := HALF.search(text):
        return 1, 2, m.group()
    if (m := IN_DIGITS.search(text)) and 0 < int(m.group(2)) and int(m.group(1)) < int(m.group(2)):
        return int(m.group(1)), int(m.group(2)), m.group()
    return None


def check_fractions(rows: list[dict], file: str) -> list[Problem]:
    """statistics rows: a percentage read from a fraction is `exact` only when it is that fraction
    exactly (drie vierde = 75); `rounded` only when it is that fraction rounded to one decimal."""
    problems = []
    for number, row in enumerate(rows, start=2):
        value, qualifier = row.get("value", "").strip(), row.get("qualifier", "")
        if not value or row.get("unit") != "percent":
            continue
        fraction = fraction_of(row.get("value_text", ""))
        if fraction is None:
            if qualifier == "rounded":
                problems.append(
                    Problem(
                        file,
                        f"qualifier 'rounded' is for a value rounded from a fraction the source "
                        f"gives in words, but value_text {row.get('value_text')!r} has none",
                        number,
                        "qualifier",
                    )
                )
            continue
        numerator, denominator, words = fraction
        exact = 100 * numerator / denominator
        if qualifier == "exact" and abs(float(value) - exact) > 1e-9:
            problems.append(
                Problem(
                    file,
                    f"value {value} is {words!r} ({numerator}/{denominator} = {exact:.4f}...%) rounded, "
                    "so it is not exact: qualify it 'rounded' (the rule for vague quantities)",
                    number,
                    "qualifier",
                )
            )
        if qualifier == "rounded" and float(value) != round(exact, 1):
            problems.append(
                Problem(
                    file,
                    f"value {value} is not {words!r} ({numerator}/{denominator}) rounded to one "
                    f"decimal ({round(exact, 1)})",
                    number,
                    "value",
                )
            )
    return problems
