"""Text rules shared by every step: whitespace normalisation and the redaction of personal data.

Normalisation: every run of Unicode whitespace (spaces, tabs, line breaks, no-break spaces)
becomes one space, and the ends are stripped. Nothing else changes: letters, accents,
typographic quotes and hyphens at line ends stay exactly as in the source.
"""
from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Belgian phone numbers, national (0x..) or international (+32 / 0032) form, with the usual
# separators; a candidate counts only with the digits of a real number (9 or 10 nationally),
# so that dates such as 01.01.2028, years, FTE figures and article numbers are not taken.
PHONE_CANDIDATE = re.compile(r"(?<![\w.])(?:\+32|0032|0)[ ./]?\d{1,3}(?:[ ./]?\d{2,3}){2,3}(?![\w])")

EMAIL_MARK = "[e-mailadres verwijderd]"
PHONE_MARK = "[telefoonnummer verwijderd]"


def normalise(text: str) -> str:
    return " ".join(text.split())


def _is_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if candidate.startswith("+32"):
        digits = "0" + digits[2:]
    elif digits.startswith("0032"):
        digits = "0" + digits[4:]
    return len(digits) in (9, 10)


def _phones(text: str) -> list[re.Match]:
    return [m for m in PHONE_CANDIDATE.finditer(text) if _is_phone(m.group())]


def redact(text: str) -> str:
    text = EMAIL.sub(EMAIL_MARK, text)
    for m in reversed(_phones(text)):
        text = text[: m.start()] + PHONE_MARK + text[m.end():]
    return text


def personal_data(text: str) -> list[tuple[str, str]]:
    """The e-mail addresses and phone numbers in a text, as (kind, value)."""
    return [("e-mail address", m.group()) for m in EMAIL.finditer(text)] + [
        ("phone number", m.group()) for m in _phones(text)
    ]
