"""Add a source document: `make add-source FILE=path ID=document-id [KIND=...]`.

    python -m scripts.add_source [--datasets datasets] --file PATH --id DOCUMENT_ID [--kind KIND]

Copies the text to datasets/sources/ with personal data (e-mail addresses, phone numbers) redacted as
the passages redact it, and byte for byte otherwise; records the stored copy's SHA-256 in
documents.sha256 and in the row's sha256, and the SHA-256 of the text as received in sha256_received;
appends a documents row and regenerates passages.csv. Every check runs before anything is
written: a refused source changes nothing. The new file is named `<NNN>_<first 16 hex digits of
its SHA-256>.txt` (of the stored copy), NNN the next three-digit number (the five files received
first are named the same way, but the hex part of their names is not derived from their content).

The row holds only what can be read from the text mechanically: the title is its first paragraph;
for a written question, the number and date of "vraag nr. N van D maand JJJJ" when the text has
exactly one. Everything else is NULL, and the row's notes say why.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .passages import all_passages, passages_csv, read_sources, split_paragraphs
from .read import canonical_csv, read_checked_table
from .text import EMAIL_MARK, PHONE_MARK, normalise, personal_data, redact

MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]
QUESTION = re.compile(rf"vraag nr\. ?([0-9]+) van ([0-9]{{1,2}}) ({'|'.join(MONTHS)}) ([0-9]{{4}})", re.IGNORECASE)
LONGEST_TITLE = 200  # a first paragraph longer than this is text, not a heading: its first line is taken
NEXT_NUMBER = re.compile(r"^([0-9]{3})_")
# Characters that do not occur in a text file: C0 controls other than tab, line feed, form feed and
# carriage return (a PDF or a word-processor file that happens to decode as UTF-8 has them).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class Refused(Exception):
    """The source is not added; nothing was changed. Holds every reason."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("\n".join(f"  - {reason}" for reason in reasons))


@dataclass(frozen=True)
class Source:
    data: bytes
    text: str
    sha256: str

    def stored(self) -> Source:
        """The copy kept in datasets/sources/: personal data redacted, every other byte as received."""
        text = redact(self.text)
        data = text.encode("utf-8")
        return Source(data, text, hashlib.sha256(data).hexdigest())


def read_source(path: Path) -> Source:
    """The file's bytes, when they are non-empty UTF-8 text; otherwise why not."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise Refused([f"{path}: cannot be read: {error.strerror}"]) from None
    if not data:
        raise Refused([f"{path}: is empty (0 bytes); nothing to add"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        hint = "a PDF or word-processor file? export it as plain text (UTF-8)"
        try:
            hint = (
                f"in Windows-1252 or Latin-1 that byte is {bytes([data[error.start]]).decode('cp1252')!r}: "
                "convert the file to UTF-8 first, e.g. `iconv -f cp1252 -t utf-8`"
            )
        except UnicodeDecodeError:
            pass
        raise Refused(
            [f"{path}: is not UTF-8 text (byte {error.start}, 0x{data[error.start]:02X}, on line {line}); {hint}"]
        ) from None
    if text.startswith("\ufeff"):
        raise Refused(
            [
                f"{path}: starts with a byte-order mark (U+FEFF), which would be part of the first "
                "paragraph; save it as UTF-8 without a byte-order mark"
            ]
        )
    control = CONTROL.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        raise Refused([f"{path}: is not plain text: control character U+{ord(control.group()):04X} on line {line}"])
    if not text.strip():
        raise Refused([f"{path}: has no text (only white space); nothing to add"])
    return Source(data, text, hashlib.sha256(data).hexdigest())


def documents_schema(root: Path) -> dict:
    return json.loads((root / "schemas" / "documents.json").read_text(encoding="utf-8"))


def schema_field(root: Path, name: str) -> dict:
    return next(f for f in documents_schema(root)["fields"] if f["name"] == name)


def read_documents(root: Path) -> tuple[list[str], list[dict]]:
    """The columns and rows of documents.csv, which must itself pass the build's read step."""
    columns = [field["name"] for field in documents_schema(root)["fields"]]
    rows, problems, _ = read_checked_table(root, "documents.csv", columns)
    if problems:
        raise Refused([f"{p}; fix documents.csv first" for p in problems])
    return columns, rows


def read_recorded_sums(root: Path) -> dict[str, str]:
    """file name -> SHA-256, as documents.sha256 records them (sha256sum format)."""
    path = root / "documents.sha256"
    sums = {}
    for line in path.read_text(encoding="utf-8-sig").splitlines() if path.is_file() else []:
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*")] = digest
    return sums


def file_name_for(root: Path, sha256: str) -> str:
    numbers = [int(m.group(1)) for p in (root / "sources").iterdir() if (m := NEXT_NUMBER.match(p.name))]
    return f"{max(numbers, default=-1) + 1:03d}_{sha256[:16]}.txt"


def conflicts(
    root: Path,
    documents: list[dict],
    sums: dict[str, str],
    document_id: str,
    received_name: str,
    new_name: str,
    sha256: tuple[str, ...],
) -> list[str]:
    """Why this source cannot be added next to the ones already there (empty when it can). sha256:
    the checksums of the text as received and of its stored copy."""
    reasons = []
    pattern = schema_field(root, "id").get("constraints", {}).get("pattern", "")
    if pattern and not re.fullmatch(pattern, document_id):
        reasons.append(
            f"ID {document_id!r} is not a valid document id: use lower-case letters, digits and hyphens "
            f"(pattern {pattern}), e.g. vraag-123-2024"
        )
    if any(d["id"] == document_id for d in documents):
        reasons.append(f"ID {document_id!r} is already in datasets/documents.csv; choose another id")
    present = {p.name for p in (root / "sources").iterdir()} | {d["source_file"] for d in documents} | set(sums)
    for name in sorted({received_name, new_name} & present):
        reasons.append(
            f"a file named {name} is already in datasets/sources/ (or recorded for it); is this source already added?"
        )
    same = sorted(
        {name for name, digest in sums.items() if digest in sha256}
        | {d["source_file"] for d in documents if {d["sha256"], d.get("sha256_received")} & set(sha256)}
    )
    for name in same:
        owner = next((d["id"] for d in documents if d["source_file"] == name), None)
        reasons.append(
            f"the same text (SHA-256 {sha256[0]}) is already in datasets/sources/ as {name}"
            + (f" (document {owner!r})" if owner else "")
        )
    return reasons


def title_of(text: str) -> tuple[str, dict[str, str]]:
    """(title, how it was read, in English and Dutch): the first paragraph, or its first line when
    the paragraph is long."""
    first, _, paragraph = split_paragraphs(text)[0]
    if len(paragraph) <= LONGEST_TITLE:
        return redact(paragraph), {
            "en": "the first paragraph of the text, as printed",
            "nl": "de eerste alinea van de tekst, zoals gedrukt",
        }
    line = next(line for line in text.splitlines() if line.strip())
    return redact(normalise(line)), {
        "en": f"the first line of the text (line {first}), as printed",
        "nl": f"de eerste regel van de tekst (regel {first}), zoals gedrukt",
    }


def question_of(text: str) -> tuple[int, str, str] | None:
    """(number, ISO date, words) when the text names exactly one 'vraag nr. N van D maand JJJJ'."""
    found = {
        (int(m.group(1)), f"{m.group(4)}-{MONTHS.index(m.group(3).lower()) + 1:02d}-{int(m.group(2)):02d}", m.group())
        for m in QUESTION.finditer(normalise(text))
    }
    numbers_and_dates = {(number, date) for number, date, _ in found}
    if len(numbers_and_dates) != 1:
        return None
    return min(found)


def documents_row(
    columns: list[str], document_id: str, kind: str, file_name: str, source: Source, stored: Source
) -> dict:
    """The new documents row: what the text states mechanically, NULL (empty) with a reason otherwise.
    Every text written here is written in both languages (date_note and date_note_nl, note and
    note_nl): the build refuses an authored text without its twin."""
    title, title_basis = title_of(source.text)
    row = dict.fromkeys(columns, "")
    row.update(
        id=document_id,
        title=title,
        kind=kind,
        source_file=file_name,
        sha256=stored.sha256,
        sha256_received=source.sha256,
        quote=title,
    )
    notes = [f"Title: {title_basis['en']}."]
    notes_nl = [f"Titel: {title_basis['nl']}."]
    question = question_of(source.text) if kind == "written_question" else None
    if question:
        number, date, words = question
        row.update(
            question_number=str(number),
            date=date,
            date_precision="day",
            quote=words,
            date_note=f'Date of the question ("{words}"), as the text states it.',
            date_note_nl=f'Datum van de vraag ("{words}"), zoals de tekst ze vermeldt.',
        )
        notes.append(
            "Who asked and who answered (asked_by, answered_by, answered_by_role): not read from the text; left NULL."
        )
        notes_nl.append(
            "Wie de vraag stelde en wie antwoordde (asked_by, answered_by, answered_by_role): niet uit de tekst gelezen; blijft NULL."
        )
    elif kind == "written_question":
        row["date_note"] = 'No "vraag nr. N van D maand JJJJ" with one number and date in the text; date left NULL.'
        row["date_note_nl"] = (
            'Geen "vraag nr. N van D maand JJJJ" met één nummer en datum in de tekst; date blijft NULL.'
        )
        notes.append("Question number, who asked and who answered: not read from the text; left NULL.")
        notes_nl.append(
            "Nummer van de vraag, wie de vraag stelde en wie antwoordde: niet uit de tekst gelezen; blijven NULL."
        )
    else:
        row["date_note"] = "No date read from the text; left NULL."
        row["date_note_nl"] = "Geen datum uit de tekst gelezen; blijft NULL."
        notes.append("Not a question: question and answer columns are NULL.")
        notes_nl.append("Geen vraag: de kolommen over vraag en antwoord zijn NULL.")
    row.update(note=" ".join(notes), note_nl=" ".join(notes_nl))
    return {column: row[column] for column in columns}  # a documents.csv without a twin column gets none


def personal_data_lines(text: str) -> list[tuple[int, str, str]]:
    """(line, kind, value) of every e-mail address and phone number the passages will redact: found in
    each paragraph as the passages see it (lines joined), located on the line that holds it."""
    lines = text.splitlines()
    found = []
    for first, last, paragraph in split_paragraphs(text):
        for kind, value in personal_data(paragraph):
            line = next((n for n in range(first, last + 1) if value in lines[n - 1]), first)
            found.append((line, kind, value))
    return sorted(found)


def kind_for(root: Path, kind: str | None, text: str) -> str:
    kinds = schema_field(root, "kind")["constraints"]["enum"]
    if kind is None:
        if question_of(text):
            return "written_question"
        raise Refused([f'KIND is needed: the text has no "vraag nr. N van D maand JJJJ"; give KIND={"|".join(kinds)}'])
    if kind not in kinds:
        raise Refused([f"KIND={kind!r} is not a kind of document; use one of {', '.join(kinds)}"])
    return kind


@dataclass(frozen=True)
class Plan:
    """Every byte to write, computed before anything is written."""

    files: dict[Path, bytes]
    row: dict
    file_name: str
    passages: int
    personal: list[tuple[int, str, str]]


def plan(root: Path, file: Path, document_id: str, kind: str | None) -> Plan:
    source = read_source(file)
    stored = source.stored()
    columns, documents = read_documents(root)
    sums = read_recorded_sums(root)
    new_name = file_name_for(root, stored.sha256)
    reasons = conflicts(root, documents, sums, document_id, file.name, new_name, (source.sha256, stored.sha256))
    # what redact() cannot see on one line (a number broken over two lines) the passages would still find
    reasons += [
        f"{file}: line {line}: a {found} that is not on one line, so it cannot be redacted in the stored copy; "
        "put it on one line (or remove it) and add the source again"
        for line, found, _ in personal_data_lines(stored.text)
    ]
    try:
        kind = kind_for(root, kind, source.text)
    except Refused as refused:
        reasons += refused.reasons
    if reasons:
        raise Refused(reasons)  # every reason at once
    row = documents_row(columns, document_id, kind, new_name, source, stored)
    sums_text = (root / "documents.sha256").read_text(encoding="utf-8")
    if sums_text and not sums_text.endswith("\n"):
        sums_text += "\n"
    sources = {**read_sources(root, documents), document_id: stored.text}
    passages = all_passages(sources)
    return Plan(
        files={
            root / "sources" / new_name: stored.data,
            root / "documents.sha256": f"{sums_text}{stored.sha256}  {new_name}\n".encode(),
            root / "documents.csv": canonical_csv([columns] + [[d[c] for c in columns] for d in documents + [row]]),
            root / "passages.csv": passages_csv(passages),
        },
        row=row,
        file_name=new_name,
        passages=sum(p["document_id"] == document_id for p in passages),
        personal=personal_data_lines(source.text),
    )


def write_all(files: dict[Path, bytes]) -> None:
    """Write every file by rename; if one fails, put back what was there, so nothing is half added."""
    before = {path: path.read_bytes() if path.exists() else None for path in files}
    try:
        for path, data in files.items():
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
    except BaseException:
        for path, data in before.items():
            path.with_name(f".{path.name}.{os.getpid()}.tmp").unlink(missing_ok=True)
            if data is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(data)
        raise


def report(root: Path, file: Path, added: Plan) -> str:
    row, name = added.row, root.name
    null = [column for column, value in row.items() if not value and column not in ("note",)]
    out = [
        f"added document {row['id']!r} ({row['kind']}) from {file}:",
        (
            f"  {name}/sources/{added.file_name}  (copied byte for byte, SHA-256 {row['sha256']})"
            if not added.personal
            else f"  {name}/sources/{added.file_name}  (copied with its personal data redacted; SHA-256 of the stored copy "
            f"{row['sha256']}, of the text as received {row.get('sha256_received')}: both are kept, in documents.csv)"
        ),
        f"  {name}/documents.sha256  (the stored copy's checksum)",
        f"  {name}/documents.csv  (a row: title {row['title']!r}"
        + (f", question number {row['question_number']}, date {row['date']}" if row["date"] else "")
        + ")",
        f"  {name}/passages.csv  ({added.passages} paragraphs of this document)",
        f"left NULL (the row's date_note and note say why): {', '.join(null)}",
    ]
    if added.personal:
        out.append(
            f"personal data: the text has {len(added.personal)} e-mail address(es) or phone number(s); the stored "
            f"source file and the published passages show {EMAIL_MARK} and {PHONE_MARK} instead:"
        )
        out += [f"  line {line}: {kind} {value}" for line, kind, value in added.personal]
    out += [
        "next steps (docs/maintaining.md):",
        f"  1. read the new row in {name}/documents.csv and the text; fill in what the text states (asked_by, ...)",
        "     with its words, and leave NULL what it does not",
        f'  2. find the words of each figure: make quote ID={row["id"]} TEXT="..."',
        f"  3. add rows with document_id {row['id']} and that quote to the tables ({name}/caseload.csv, statistics.csv, ...)",
        "  4. make build   (every problem is listed with its file, row and field; fix them and build again)",
        "  5. commit, 6. make release, 7. commit the release, 8. make test: each step prints the next",
    ]
    return "\n".join(out)


def add_source(root: Path, file: Path, document_id: str, kind: str | None = None) -> str:
    """Add the source, or raise Refused having changed nothing. What was done and what to do next."""
    added = plan(Path(root), Path(file), document_id, kind)
    write_all(added.files)
    return report(Path(root), Path(file), added)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=Path("datasets"))
    parser.add_argument("--file", type=Path, required=True, help="the source text (UTF-8)")
    parser.add_argument("--id", required=True, help="the new document's id, e.g. vraag-123-2024")
    parser.add_argument("--kind", default=None, help="written_question, policy_note or presentation")
    args = parser.parse_args(argv)
    try:
        print(add_source(args.datasets, args.file, args.id, args.kind or None))
    except Refused as refused:
        print(f"not added; nothing was changed:\n{refused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
