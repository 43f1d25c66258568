"""The English a Dutch page must not show: every message of the Dutch catalogue whose translation
differs (the words of our copies of Datasette's templates, the column menu, the filters and the
site's own interface), cut at its placeholders and markup. A piece that is a Dutch word too ("in",
"Menu") is left out: it is not evidence of English."""

from __future__ import annotations

import re
from functools import lru_cache

from babel.messages.pofile import read_po
from datasette.filters import Filters

from serve import i18n

# names of JSON shapes and types, the same on a Dutch page (_shape=array)
JSON_TERMS = {"array", "object"}
PLACEHOLDER = re.compile(r"%\(\w+\)s|<[^>]*>|\"")


def operators() -> dict[str, str]:
    """{key: Datasette's label} of every filter choice with a word in it ("contains", not "=")."""
    return {key: display for key, display, _ in Filters([]).lookups() if re.search(r"[A-Za-z]{2}", display)}


def _pieces(text: str) -> list[str]:
    return [
        p
        for p in (" ".join(piece.split()).strip(" ·[]():,.;…-") for piece in PLACEHOLDER.split(text))
        if len(re.findall(r"[A-Za-z]", p)) >= 2
    ]


@lru_cache(maxsize=1)
def phrases() -> list[str]:
    """Every English phrase of the catalogue's messages that a Dutch page must not show, longest first."""
    with open(i18n.catalogue_path("nl"), "rb") as f:
        catalog = read_po(f, locale="nl")
    english, dutch = set(), []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        dutch += strings
        if set(ids) != set(strings):
            english |= {piece for text in ids for piece in _pieces(text)}
    dutch_text = " ".join(dutch)
    found = {p for p in english if not shown(p, dutch_text) and p not in JSON_TERMS}
    return sorted(found, key=lambda p: (-len(p), p))


def shown(phrase: str, text: str) -> bool:
    """Whether `text` contains `phrase` as words of its own (a plural 's' after it counts)."""
    return re.search(r"(?<![\w])" + re.escape(phrase) + r"s?(?![\w])", text) is not None
