"""The full text of each source, one row per paragraph, with personal data redacted.

A paragraph is a run of non-blank lines; its lines are joined with single spaces.
`python -m scripts.passages` writes datasets/passages.csv; the build checks that the file
still matches what this module makes of the sources.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from .read import read_table
from .text import normalise, redact

COLUMNS = ["id", "document_id", "ordinal", "line_start", "line_end", "text"]


def split_paragraphs(text: str) -> list[tuple[int, int, str]]:
    """(first line, last line, text) of each paragraph; lines are numbered from 1."""
    paragraphs, start, lines = [], None, []
    for number, line in enumerate(text.splitlines() + [""], start=1):
        if line.strip():
            start = start or number
            lines.append(line)
        elif lines:
            paragraphs.append((start, number - 1, normalise(" ".join(lines))))
            start, lines = None, []
    return paragraphs


def passages_of(document_id: str, text: str) -> list[dict]:
    return [
        {
            "id": f"{document_id}-{n:03d}",
            "document_id": document_id,
            "ordinal": str(n),
            "line_start": str(first),
            "line_end": str(last),
            "text": redact(paragraph),
        }
        for n, (first, last, paragraph) in enumerate(split_paragraphs(text), start=1)
    ]


def passage_spans(document_id: str, text: str) -> list[tuple[int, int, str]]:
    """(first line, last line, passage id) of each paragraph of a document."""
    return [(int(p["line_start"]), int(p["line_end"]), p["id"]) for p in passages_of(document_id, text)]


def all_passages(sources: dict[str, str]) -> list[dict]:
    return [row for document_id, text in sources.items() for row in passages_of(document_id, text)]


def passages_csv(rows: list[dict]) -> bytes:
    """passages.csv as the build expects it (canonical CSV: LF line ends, minimal quoting)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def read_sources(root: Path, documents: list[dict]) -> dict[str, str]:
    return {d["id"]: (root / "sources" / d["source_file"]).read_text(encoding="utf-8") for d in documents}


def write_passages(root: Path) -> int:
    rows = all_passages(read_sources(root, read_table(root, "documents.csv")))
    (root / "passages.csv").write_bytes(passages_csv(rows))
    return len(rows)


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "datasets")
    print(f"wrote {write_passages(root)} passages to {root / 'passages.csv'}")
