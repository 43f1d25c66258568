"""Publish step, release half: a data version derived from the content, and the downloadable package.

The release of a database is written once into build/releases/<version>/ and never changed:
the CSVs as validated, the generated tables exported, datapackage.json (schemas inlined, relative
paths, hash and bytes of every file) and drugbeleid.zip holding them all. build/release.json,
replaced atomically last, says which release is current.
"""
from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import sqlite_utils
from frictionless import Package

from .metadata import generated_tables

ZIP_DATE = (2000, 1, 1, 0, 0, 0)  # fixed timestamps keep the zip byte-identical for the same data


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def release_date(datasets: Path) -> str:
    """The date of the last commit that changed the data, so the same data gets the same version;
    today's date outside a git checkout."""
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%cs", "--", "."], cwd=datasets,
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return out or datetime.date.today().isoformat()


def data_version(database: Path, datasets: Path, files: dict[str, bytes], site: dict) -> dict:
    """date-<12 hex>: the hex digest covers the database, every published file and the site
    metadata the package repeats, so any change to what is published makes a new version."""
    digest = sha256_of(database.read_bytes())
    content = hashlib.sha256(digest.encode())
    for name in sorted(files):
        content.update(f"{name} {sha256_of(files[name])}".encode())
    content.update(json.dumps(site, sort_keys=True).encode())
    date = release_date(datasets)
    return {"version": f"{date}-{content.hexdigest()[:12]}", "date": date, "sha256": digest, "bytes": database.stat().st_size}


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


def package_descriptor(package: Package, files: dict[str, bytes], version: dict, site: dict) -> dict:
    resources = []
    described = [(r.to_descriptor(), r.schema) for r in package.resources] + generated_tables(package)
    for descriptor, schema in described:
        name = descriptor["name"]
        data = files[f"{name}.csv"]
        resource = {k: v for k, v in descriptor.items() if k not in ("schema", "path")}
        resource.update({
            "path": f"data/{name}.csv", "profile": "tabular-data-resource", "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8",
            "hash": f"sha256:{sha256_of(data)}", "bytes": len(data), "schema": schema.to_descriptor(),
        })
        resources.append(resource)
    return {
        "name": package.name or "drugbeleid",
        "title": site.get("title"),
        "version": version["version"],
        "created": f"{version['date']}T00:00:00Z",
        "licenses": [{"name": "CC-BY-4.0", "title": site.get("license"), "path": site.get("license_url")}],
        "sources": [{"title": site.get("source"), "path": site.get("source_url")}],
        "profile": "tabular-data-package",
        "resources": resources,
    }


def write_zip(path: Path, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])


def publish_release(database: Path, build_dir: Path, package: Package, site: dict) -> dict:
    """Write build/releases/<version>/ (if new) and return what build/release.json will say."""
    files = {f"data/{name}": data for name, data in table_files(package, database).items()}
    version = data_version(database, Path(package.basepath), files, site)
    directory = build_dir / "releases" / version["version"]
    descriptor = package_descriptor(package, {k[5:]: v for k, v in files.items()}, version, site)
    files["datapackage.json"] = (json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if not directory.is_dir():
        staging = build_dir / "releases" / f".{version['version']}.{os.getpid()}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        for name, data in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        write_zip(staging / "drugbeleid.zip", files)
        os.replace(staging, directory)
    zipped = (directory / "drugbeleid.zip").read_bytes()
    release = {
        **version,
        "directory": str(directory.relative_to(build_dir)),
        "database": {"path": "drugbeleid.db", "sha256": version["sha256"], "bytes": version["bytes"]},
        "zip": {"path": "drugbeleid.zip", "sha256": sha256_of(zipped), "bytes": len(zipped)},
        "tables": {name[5:-4]: {"path": name, "sha256": sha256_of(data), "bytes": len(data)}
                   for name, data in files.items() if name.startswith("data/")},
    }
    return release
