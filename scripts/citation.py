"""How to cite a release, in every format, from one place: its record (release.json) and its data package.

- BibTeX, RIS and CSL-JSON, served under /releases/<version>/citation.bib|.ris|.json
  (plugins/citations.py), made on request: the recorded release folders stay as they were;
- CITATION.cff at the root of the repository, whose version and release date `make release`
  sets to the release it records (scripts/history.py).

Each cites the dataset with its title, publisher, release date, both versions (the semantic
version and the data version) and the release's versioned URL.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def cited(record: dict, package: dict, publisher: str, url: str) -> dict:
    """What every format says of a release: `url` is its versioned page (…/releases/<version>/)."""
    year, month, day = (int(part) for part in record["date"].split("-"))
    return {
        "key": KEY_UNSAFE.sub("_", f"{package.get('name', 'dataset')}_{record['version']}"),
        "title": package["title"],
        "publisher": publisher,
        "date": record["date"],
        "year": year,
        "month": month,
        "day": day,
        "semver": record["semver"],
        "version": record["version"],
        "url": url,
        "license": next((lic.get("name") for lic in package.get("licenses", [])), None),
    }


def bibtex_text(value: str) -> str:
    return "".join(BIBTEX_SPECIAL.get(c, c) for c in value)


def bibtex(c: dict) -> str:
    fields = [
        ("title", "{" + bibtex_text(c["title"]) + "}"),  # braced: keep its capitals
        ("author", "{" + bibtex_text(c["publisher"]) + "}"),  # an organisation, not a person's name
        ("publisher", bibtex_text(c["publisher"])),
        ("year", str(c["year"])),
        ("month", str(c["month"])),
        ("date", c["date"]),
        ("version", bibtex_text(c["semver"])),
        ("note", bibtex_text(f"Data version {c['version']}")),
        ("url", c["url"]),
        ("howpublished", "\\url{" + c["url"] + "}"),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{c['key']},\n{body}\n}}\n"


def ris(c: dict) -> str:
    lines = [
        ("TY", "DATA"),
        ("TI", c["title"]),
        ("AU", c["publisher"]),
        ("PB", c["publisher"]),
        ("PY", str(c["year"])),
        ("DA", c["date"].replace("-", "/")),
        ("ET", c["semver"]),
        ("N1", f"Data version {c['version']}"),
        ("UR", c["url"]),
        ("ER", ""),
    ]
    return "".join(f"{tag}  - {value}".rstrip() + "\n" for tag, value in lines)


def csl_json(c: dict) -> str:
    item = {
        "id": c["key"],
        "type": "dataset",
        "title": c["title"],
        "author": [{"literal": c["publisher"]}],
        "publisher": c["publisher"],
        "issued": {"date-parts": [[c["year"], c["month"], c["day"]]]},
        "version": c["semver"],
        "note": f"Data version {c['version']}",
        "URL": c["url"],
    }
    return json.dumps([item], ensure_ascii=False, indent=2) + "\n"


FORMATS = {
    "bib": (bibtex, "application/x-bibtex; charset=utf-8"),
    "ris": (ris, "application/x-research-info-systems; charset=utf-8"),
    "json": (csl_json, "application/vnd.citationstyles.csl+json; charset=utf-8"),
}


def with_release(cff: str, record: dict) -> str:
    """CITATION.cff's text with `version` and `date-released` of the release `record`, the rest as written."""
    kept = [line for line in cff.splitlines() if not line.startswith(("version:", "date-released:"))]
    return "\n".join(kept + [f'version: "{record["semver"]}"', f"date-released: {record['date']}"]) + "\n"


def write_cff(path: Path, record: dict) -> None:
    path.write_text(with_release(path.read_text(encoding="utf-8"), record), encoding="utf-8")
