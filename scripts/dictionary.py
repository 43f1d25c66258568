"""The data dictionary inside the zip: README.md, in Dutch and then in English, made from the data
package's own descriptions (the Frictionless schemas) and the labels of coded values.

It gives every table and column with its description, type and unit, the coded values with their
labels, what the figures are not, the licence, the source and how to cite the release. It is made
when a new release's zip is made (scripts/release.py): a recorded release keeps its zip byte for
byte, so the README is in every release from the next one on.
"""

from __future__ import annotations

from serve.shared import text_in

WORDS = {
    "nl": {
        "heading": "Nederlands",
        "intro": "Dit bestand beschrijft elke tabel en kolom van deze download: de CSV-bestanden in `data/` en "
        "hun beschrijving in `datapackage.json` (Frictionless Data Package).",
        "version": "Versie {semver}, gegevensversie {version}, uitgebracht op {date}.",
        "caveats": "Wat de cijfers niet zijn",
        "licence": "Licentie",
        "source": "Bron",
        "cite": "Bronvermelding",
        "cite_text": "{publisher} ({year}). *{title}*. Versie {semver}, gegevensversie {version}, uitgebracht op "
        "{date}. Op de website: `/releases/{version}/` (ook als BibTeX, RIS en CSL-JSON: "
        "`/releases/{version}/citation.bib`, `.ris`, `.json`).",
        "tables": "Tabellen",
        "file": "Bestand",
        "rows": "Kolommen",
        "column": "Kolom",
        "type": "Type",
        "unit": "Eenheid",
        "description": "Beschrijving",
        "values": "Waarden van `{column}`",
        "required": "verplicht",
    },
    "en": {
        "heading": "English",
        "intro": "This file describes every table and column of this download: the CSV files in `data/` and "
        "their description in `datapackage.json` (a Frictionless Data Package).",
        "version": "Version {semver}, data version {version}, released {date}.",
        "caveats": "What the figures are not",
        "licence": "Licence",
        "source": "Source",
        "cite": "How to cite",
        "cite_text": "{publisher} ({year}). *{title}*. Version {semver}, data version {version}, released {date}. "
        "On the website: `/releases/{version}/` (also as BibTeX, RIS and CSL-JSON: "
        "`/releases/{version}/citation.bib`, `.ris`, `.json`).",
        "tables": "Tables",
        "file": "File",
        "rows": "Columns",
        "column": "Column",
        "type": "Type",
        "unit": "Unit",
        "description": "Description",
        "values": "Values of `{column}`",
        "required": "required",
    },
}

# What the figures are not, as the site's description says it (metadata.yml `description_html`).
CAVEATS = {
    "nl": [
        (
            "De aantallen in `caseload` zijn dossiers, geen personen: één persoon kan meerdere dossiers hebben, en "
            "enkel dossiers waarin een justitiehuis tussenkwam worden geteld."
        ),
        (
            "2022 lezen we als een onvolledig jaar: de vraag dateert van 11/10/2022 en Tabel 2 telt de VTE op "
            "14/10/2022; het antwoord zelf is niet gedateerd."
        ),
        "`staffing` telt voltijdse equivalenten (VTE), geen justitieassistenten.",
        "Wat de bronnen niet vermelden is leeg (NULL), met de reden in een `note`-kolom; er wordt niets geschat.",
    ],
    "en": [
        (
            "Caseload figures count dossiers, not persons: one person can have several dossiers, and only dossiers "
            "in which a justice house intervened are counted."
        ),
        (
            "2022 is read as a partial year (question of 11/10/2022, Tabel 2 counts FTE on 14/10/2022, the answer "
            "is undated)."
        ),
        "`staffing` is in FTE (full-time equivalents), not heads.",
        "Unknowns are empty (NULL) with a reason in a `note` column, never estimated.",
    ],
}


def cell(text) -> str:
    """A Markdown table cell: one line, no column separators."""
    return " ".join(str(text or "").split()).replace("|", "\\|")


def in_language(thing: dict, key: str, lang: str) -> str:
    """A package text in `lang` (the project's one convention, serve.shared.text_in), or ""."""
    return text_in(thing, key, lang) or ""


def section(descriptor: dict, site: dict, lang: str) -> list[str]:
    words = WORDS[lang]
    project = site.get("plugins", {}).get("drugbeleid", {})
    publisher = project.get("publisher", {})
    facts = {
        "semver": descriptor.get("semver", ""),
        "version": descriptor.get("version", ""),
        "date": (descriptor.get("created") or "")[:10],
        "title": descriptor.get("title", ""),
        "publisher": publisher.get(f"name_{lang}") or publisher.get("name", ""),
    }
    facts["year"] = facts["date"][:4]
    lines = [
        f"## {words['heading']}",
        "",
        words["intro"],
        "",
        words["version"].format(**facts),
        "",
        f"### {words['caveats']}",
        "",
    ]
    lines += [f"- {caveat}" for caveat in CAVEATS[lang]]
    licence = next(iter(descriptor.get("licenses", [])), {})
    lines += [
        "",
        f"### {words['licence']}",
        "",
        f"{licence.get('title', '')} ({licence.get('path', '')})",
        "",
        f"### {words['source']}",
        "",
    ]
    lines += [
        f"- {s.get('title', '')}" + (f" ({s['path']})" if s.get("path") else "") for s in descriptor.get("sources", [])
    ]
    lines += ["", f"### {words['cite']}", "", words["cite_text"].format(**facts), "", f"### {words['tables']}", ""]
    for resource in descriptor["resources"]:
        name = resource["name"]
        lines += [
            f"#### `{name}`: {in_language(resource, 'title', lang)}",
            "",
            in_language(resource, "description", lang),
            "",
            f"{words['file']}: `{resource['path']}`",
            "",
            f"| {words['column']} | {words['type']} | {words['unit']} | {words['description']} |",
            "| --- | --- | --- | --- |",
        ]
        coded = []
        for field in resource["schema"]["fields"]:
            required = f" ({words['required']})" if field.get("constraints", {}).get("required") else ""
            lines.append(
                f"| `{field['name']}` | {field['type']}{required} | {cell(field.get('unit'))} | "
                f"{cell(in_language(field, 'description', lang))} |"
            )
            found = field.get("value_labels") or {}  # beside the field in its schema (docs/languages.md)
            enum = field.get("constraints", {}).get("enum")
            if enum or found:
                values = [str(v) for v in enum] if enum else list(found)
                coded.append((field["name"], [(v, in_language(found.get(v) or {}, "label", lang)) for v in values]))
        lines.append("")
        for column, values in coded:
            lines += [words["values"].format(column=column) + ":", ""]
            lines += [f"- `{value}`" + (f": {label}" if label else "") for value, label in values]
            lines.append("")
    return lines


def readme(descriptor: dict, site: dict) -> bytes:
    """README.md for the zip of the release `descriptor` (its datapackage.json, schemas inline)."""
    lines = [f"# {descriptor.get('title', '')}", ""]
    for lang in ("nl", "en"):
        lines += section(descriptor, site, lang)
    return ("\n".join(lines).rstrip() + "\n").encode("utf-8")
