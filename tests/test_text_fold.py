"""The search form (scripts/text.py `fold`, `fold_with_origins`) is computed with a translation
table for speed; it must give exactly what folding one character at a time gave (the reference
below is the implementation it replaced), on random Unicode text and on every real text."""

from __future__ import annotations

import csv
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from scripts.text import fold, fold_with_origins
from tests.conftest import DATASETS


def reference_fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", char).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def reference_fold_with_origins(text: str) -> tuple[str, list[int]]:
    folded, origins = [], []
    for index, char in enumerate(text):
        part = reference_fold_char(char)
        folded.append(part)
        origins += [index] * len(part)
    return "".join(folded), origins


def real_texts() -> list[str]:
    """Every source document whole, and every cell of every CSV of the datasets."""
    texts = [path.read_text(encoding="utf-8") for path in sorted((DATASETS / "sources").glob("*.txt"))]
    for path in sorted(DATASETS.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as f:
            texts += [cell for row in csv.reader(f) for cell in row if cell]
    return texts


def assert_same(text: str) -> None:
    expected = reference_fold_with_origins(text)
    assert fold_with_origins(text) == expected
    assert fold(text) == expected[0]


# Latin with accents, ligatures and marks that fold to several or no characters, besides any text
ACCENTED = st.text(st.sampled_from(list("aeïéèÉÀçÇßẞİﬁﬂ…½²ÅǅŉΐΣσς\u0301\u0308\u00a0 \tOo-’“")), max_size=60)


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(max_size=80), ACCENTED))
def test_fold_equals_per_character_reference_on_random_text(text):
    assert_same(text)


def test_fold_equals_reference_on_every_real_text():
    texts = real_texts()
    assert len(texts) > 1000 and any(not t.isascii() for t in texts)  # the corpus really was read
    for text in texts:
        assert_same(text)


def test_characters_that_change_length_keep_their_origins():
    # '…' becomes three dots, a lone combining mark disappears: origins still point back
    folded, origins = fold_with_origins("Ré…\u0301x")
    assert folded == "re...x"
    assert origins == [0, 1, 2, 2, 2, 4]
