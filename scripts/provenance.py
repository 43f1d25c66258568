"""Provenance step: the sources are the ones received, and every verbatim value is in them.

A value passes when, after whitespace normalisation (see text.normalise), it occurs in the
normalised and redacted text of the document its row names.
"""

from __future__ import annotations

import bisect
import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from frictionless import Package

from .passages import all_passages, passage_spans
from .problems import Problem
from .text import EMAIL_MARK, PHONE_MARK, fold, normalise, redact


def read_checksums(path: Path) -> dict[str, str]:
    """sha256sum format: '<hex>  <file name>' per line."""
    sums = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*")] = digest
    return sums


def check_sources(root: Path, documents: list[dict]) -> list[Problem]:
    problems = []
    recorded = read_checksums(root / "documents.sha256")
    for number, doc in enumerate(documents, start=2):
        path = root / "sources" / doc["source_file"]
        if not path.is_file():
            problems.append(
                Problem(f"{root.name}/documents.csv", f"source file {path.name} is missing", number, "source_file")
            )
            continue
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if recorded.get(doc["source_file"]) != actual:
            problems.append(
                Problem(
                    f"{root.name}/documents.sha256",
                    f"{doc['source_file']} has SHA-256 {actual}, but {recorded.get(doc['source_file'])} is recorded",
                )
            )
        if doc.get("sha256") != actual:
            problems.append(
                Problem(
                    f"{root.name}/documents.csv",
                    f"sha256 {doc.get('sha256')!r} does not match the file ({actual})",
                    number,
                    "sha256",
                )
            )
        received = doc.get("sha256_received")
        if (
            received
            and received != actual
            and not any(mark in path.read_text(encoding="utf-8") for mark in (EMAIL_MARK, PHONE_MARK))
        ):
            problems.append(
                Problem(
                    f"{root.name}/documents.csv",
                    f"sha256_received differs from the stored file's SHA-256, but {path.name} has no redaction mark "
                    f"({EMAIL_MARK}, {PHONE_MARK}): only redacting personal data may change a source text",
                    number,
                    "sha256_received",
                )
            )
    return problems


def verbatim_fields(package: Package) -> dict[str, list[str]]:
    return {r.name: [f.name for f in r.schema.fields if f.to_descriptor().get("verbatim")] for r in package.resources}


class NormalisedText:
    """A source text, redacted and normalised, that can say on which source lines a match lies."""

    def __init__(self, text: str):
        words = [(m.group(), text.count("\n", 0, m.start()) + 1) for m in re.finditer(r"\S+", redact(text))]
        self.words = [word for word, _ in words]
        self.text = " ".join(self.words)
        self._starts, self._lines, offset = [], [], 0
        for word, line in words:
            self._starts.append(offset)
            self._lines.append(line)
            offset += len(word) + 1
        self._positions: dict[str, list[int]] | None = None

    def lines_of(self, start: int, end: int) -> tuple[int, int]:
        """(first line, last line) in the source of the characters start..end (inclusive) of self.text."""
        return self._lines[bisect.bisect_right(self._starts, start) - 1], self._lines[
            bisect.bisect_right(self._starts, end) - 1
        ]

    def find(self, value: str) -> tuple[int, int] | None:
        """(first line, last line) of the value in the source, or None when it is not there."""
        start = self.text.find(normalise(value))
        if start < 0:
            return None
        return self.lines_of(start, start + len(normalise(value)) - 1)

    def find_all(self, value: str) -> list[tuple[int, int]]:
        """(first line, last line) of every occurrence of the value, in order."""
        quote, found, start = normalise(value), [], self.text.find(normalise(value))
        while quote and start >= 0:
            found.append(self.lines_of(start, start + len(quote) - 1))
            start = self.text.find(quote, start + 1)
        return found

    def positions(self) -> dict[str, list[int]]:
        """word in search form (text.fold) -> the indexes of the words that have it."""
        if self._positions is None:
            self._positions = {}
            for index, word in enumerate(self.words):
                self._positions.setdefault(fold(word), []).append(index)
        return self._positions


def line_span(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


@dataclass(frozen=True)
class NearMatch:
    """The stretch of a document most like a quote that is not in it, and how the two differ."""

    passage_id: str | None
    line_start: int
    line_end: int
    source: str  # the stretch of the normalised source text
    similarity: float  # difflib's ratio, 0..1
    differences: list[str]  # each difference in words a person can check

    def describe(self) -> str:
        where = f"passage {self.passage_id}, " if self.passage_id else ""
        return (
            f"nearest in the source ({where}{line_span(self.line_start, self.line_end)}, "
            f"{round(self.similarity * 100)}% alike): {_shortened(self.source, 80)!r}; " + "; ".join(self.differences)
        )


COMMON_WORD = 200  # a word found more often than this in a document does not help to place a quote
MAX_DIFFERENCES = 4
LONG_QUOTE = 40  # words; a longer quote is compared word by word, not character by character
LITTLE_ALIKE = 0.6  # below this, the nearest stretch is more likely another text than a typo


def _units(text: str, by_words: bool) -> list[str]:
    return text.split(" ") if by_words else list(text)


def _similarity(quote: str, source: str, by_words: bool) -> float:
    return difflib.SequenceMatcher(None, _units(quote, by_words), _units(source, by_words), autojunk=False).ratio()


def _shortened(text: str, most: int = 60) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."


def _differences(quote: str, source: str, by_words: bool = False) -> list[str]:
    """As a person would fix them: what the quote has, what the source has. Character by character
    (difflib) for a short quote; word by word for a long one, where that is both faster and clearer."""
    a, b = _units(quote, by_words), _units(source, by_words)
    glue = " " if by_words else ""
    found = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        context = glue.join(a[max(0, i1 - (3 if by_words else 15)) : i1])
        at = f"after {context!r}" if context else "at the start"
        ours, theirs = _shortened(glue.join(a[i1:i2])), _shortened(glue.join(b[j1:j2]))
        if tag == "replace":
            found.append(f"{at} the quote has {ours!r} where the source has {theirs!r}")
        elif tag == "delete":
            found.append(f"{at} the quote has {ours!r}, which the source does not")
        else:
            found.append(f"{at} the source has {theirs!r}, which the quote does not")
    if len(found) > MAX_DIFFERENCES:
        found = found[:MAX_DIFFERENCES] + [f"and {len(found) - MAX_DIFFERENCES} more difference(s)"]
    return found


def _offsets(text: NormalisedText, words: list[str]) -> list[int]:
    """Where in the document the quote could start (a word index), best first: every word of the
    quote found in the document votes for the start it implies (a Hough transform over word offsets)."""
    votes: dict[int, int] = {}
    positions = text.positions()
    for index, word in enumerate(words):
        found = positions.get(fold(word), [])
        if len(found) <= COMMON_WORD:
            for position in found:
                votes[position - index] = votes.get(position - index, 0) + 1
    return sorted(votes, key=lambda offset: (-votes[offset], offset))


def nearest_passages(
    document_id: str, source_text: str, value: str, limit: int = 3, text: NormalisedText | None = None
) -> list[NearMatch]:
    """The stretches of a document most like a quote, best first; the one function behind
    `make quote` and the build's "not found verbatim" error. Empty when no word of the quote is there."""
    text = text or NormalisedText(source_text)
    quote = normalise(value)
    words = quote.split()
    if not words:
        return []
    spans = passage_spans(document_id, source_text)
    by_words = len(words) > LONG_QUOTE
    slack = (0,) if by_words else (-1, 0, 1)
    candidates, taken = [], []
    for offset in _offsets(text, words)[:20]:
        if any(abs(offset - other) < max(1, len(words) // 2) for other in taken):
            continue  # the same place again, shifted by a word or two
        taken.append(offset)
        # the window of the quote's length at this offset, give or take a word at either end
        best = None
        for start in (offset + d for d in slack):
            for end in (offset + len(words) + d for d in slack):
                start_, end_ = max(0, start), min(len(text.words), end)
                if start_ >= end_:
                    continue
                source = " ".join(text.words[start_:end_])
                similarity = _similarity(quote, source, by_words)
                if best is None or similarity > best[0]:
                    best = (similarity, start_, end_, source)
        if best is None:
            continue
        similarity, start, end, source = best
        first = len(" ".join(text.words[:start])) + (1 if start else 0)
        line_start, line_end = text.lines_of(first, first + len(source) - 1)
        passage = next((pid for a, b, pid in spans if a <= line_start <= b), None)
        candidates.append(
            NearMatch(passage, line_start, line_end, source, similarity, _differences(quote, source, by_words))
        )
        if len(taken) >= limit * 3:
            break
    return sorted(candidates, key=lambda m: (-m.similarity, m.line_start))[:limit]


def not_found_message(document_id: str, value: str, nearest: list[NearMatch]) -> str:
    message = f"not found verbatim in document '{document_id}': {normalise(value)[:80]!r}"
    if not nearest:
        return message + "; no word of it is in that document: is document_id right?"
    hint = "; is document_id right?" if nearest[0].similarity < LITTLE_ALIKE else ""
    return f"{message}; {nearest[0].describe()}{hint}"


def document_of(table: str, row: dict) -> str:
    """The document a row's verbatim values come from: its document_id, or for documents its id."""
    return row.get("id", "") if table == "documents" else row.get("document_id", "")


def locate_quotes(
    package: Package, tables: dict[str, list[dict]], sources: dict[str, str], root_name: str
) -> tuple[list[dict], list[Problem]]:
    """Where every verbatim value is in its document; the ones not found are problems."""
    texts = {doc: NormalisedText(text) for doc, text in sources.items()}
    locations, problems = [], []
    for table, fields in verbatim_fields(package).items():
        resource = package.get_resource(table)
        key = resource.schema.primary_key
        for number, row in enumerate(tables[table], start=2):
            document = document_of(table, row)
            text = texts.get(document) if document else None
            if text is None:
                continue  # an empty or unknown document is reported by schema validation
            for field in fields:
                value = row.get(field) or ""
                if not value.strip():
                    continue
                found = text.find(value)
                if found is None:
                    nearest = nearest_passages(document, sources[document], value, limit=1, text=text)
                    problems.append(
                        Problem(
                            f"{root_name}/{resource.path}", not_found_message(document, value, nearest), number, field
                        )
                    )
                elif table != "passages":
                    locations.append(
                        {
                            "table_name": table,
                            "row_key": ",".join(row.get(k, "") for k in key),
                            "column_name": field,
                            "document_id": document,
                            "line_start": found[0],
                            "line_end": found[1],
                        }
                    )
    return locations, problems


def with_passages(locations: list[dict], passages: list[dict]) -> list[dict]:
    """Add the passage in which each located value starts."""
    spans = {}
    for passage in passages:
        spans.setdefault(passage["document_id"], []).append(
            (int(passage["line_start"]), int(passage["line_end"]), passage["id"])
        )
    return [
        {
            **location,
            "passage_id": next(
                (
                    pid
                    for first, last, pid in spans.get(location["document_id"], [])
                    if first <= location["line_start"] <= last
                ),
                None,
            ),
        }
        for location in locations
    ]


def check_passages(tables: dict[str, list[dict]], sources: dict[str, str], root_name: str) -> list[Problem]:
    expected = all_passages(sources)
    actual = tables.get("passages", [])
    file = f"{root_name}/passages.csv"
    problems = []
    for number, (want, have) in enumerate(zip(expected, actual), start=2):
        for column, value in want.items():
            if have.get(column) != value:
                problems.append(
                    Problem(
                        file,
                        f"differs from the source text: expected {value[:60]!r}; regenerate with `python -m scripts.passages`",
                        number,
                        column,
                    )
                )
                break
    if len(expected) != len(actual):
        problems.append(
            Problem(
                file,
                f"has {len(actual)} passages, the sources give {len(expected)}; regenerate with `python -m scripts.passages`",
            )
        )
    return problems
