"""Find a quote in a source as the build will check it: `make quote ID=document-id TEXT="..."`.

    python -m scripts.quote [--datasets datasets] --id DOCUMENT_ID --text TEXT

Found: the quote after the build's normalisation (what to put in a quote column), with the
paragraph id (passages.id) and source lines of every occurrence. Not found: the nearest stretches
of the document and where they differ, from the same function the build's error uses
(provenance.nearest_passages). Exit status 0 when found, 1 when not, 2 for a wrong document id.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from .passages import passage_spans
from .provenance import NormalisedText, line_span, nearest_passages
from .read import read_table
from .text import EMAIL_MARK, PHONE_MARK, normalise, personal_data, redact


def source_of(root: Path, document_id: str) -> tuple[str, str] | None:
    """(source file name, text) of a document in documents.csv, or None when there is no such id."""
    for document in read_table(root, "documents.csv"):
        if document["id"] == document_id:
            return document["source_file"], (root / "sources" / document["source_file"]).read_text(encoding="utf-8")
    return None


def paragraphs(spans: list[tuple[int, int, str]], first: int, last: int) -> str:
    ids = [pid for a, b, pid in spans if a <= last and b >= first]
    return f"paragraph {ids[0]}" if len(ids) == 1 else f"paragraphs {ids[0]} to {ids[-1]}"


def markers(quote: str, source: str) -> str:
    """A line of carets under each character of the quote that differs from the source."""
    marks = [" "] * (len(quote) + 1)
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, quote, source, autojunk=False).get_opcodes():
        if tag != "equal":
            for i in range(i1, max(i2, i1 + 1)):
                marks[i] = "^"
    return "".join(marks).rstrip()


def report_found(
    document_id: str, source_file: str, quote: str, found: list[tuple[int, int]], spans: list[tuple[int, int, str]]
) -> str:
    places = "\n".join(f"  {paragraphs(spans, a, b)}, source {line_span(a, b)}" for a, b in found)
    return (
        f"found in document '{document_id}' (sources/{source_file}), {len(found)} time(s):\n{places}\n"
        f"the quote as the build checks it (whitespace normalised), to put in the quote column:\n  {quote}"
    )


def report_not_found(document_id: str, quote: str, nearest) -> str:
    out = [f"not found verbatim in document '{document_id}':\n  {quote}"]
    if not nearest:
        out.append("no word of it is in that document: is the document id right?")
    for rank, match in enumerate(nearest, start=1):
        where = f"paragraph {match.passage_id}, " if match.passage_id else ""
        out.append(
            f"{rank}. {where}source {line_span(match.line_start, match.line_end)}, {round(match.similarity * 100)}% alike"
        )
        out.append(f"   source: {match.source}")
        out.append(f"   quote:  {quote}")
        out.append(f"           {markers(quote, match.source)}")
        out += [f"   - {difference}" for difference in match.differences]
    return "\n".join(out)


def find_quote(root: Path, document_id: str, value: str) -> tuple[int, str]:
    """(exit status, what to print)."""
    source = source_of(root, document_id)
    if source is None:
        known = ", ".join(d["id"] for d in read_table(root, "documents.csv"))
        return 2, f"unknown document '{document_id}'; the documents are: {known}"
    quote = normalise(value)
    if not quote:
        return 2, 'TEXT is empty: give the words to find, e.g. TEXT="Justitiehuis Gent"'
    source_file, text = source
    # The build compares quotes with the text as the passages publish it, personal data redacted.
    note = ""
    if personal_data(quote):
        note = (
            f"the text has an e-mail address or phone number, which is never published: the build looks for it "
            f"as the passages show it, with {EMAIL_MARK} or {PHONE_MARK} in its place\n"
        )
        quote = redact(quote)
    normalised = NormalisedText(text)
    spans = passage_spans(document_id, text)
    found = normalised.find_all(quote)
    if found:
        return 0, note + report_found(document_id, source_file, quote, found, spans)
    return 1, note + report_not_found(document_id, quote, nearest_passages(document_id, text, quote, text=normalised))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=Path("datasets"))
    parser.add_argument("--id", required=True, help="the document's id in documents.csv")
    parser.add_argument("--text", required=True, help="the words to find")
    args = parser.parse_args(argv)
    status, message = find_quote(args.datasets, args.id, args.text)
    print(message, file=sys.stderr if status == 2 else sys.stdout)
    if status == 0:  # on stderr, so that the quote stays the last line of the output to copy
        print(
            "next (docs/maintaining.md, step 3): put the quote above in the quote column of the row it supports; "
            "when the rows are in, make build",
            file=sys.stderr,
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
