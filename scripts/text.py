"""Text rules shared by every step: whitespace normalisation and the redaction of personal data.

Normalisation: every run of Unicode whitespace (spaces, tabs, line breaks, no-break spaces)
becomes one space, and the ends are stripped. Nothing else changes: letters, accents,
typographic quotes and hyphens at line ends stay exactly as in the source.

The search form (`fold`) is separate: it is only what the search index and the query are
compared in, never what is shown or published as the text.
"""

from __future__ import annotations

import re
import unicodedata

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Belgian phone numbers, national (0x..) or international (+32 / 0032) form, with the usual
# separators; a candidate counts only with the digits of a real number (9 or 10 nationally),
# so that dates such as 01.01.2028, years, FTE figures and article numbers are not taken.
PHONE_CANDIDATE = re.compile(r"(?<![\w.])(?:\+32|0032|0)[ ./]?\d{1,3}(?:[ ./]?\d{2,3}){2,3}(?![\w])")

EMAIL_MARK = "[e-mailadres verwijderd]"
PHONE_MARK = "[telefoonnummer verwijderd]"


def normalise(text: str) -> str:
    return " ".join(text.split())


def dutch_number(number) -> str:
    """A number in a Dutch text (data_quality.detail_nl): a decimal comma (2,56), as the Dutch
    descriptions and pages write numbers; no thousands separator."""
    return str(number).replace(".", ",")


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
        text = text[: m.start()] + PHONE_MARK + text[m.end() :]
    return text


def personal_data(text: str) -> list[tuple[str, str]]:
    """The e-mail addresses and phone numbers in a text, as (kind, value)."""
    return [("e-mail address", m.group()) for m in EMAIL.finditer(text)] + [
        ("phone number", m.group()) for m in _phones(text)
    ]


def _fold_char(char: str) -> str:
    """One character in search form: compatibility-decomposed (NFKD: 'ﬁ' -> 'fi', '…' -> '...'),
    case-folded, without combining marks ('ï' -> 'i'). Decomposed again after case folding, which
    can itself yield a letter with a mark."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", char).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class _FoldTable(dict):
    """code point -> its search form, for str.translate: each character is folded by _fold_char
    once and then looked up in C. The build folds some 10^8 characters at 1000x the data, where
    calling _fold_char per character took a third of the build. Bounded: a visitor's query can
    bring new characters, but never more than LIMIT entries (then they are folded uncached)."""

    LIMIT = 20_000

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        if len(self) < self.LIMIT:
            self[code] = folded
        return folded


class _IrregularTable(dict):
    """code point -> '' when it folds to exactly one character, else itself: a text translated
    with it is empty when every character maps one to one (then origin i is simply i)."""

    LIMIT = 20_000

    def __missing__(self, code: int) -> str:
        irregular = "" if len(_FOLD[code]) == 1 else chr(code)
        if len(self) < self.LIMIT:
            self[code] = irregular
        return irregular


_FOLD = _FoldTable()
_IRREGULAR = _IrregularTable()


def fold_with_origins(text: str) -> tuple[str, list[int]]:
    """The search form of a text, and for each of its characters the index of the character of
    `text` it came from. Folding is done character by character, so a match in the search form can
    be mapped back to the original text (one character may become several, as '…' -> '...', or none)."""
    folded = text.translate(_FOLD)
    if not text.translate(_IRREGULAR):  # every character folded to one: the usual case
        return folded, list(range(len(text)))
    origins = []
    for index, char in enumerate(text):
        origins += [index] * len(_FOLD[ord(char)])
    return folded, origins


def fold(text: str) -> str:
    """The search form of a text: the build indexes it, the search page folds the query with it.
    Accents and case do not matter in the search form (SQLite 3.40's trigram tokenizer cannot
    remove diacritics itself). Same result as folding each character with _fold_char."""
    return text.translate(_FOLD)
