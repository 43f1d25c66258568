"""The one entry point: read -> validate -> check provenance -> load -> index -> release -> publish.

    python -m scripts.build [--datasets datasets] [--out build/drugbeleid.db] [--site metadata.yml]
                            [--content content] [--releases releases]

Every check runs before anything is written, and all problems are reported together. The new
release (database, metadata, release record, files) is built in a staging directory and published
by one atomic switch (scripts/publish.py) only when every check has passed, so a failed or killed
build leaves the previously published release byte for byte as it was, and still served.
Every release recorded in releases/ is unpacked into build/releases/ first (scripts/history.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import sqlite_utils

from . import (
    content,
    coverage,
    history,
    load,
    metadata,
    mqa,
    privacy,
    provenance,
    publish,
    quantities,
    reconcile,
    release,
    search_index,
    validate,
)
from .problems import BuildFailed, Problem
from .project import BUILD_INPUTS, DATABASE, PIPELINE
from .read import Inputs, read_inputs, write_canonical

DESCRIBED_IN_DESCRIPTORS = {"title", "description", "description_html", "columns"}


def site_problems(site: dict, path: str) -> list[Problem]:
    """Descriptions are written once, in the descriptors: metadata.yml must not repeat them."""
    tables = site.get("databases", {}).get(DATABASE, {}).get("tables", {})
    return [
        Problem(path, f"table '{table}' sets {key!r}; describe tables and columns in datasets/ only")
        for table, config in tables.items()
        for key in sorted(DESCRIBED_IN_DESCRIPTORS & set(config))
    ]


def run_checks(
    inputs: Inputs, site: dict, site_path: str, content_problems: list[Problem] = ()
) -> tuple[list[dict], list[dict], list[Problem]]:
    """Every check, each written to data_quality; problems stop the build. Also where each quote is."""
    root = inputs.root.name
    files = {name: inputs.file_of(name) for name in inputs.tables}
    locations, quote_problems = provenance.locate_quotes(inputs.package, inputs.tables, inputs.sources, root)
    # (name, what it checks in English, the same in Dutch, the check): data_quality has both (detail, detail_nl)
    checks = [
        (
            "source_checksums",
            "source files match documents.sha256 and documents.sha256 column",
            "de bronbestanden komen overeen met documents.sha256 en met de kolom sha256 van documents",
            lambda: provenance.check_sources(inputs.root, inputs.tables.get("documents", [])),
        ),
        (
            "descriptions",
            "every table and column described in Dutch and English",
            "elke tabel en elke kolom beschreven in het Nederlands en het Engels",
            lambda: validate.check_descriptions(inputs.package, root) + site_problems(site, site_path),
        ),
        (
            "labels",
            "every value of a closed list labelled in Dutch and English beside its field (value_labels in the schemas)",
            "elke waarde van een gesloten lijst benoemd in het Nederlands en het Engels naast haar veld (value_labels in de schema's)",
            lambda: validate.check_labels(inputs.package, root),
        ),
        (
            "content",
            "every content file valid against its JSON Schema, every text in Dutch and English",
            "elk inhoudsbestand geldig volgens zijn JSON Schema, elke tekst in het Nederlands en het Engels",
            lambda: list(content_problems) + content.moved_problems(site, site_path),
        ),
        (
            "frictionless_validation",
            "types, constraints, primary and foreign keys of every table",
            "gegevenstypes, beperkingen, primaire en vreemde sleutels van elke tabel",
            lambda: validate.validate_tables(inputs.package, root),
        ),
        (
            "translations",
            "every authored text in Dutch and English: a row that fills a column fills its twin (twin_of in the schemas)",
            "elke eigen tekst in het Nederlands en het Engels: een rij die een kolom invult, vult ook haar versie in de andere taal in (twin_of in de schema's)",
            lambda: validate.check_twins(inputs.package, inputs.tables, root),
        ),
        (
            "provenance",
            "every quote and verbatim column found in its document (whitespace-normalised)",
            "elk citaat en elke letterlijke kolom teruggevonden in het brondocument (witruimte genormaliseerd)",
            lambda: quote_problems,
        ),
        (
            "source_coverage",
            "every answer item and every slide has its facts in rows, or a reason why it holds none (source_parts)",
            "elk antwoorddeel en elke slide heeft zijn feiten in rijen, of een reden waarom het er geen bevat (source_parts)",
            lambda: coverage.check_parts(
                inputs.tables, inputs.sources, locations, files.get("source_parts", ""), files.get("statements", "")
            ),
        ),
        (
            "passages_match_sources",
            "passages.csv is the paragraph split of the source texts",
            "passages.csv is de indeling van de bronteksten in alinea's",
            lambda: provenance.check_passages(inputs.tables, inputs.sources, root),
        ),
        (
            "vague_quantities",
            "a value rounded from a fraction the source gives in words is qualified 'rounded', never 'exact'",
            "een waarde afgerond uit een breuk die de bron in woorden geeft, heeft kwalificatie 'rounded', nooit 'exact'",
            lambda: quantities.check_fractions(inputs.tables.get("statistics", []), files.get("statistics", "")),
        ),
        (
            "personal_data",
            "no e-mail address or phone number in any cell or in any source text kept in datasets/sources/",
            "in geen enkele cel en in geen enkele brontekst in datasets/sources/ een e-mailadres of telefoonnummer",
            lambda: (
                privacy.check_personal_data(inputs.tables, files)
                + privacy.check_sources(inputs.root, inputs.tables.get("documents", []))
            ),
        ),
    ]
    quality, problems = [], []
    for name, what, what_nl, check in checks:
        found = check()
        problems += found
        quality.append(
            {
                "check": name,
                "status": "fail" if found else "pass",
                "detail": f"{what}: {len(found)} problem(s)" if found else what,
                "detail_nl": f"{what_nl}: {len(found)} {'probleem' if len(found) == 1 else 'problemen'}"
                if found
                else what_nl,
            }
        )
    quality += coverage.coverage_rows(inputs.tables, locations)
    totals, found = reconcile.reconcile(inputs.tables, files.get("printed_totals", f"{root}/printed_totals.csv"))
    problems += found
    quality += totals
    return quality, locations, problems


def load_database(
    path: Path, inputs: Inputs, quality: list[dict], locations: list[dict], site: dict | None = None
) -> dict[str, int]:
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA foreign_keys = ON")
    counts = {r.name: load.load_table(db, r) for r in inputs.package.resources}
    counts_rows = [
        {
            "check": f"row_count:{name}",
            "status": "pass",
            "detail": f"{n} rows",
            "detail_nl": f"{n} {'rij' if n == 1 else 'rijen'}",
        }
        for name, n in counts.items()
    ]
    schemas = {d["name"]: schema for d, schema in metadata.generated_tables(inputs.package)}
    problems = validate.check_written_twins("data_quality", schemas["data_quality"], quality + counts_rows)
    if problems:
        raise BuildFailed(problems)
    load.load_rows(db, "data_quality", schemas["data_quality"], quality + counts_rows)
    load.load_rows(db, "quote_locations", schemas["quote_locations"], locations)
    load.load_rows(db, "value_labels", schemas["value_labels"], validate.value_label_rows(inputs.package))
    load.index(
        db, list(inputs.package.resources), (site or {}).get("databases", {}).get(DATABASE, {}).get("tables", {})
    )
    search_index.load_search_index(db, schemas["search_index"], inputs.package, inputs.tables, locations)
    return counts


def max_returned_rows() -> int:
    """Rows one API request returns at most, as the site is served (serve/settings.json)."""
    settings = Path(__file__).resolve().parent.parent / "serve" / "settings.json"
    return int(json.loads(settings.read_text(encoding="utf-8"))["max_returned_rows"])


def database_problems(path: Path) -> list[Problem]:
    db = sqlite_utils.Database(path)
    problems = [
        Problem(path.name, f"foreign key violation: {row}") for row in db.execute("PRAGMA foreign_key_check").fetchall()
    ]
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        problems.append(Problem(path.name, f"integrity check: {integrity}"))
    db.close()
    return problems


def inspect_data(database: Path) -> dict:
    """What `datasette inspect` writes (the file's hash and size, row counts per table), made here so
    the release directory holds it; the same fields and the same hash function as Datasette's."""
    from datasette.inspect import inspect_hash

    db = sqlite_utils.Database(database)
    tables = [row[0] for row in db.execute("select name from sqlite_master where type = 'table'")]
    counts = {table: {"count": db.execute(f"select count(*) from [{table}]").fetchone()[0]} for table in tables}
    db.close()
    return {
        DATABASE: {
            "hash": inspect_hash(database),
            "size": database.stat().st_size,
            "file": database.name,
            "tables": counts,
        }
    }


def build(
    datasets: Path, out: Path, site_path: Path, releases: Path | None = None, content_dir: Path | None = None
) -> dict:
    """Check everything, build the new release in a staging directory, then switch to it atomically.
    `releases`: the releases recorded in the repository (default: releases/ beside datasets/);
    `content_dir`: the site's texts and queries (default: content/ beside the site's metadata.yml);
    the interface catalogues are locale/ beside the site's metadata.yml."""
    releases = releases if releases is not None else datasets.resolve().parent / "releases"
    (out.parent / STAMP).unlink(missing_ok=True)  # whatever happens next, the stamp no longer names what is served
    content_dir = content_dir if content_dir is not None else site_path.resolve().parent / "content"
    inputs = read_inputs(datasets)
    configuration = metadata.read_site(site_path)
    texts, content_problems = content.read_content(content_dir)
    catalogues = release.catalogue_messages(site_path.resolve().parent / "locale")  # part of the data version
    quality, locations, problems = run_checks(inputs, configuration, str(site_path), content_problems)
    if problems:
        raise BuildFailed(problems)
    site = content.datasette_site(configuration, texts)  # what metadata.json and the data version hold
    rewritten = write_canonical(inputs)  # before publishing: the release's CSVs are the canonical files
    locations = provenance.with_passages(locations, inputs.tables["passages"])

    build_dir = out.parent
    build_releases = build_dir / "releases"
    build_dir.mkdir(parents=True, exist_ok=True)
    publish.remove_stale(build_dir)
    history_records = history.unpack_all(releases, build_releases)
    staging = build_releases / f".staging.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        database = staging / "drugbeleid.db"
        counts = load_database(database, inputs, quality, locations, site)
        scored = mqa.build_rows(database, site, inputs.package, release.release_date(datasets), max_returned_rows())
        schema = dict((d["name"], s) for d, s in metadata.generated_tables(inputs.package))["data_quality"]
        problems = validate.check_written_twins("data_quality", schema, scored)
        if problems:
            raise BuildFailed(problems)
        sqlite_utils.Database(database)["data_quality"].insert_all(scored)
        quality = quality + scored
        problems = database_problems(database)
        if problems:
            raise BuildFailed(problems)
        files = release.release_files(database, inputs.package, site, history_records, build_releases, catalogues)
        current = json.loads(files["release.json"])
        document = metadata.datasette_metadata(site, inputs.package, DATABASE)
        document["data_version"] = current["version"]
        document["data_semver"] = current["semver"]
        files["metadata.json"] = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        files["inspect.json"] = json.dumps(inspect_data(database), indent=2).encode("utf-8")
        publish.write_files(staging, files)
        publish.place(staging, build_releases / current["version"])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    publish.switch(build_dir, current["version"], out.name)
    write_stamp(out, inputs_fingerprint(datasets, site_path, releases))
    return {"counts": counts, "quality": quality, "release": current, "rewritten": rewritten}


# --- whether the build is up to date: by content, not by file times -----------------------------

STAMP = ".built"


def input_paths(datasets: Path, site: Path, releases: Path) -> list[Path]:
    """Everything that dates or versions the data (scripts/project.py BUILD_INPUTS): the data and its
    stored date, the site metadata, its content and catalogues beside it, the pipeline and the served
    settings the build reads, and the recorded releases (the previous one sets the changes and the
    semantic version)."""
    project, code = site.resolve().parent, Path(__file__).resolve().parent.parent
    given = {"datasets": datasets, "metadata.yml": site}
    roots = [
        releases,
        *(given.get(name) or (code if name in PIPELINE else project) / name for name in BUILD_INPUTS),
    ]
    files = []
    for root in roots:
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files += [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return sorted(files)


def inputs_fingerprint(datasets: Path, site: Path, releases: Path) -> str:
    """SHA-256 over the path and content of every input: a commit, a checkout or a restored file
    that changes no byte needs no build; any changed byte does, whatever the file times say."""
    digest = hashlib.sha256()
    for path in input_paths(datasets, site, releases):
        digest.update(f"{path.as_posix()} {hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def built_fingerprint(out: Path) -> str | None:
    """The fingerprint of the inputs the served build was made from (None: no complete build)."""
    stamp = out.parent / STAMP
    if not stamp.is_file() or not (out.parent / "current" / "release.json").is_file():
        return None
    return stamp.read_text(encoding="utf-8").strip() or None


def write_stamp(out: Path, fingerprint: str) -> None:
    (out.parent / STAMP).write_text(fingerprint + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=Path("datasets"))
    parser.add_argument("--out", type=Path, default=Path("build") / f"{DATABASE}.db")
    parser.add_argument("--site", type=Path, default=Path("metadata.yml"))
    parser.add_argument("--content", type=Path, default=Path("content"))
    parser.add_argument("--releases", type=Path, default=Path("releases"))
    parser.add_argument(
        "--if-changed",
        action="store_true",
        help="build only when an input differs from those of the served build (`make build`)",
    )
    parser.add_argument(
        "--no-next-step", action="store_true", help="say nothing of the next step (`make release` says it)"
    )
    args = parser.parse_args(argv)
    if args.if_changed and built_fingerprint(args.out) == inputs_fingerprint(args.datasets, args.site, args.releases):
        record = json.loads((args.out.parent / "current" / "release.json").read_text(encoding="utf-8"))
        print(
            f"up to date: {args.out} is data version {record['version']} ({record['semver']}), "
            "built from these very inputs"
        )
        if not args.no_next_step:
            print(history.next_step(args.releases.resolve().parent, record["version"]))
        return 0
    try:
        result = build(args.datasets, args.out, args.site, args.releases, args.content)
    except BuildFailed as failure:
        print(failure, file=sys.stderr)
        return 1
    for line in result["rewritten"]:
        print(line)
    for name, count in result["counts"].items():
        print(f"{name:22} {count:5} rows")
    for row in result["quality"]:
        if row["status"] != "pass":
            print(f"{row['status'].upper()}: {row['check']}: {row['detail']}")
    print(f"published {args.out}, data version {result['release']['version']} ({result['release']['semver']})")
    if not args.no_next_step:
        print(history.next_step(args.releases.resolve().parent, result["release"]["version"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
