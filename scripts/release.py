"""Release step: a data version derived from the content, the downloadable package, its changes.

Every file of a release is made here, to be written once into build/releases/<version>/ beside its
database and never changed (scripts/publish.py): the CSVs as validated, the generated tables
exported, datapackage.json (schemas inlined, relative paths, hash and bytes of every file, the
semantic version), drugbeleid.zip holding them all, changes.json (what changed since the newest
recorded release, scripts/changes.py) and release.json, the record `make release` commits.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import sqlite_utils
from babel.messages.pofile import read_po
from frictionless import Package

from . import changes, dictionary
from .metadata import generated_tables
from .problems import BuildFailed, Problem

README = "README.md"  # the data dictionary, in Dutch and English (scripts/dictionary.py)
ZIP_DATE = (2000, 1, 1, 0, 0, 0)  # fixed timestamps keep the zip byte-identical for the same data


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_entry(path: str, data: bytes) -> dict:
    """How a release record names one of its files: path, SHA-256 and size."""
    return {"path": path, "sha256": sha256_of(data), "bytes": len(data)}


# The date a release's version starts with, kept in the repository beside the data it dates: written
# by `make release` (scripts/history.py) and committed with the release, so the same commit builds
# the same version in every clone, whatever a squash, a rebase or a shallow clone does to the history.
DATE_FILE = "release_date.txt"


def read_release_date(datasets: Path) -> str | None:
    """The date stored in datasets/release_date.txt (YYYY-MM-DD), None when there is none."""
    path = datasets / DATE_FILE
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8").strip()
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise BuildFailed(
            [
                Problem(
                    f"{datasets.name}/{DATE_FILE}",
                    f"{text!r} is not a date (YYYY-MM-DD); restore it with `git checkout {datasets.name}/{DATE_FILE}`",
                )
            ]
        ) from None


def write_release_date(datasets: Path, date: str) -> None:
    (datasets / DATE_FILE).write_text(f"{date}\n", encoding="utf-8")


def today() -> str:
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def release_date(datasets: Path) -> str:
    """The data's date as stored in the repository; today's date for data without one (a scratch
    folder: a repository always has one)."""
    return read_release_date(datasets) or today()


def catalogue_messages(locale: Path) -> dict[str, list]:
    """What the interface catalogues under `locale` (<lang>/LC_MESSAGES/<domain>.po, serve/i18n.py)
    say: for each, every message shown ([context, message, translation]; fuzzy entries are left out,
    as the compiled catalogue leaves them out), sorted. Not their header, comments, references or
    order, which `make catalogues` rewrites without changing a word on a page."""
    said = {}
    for path in sorted(locale.glob("*/LC_MESSAGES/*.po")):
        with open(path, "rb") as f:
            catalog = read_po(f, locale=path.parent.parent.name)
        shown = [[m.context or "", m.id, m.string] for m in catalog if m.id and not m.fuzzy]
        said[path.relative_to(locale).as_posix()] = sorted(
            shown, key=lambda entry: json.dumps(entry, ensure_ascii=False)
        )
    return said


def data_version(
    database: Path,
    datasets: Path,
    files: dict[str, bytes],
    site: dict,
    described: dict | None = None,
    catalogues: dict | None = None,
) -> dict:
    """date-<12 hex>: the hex digest covers the database, every published file, the site metadata
    and content, the data package's descriptions and schemas (`described`, without what names the
    version itself) and what the interface catalogues say (`catalogues`, catalogue_messages), so
    any change to what is published makes a new version."""
    digest = sha256_of(database.read_bytes())
    content = hashlib.sha256(digest.encode())
    for name in sorted(files):
        content.update(f"{name} {sha256_of(files[name])}".encode())
    content.update(json.dumps(site, sort_keys=True).encode())
    if described is not None:
        content.update(json.dumps(described, sort_keys=True, ensure_ascii=False).encode())
    if catalogues:
        content.update(json.dumps(catalogues, sort_keys=True, ensure_ascii=False).encode())
    date = release_date(datasets)
    return {
        "version": f"{date}-{content.hexdigest()[:12]}",
        "date": date,
        "sha256": digest,
        "bytes": database.stat().st_size,
    }


def export_table(db: sqlite_utils.Database, name: str, columns: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in db.execute(f"select {', '.join(f'[{c}]' for c in columns)} from [{name}]"):
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode("utf-8")


def table_files(package: Package, database: Path) -> dict[str, bytes]:
    """The bytes of every published CSV: source tables as validated, generated tables exported."""
    files = {f"{r.name}.csv": (Path(package.basepath) / r.path).read_bytes() for r in package.resources}
    db = sqlite_utils.Database(database)
    for descriptor, schema in generated_tables(package):
        files[f"{descriptor['name']}.csv"] = export_table(db, descriptor["name"], schema.field_names)
    db.close()
    return files


def source_of(site: dict) -> dict:
    """The data package's source: the site's, with its URL when that is absolute. A path on the site
    (the documents page) has no host until the site is served, so a release, made once for any
    host, leaves it out; the served /datapackage.json adds it under the public base URL."""
    url = site.get("source_url")
    return {"title": site.get("source"), **({"path": url} if url and urlsplit(url).scheme else {})}


def package_descriptor(package: Package, files: dict[str, bytes], version: dict, site: dict) -> dict:
    resources = []
    described = [(r.to_descriptor(), r.schema) for r in package.resources] + generated_tables(package)
    for descriptor, schema in described:
        name = descriptor["name"]
        data = files[f"{name}.csv"]
        resource = {k: v for k, v in descriptor.items() if k not in ("schema", "path")}
        resource.update(
            {
                "path": f"data/{name}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "hash": f"sha256:{sha256_of(data)}",
                "bytes": len(data),
                "schema": schema.to_descriptor(),
            }
        )
        resources.append(resource)
    return {
        "name": package.name or "drugbeleid",
        "title": site.get("title"),
        "version": version["version"],
        "created": f"{version['date']}T00:00:00Z",
        "licenses": [{"name": "CC-BY-4.0", "title": site.get("license"), "path": site.get("license_url")}],
        "sources": [source_of(site)],
        "profile": "tabular-data-package",
        "resources": resources,
    }


def write_zip(target, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])


def csv_rows(data: bytes) -> int:
    return len(changes.read_rows(data)[1])


def previous_release(
    history: list[dict], build_releases: Path
) -> tuple[dict | None, tuple[dict, dict[str, bytes]] | None]:
    """The newest recorded release and its (descriptor, {table: CSV bytes}), as unpacked in build/."""
    if not history:
        return None, None
    record = history[0]
    directory = build_releases / record["version"]
    descriptor = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
    return record, (descriptor, {r["name"]: (directory / r["path"]).read_bytes() for r in descriptor["resources"]})


def release_record(version: dict, semver: str, previous: dict | None, files: dict[str, bytes], found: dict) -> dict:
    zipped, package_bytes, changes_bytes = files["drugbeleid.zip"], files["datapackage.json"], files["changes.json"]
    return {
        **version,
        "semver": semver,
        "number": previous["number"] + 1 if previous else 1,
        "previous": previous["version"] if previous else None,
        "directory": f"releases/{version['version']}",
        "database": {"path": "drugbeleid.db", "sha256": version["sha256"], "bytes": version["bytes"]},
        "datapackage": file_entry("datapackage.json", package_bytes),
        "zip": file_entry("drugbeleid.zip", zipped),
        "changes": {
            **file_entry("changes.json", changes_bytes),
            "level": changes.level_of(found),
            "summary": found["summary"],
            **({"derived_summary": found["derived_summary"]} if "derived_summary" in found else {}),
        },
        "tables": {
            name[5:-4]: {**file_entry(name, data), "rows": csv_rows(data)}
            for name, data in files.items()
            if name.startswith("data/")
        },
    }


def release_files(
    database: Path,
    package: Package,
    site: dict,
    history: list[dict],
    build_releases: Path,
    catalogues: dict | None = None,
) -> dict[str, bytes]:
    """Every file of the release the database belongs to, by path within its directory: the CSVs,
    datapackage.json, the zip, changes.json and release.json (its record). A version that is already
    recorded is published with its recorded bytes, so a release never changes once published."""
    files = {f"data/{name}": data for name, data in table_files(package, database).items()}
    csvs = {k[5:]: v for k, v in files.items()}
    described = strip_versions(package_descriptor(package, csvs, {"version": "", "date": ""}, site))
    version = data_version(database, Path(package.basepath), files, site, described, catalogues)
    if any(r["version"] == version["version"] for r in history):
        released = build_releases / version["version"]
        kept = ["datapackage.json", "drugbeleid.zip", "changes.json", "release.json"]
        return {**files, **{name: (released / name).read_bytes() for name in kept}}
    previous, previous_files = previous_release(history, build_releases)
    descriptor = package_descriptor(package, csvs, version, site)
    derived = {d["name"] for d, _ in generated_tables(package)}
    found = changes.changes(previous_files, (descriptor, {k[5:-4]: v for k, v in files.items()}), derived)
    descriptors_differ = previous_files is not None and strip_versions(previous_files[0]) != strip_versions(descriptor)
    descriptor["semver"] = changes.next_semver(previous["semver"] if previous else None, found, descriptors_differ)
    files["datapackage.json"] = json_bytes(descriptor)
    files["drugbeleid.zip"] = zip_bytes({**files, README: dictionary.readme(descriptor, site)})
    files["changes.json"] = json_bytes(found)
    files["release.json"] = json_bytes(release_record(version, descriptor["semver"], previous, files, found))
    return files


def strip_versions(descriptor: dict) -> dict:
    """A descriptor without what differs between any two releases (versions, dates, hashes, sizes)."""
    resources = [{k: v for k, v in r.items() if k not in ("hash", "bytes")} for r in descriptor.get("resources", [])]
    return {
        **{k: v for k, v in descriptor.items() if k not in ("version", "semver", "created")},
        "resources": resources,
    }


def json_bytes(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    write_zip(
        buffer,
        {
            name: data
            for name, data in files.items()
            if name in ("datapackage.json", README) or name.startswith("data/")
        },
    )
    return buffer.getvalue()
