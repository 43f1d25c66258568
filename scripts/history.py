"""Every published release, kept in the repository and served for ever.

    python -m scripts.history [--build build] [--releases releases]     (`make release`)

A release is recorded in the repository as `releases/<version>/`, four files written once:
- `release.json`: its record (version, semantic version, number, date, previous release, the
  SHA-256 and size of the data package, the zip, the database and every CSV, row counts, the
  summary of its changes);
- `drugbeleid.zip`: the data package and every CSV, byte for byte as published (the zip is
  deterministic: fixed timestamps, sorted names);
- `drugbeleid.db.xz`: the SQLite database, compressed (about a quarter of its size);
- `changes.json`: what changed since the previous release (scripts/changes.py).

Git keeps them: a fresh clone holds every release ever published, and `make build` unpacks each
into `build/releases/<version>/`, checking every file against the SHA-256 and size its record
gives, so that `/releases/<version>/...` serves the very bytes that were released. Storing the
zip rather than its CSVs one by one keeps a release to one compressed file of data (~170 KB).
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from . import publish
from .changes import COUNTED, counts_line
from .citation import write_cff
from .problems import BuildFailed, Problem
from .project import BUILD_INPUTS
from .project import DATABASE_FILE as DATABASE
from .release import DATE_FILE, json_bytes, read_release_date, sha256_of, today, write_release_date

RECORD = "release.json"
ZIP = "drugbeleid.zip"
COMPRESSED_DATABASE = f"{DATABASE}.xz"
CHANGES = "changes.json"
INDEX = "index.json"


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


# --- the releases recorded in the repository ------------------------------------------------------


def recorded(releases: Path) -> list[dict]:
    """The records of every release in the repository, newest first (by release number)."""
    if not releases.is_dir():
        return []
    records = [read_json(p / RECORD) for p in releases.iterdir() if (p / RECORD).is_file()]
    return sorted(records, key=lambda r: r["number"], reverse=True)


def check(name: str, data: bytes, expected: dict, where: str) -> list[Problem]:
    problems = []
    if len(data) != expected["bytes"]:
        problems.append(Problem(where, f"{name} has {len(data)} bytes, its record says {expected['bytes']}"))
    if sha256_of(data) != expected["sha256"]:
        problems.append(Problem(where, f"{name} has SHA-256 {sha256_of(data)}, its record says {expected['sha256']}"))
    return problems


def unpacked_files(source: Path, record: dict) -> tuple[dict[str, bytes], list[Problem]]:
    """The files of a recorded release as they are served, each checked against its record."""
    where = f"releases/{record['version']}"
    zipped = (source / ZIP).read_bytes()
    problems = check(ZIP, zipped, record["zip"], where)
    if problems:  # not the released zip: nothing in it can be trusted
        return {}, problems
    files = {ZIP: zipped}
    with zipfile.ZipFile(source / ZIP) as archive:
        files["datapackage.json"] = archive.read("datapackage.json")
        problems += check("datapackage.json", files["datapackage.json"], record["datapackage"], where)
        for entry in record["tables"].values():
            files[entry["path"]] = archive.read(entry["path"])
            problems += check(entry["path"], files[entry["path"]], entry, where)
    try:
        files[DATABASE] = lzma.decompress((source / COMPRESSED_DATABASE).read_bytes())
        problems += check(DATABASE, files[DATABASE], record["database"], where)
    except lzma.LZMAError as error:
        problems.append(Problem(where, f"{COMPRESSED_DATABASE} cannot be decompressed: {error}"))
    files[CHANGES] = (source / CHANGES).read_bytes()
    problems += check(CHANGES, files[CHANGES], record["changes"], where)
    files[RECORD] = (source / RECORD).read_bytes()
    return files, problems


def write_directory(target: Path, files: dict[str, bytes]) -> None:
    """Write `files` into a new directory `target`, all at once: staged beside it, then renamed."""
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    publish.write_files(staging, files)
    publish.fsync_tree(staging)
    publish.replace_directory(staging, target)  # what is there: an incomplete directory of an older build's layout


def complete(directory: Path) -> bool:
    """A release directory is complete once it is in place: it is staged, then renamed whole."""
    return (directory / RECORD).is_file()


def unpack_all(releases: Path, build_releases: Path) -> list[dict]:
    """Unpack every recorded release into build/releases/<version>/ (those not there yet) and
    write build/releases/index.json; returns the records, newest first."""
    records = recorded(releases)
    problems = []
    build_releases.mkdir(parents=True, exist_ok=True)
    for record in records:
        target = build_releases / record["version"]
        if complete(target):
            continue
        files, found = unpacked_files(releases / record["version"], record)
        problems += found
        if not found:
            write_directory(target, files)
    if problems:
        raise BuildFailed(problems)
    write_index(build_releases, records)
    return records


def write_index(build_releases: Path, records: list[dict]) -> None:
    tmp = build_releases / f".{INDEX}.{os.getpid()}.tmp"
    tmp.write_bytes(json_bytes(records))
    os.replace(tmp, build_releases / INDEX)


# --- recording the current build as a release (`make release`) ----------------------------------


def record_current(build: Path, releases: Path) -> tuple[dict, bool]:
    """Record the release `build/current` serves in the repository; (its record, whether it is new)."""
    current = build / "current"
    record = read_json(current / RECORD)
    version = record["version"]
    target = releases / version
    if complete(target):
        return read_json(target / RECORD), False
    newest = recorded(releases)
    expected_previous = newest[0]["version"] if newest else None
    if record.get("previous") != expected_previous:
        raise BuildFailed(
            [
                Problem(
                    str(current / RECORD),
                    f"this build follows release {record.get('previous')}, "
                    f"but the newest recorded release is {expected_previous}: run `make build` again",
                )
            ]
        )
    releases.mkdir(parents=True, exist_ok=True)
    files = {
        RECORD: (current / RECORD).read_bytes(),
        ZIP: (current / ZIP).read_bytes(),
        COMPRESSED_DATABASE: lzma.compress((current / DATABASE).read_bytes(), preset=9),
        CHANGES: (current / CHANGES).read_bytes(),
    }
    write_directory(target, files)
    _, problems = unpacked_files(target, record)
    if problems:  # never leave a release that cannot be served byte for byte
        shutil.rmtree(target)
        raise BuildFailed(problems)
    write_index(build / "releases", recorded(releases))
    return record, True


def add_changelog_entry(changelog: Path, record: dict) -> None:
    """Put the release's heading and its counts (from changes.json) at the top of CHANGELOG.md's
    entries; why the data changed is for the maintainer to write under the heading."""
    text = changelog.read_text(encoding="utf-8") if changelog.is_file() else "# Changelog\n\n"
    heading = f"## {record['version']} ({record['semver']})"
    if heading in text:
        return
    entry = f"{heading}\n\n{counts_line(record['changes']['summary'])}\n\n"
    first = text.find("\n## ")
    text = text + "\n" + entry if first < 0 else text[: first + 1] + entry + text[first + 1 :]
    changelog.write_text(text, encoding="utf-8")


def describe(record: dict) -> str:
    lines = [f"release {record['version']} (version {record['semver']}, number {record['number']})"]
    for table, summary in record["changes"]["summary"].items():
        counts = [f"{summary[k]} {one if summary[k] == 1 else many}" for k, one, many in COUNTED if summary[k]]
        if summary["status"] != "kept":
            counts.insert(0, f"table {summary['status']}")
        if counts:
            lines.append(f"  {table}: {', '.join(counts)}")
    return "\n".join(lines)


# The stored date is written by `make release` itself.
STORED_DATE = f"datasets/{DATE_FILE}"


def git_status(project: Path, paths: tuple[str, ...]) -> list[str] | None:
    """The paths under `paths` that differ from the last commit (None outside a git checkout)."""
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "--", *paths],
            check=False,
            cwd=project,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return [line[3:] for line in result.stdout.splitlines()] if result.returncode == 0 else None


def uncommitted_inputs(project: Path) -> list[str]:
    """What the build read that git has not committed (nothing outside a git checkout): a release
    made from it would not be what the commit builds in another clone."""
    return [path for path in git_status(project, BUILD_INPUTS) or [] if path != STORED_DATE]


def next_step(project: Path, version: str) -> str:
    """What to run next, from where the maintainer stands in docs/maintaining.md (add, quote, rows,
    build, commit, release, commit the release, test): said by `make build`, `make release` and the
    recorded-release test."""
    if version not in {record["version"] for record in recorded(project / "releases")}:
        uncommitted = uncommitted_inputs(project)
        if uncommitted:
            return (
                "next (docs/maintaining.md, step 5): commit the data, then release it:\n"
                f'  git add {" ".join(uncommitted)} && git commit -m "Source: ..."\n'
                "  make release"
            )
        return "next (docs/maintaining.md, step 6): make release"
    directory = f"releases/{version}/"
    pending = git_status(project, (directory, "CHANGELOG.md", "CITATION.cff", STORED_DATE)) or []
    pending = sorted({directory if path.startswith(directory) else path for path in pending})
    if pending:
        return (
            "next (docs/maintaining.md, step 7): say in CHANGELOG.md why the data changed, and commit the release:\n"
            f'  git add {" ".join(pending)} && git commit -m "Release {version}: ..."\n'
            "then (step 8): make test"
        )
    return f"this build is release {version}, recorded and committed: nothing to release; next (docs/maintaining.md, step 8): make test"


def date_today(datasets: Path, site: Path, releases: Path, out: Path) -> str | None:
    """Date the release today: write the date into datasets/release_date.txt and build again (the
    version starts with it). None when it already says today."""
    from . import build  # build imports this module

    date = today()
    if read_release_date(datasets) == date:
        return None
    write_release_date(datasets, date)
    build.build(datasets, out, site, releases)
    return date


def main(argv: list[str] | None = None) -> int:
    from . import build

    parser = argparse.ArgumentParser(description="Record the current build as a release in the repository.")
    parser.add_argument("--build", type=Path, default=Path("build"))
    parser.add_argument("--releases", type=Path, default=Path("releases"))
    parser.add_argument("--changelog", type=Path, default=Path("CHANGELOG.md"))
    parser.add_argument("--datasets", type=Path, default=Path("datasets"))
    parser.add_argument("--site", type=Path, default=Path("metadata.yml"))
    parser.add_argument(
        "--citation",
        type=Path,
        default=None,
        help="CITATION.cff to set to the new release (default: beside the releases folder)",
    )
    args = parser.parse_args(argv)
    project = args.releases.resolve().parent
    uncommitted = uncommitted_inputs(project)
    if uncommitted:
        print(
            "not released: the build read files that are not committed, and a fresh clone would build another "
            "version from the commit. Commit them first (docs/maintaining.md, step 5), then release:\n"
            f'  git add {" ".join(uncommitted)} && git commit -m "Source: ..."\n'
            "  make release",
            file=sys.stderr,
        )
        return 1
    out = args.build / DATABASE
    if build.built_fingerprint(out) != build.inputs_fingerprint(args.datasets, args.site, args.releases):
        print(
            f"not released: {args.build}/ does not hold a build of the files as they are now (or no build at all): "
            "run `make build` again, then `make release` (through make, `make release` builds first by itself)",
            file=sys.stderr,
        )
        return 1
    try:
        served = read_json(args.build / "current" / RECORD)["version"]
        dated = None if complete(args.releases / served) else date_today(args.datasets, args.site, args.releases, out)
        record, new = record_current(args.build, args.releases)
    except BuildFailed as failure:
        print(failure, file=sys.stderr)
        return 1
    except FileNotFoundError as missing:
        print(f"no build to release ({missing.filename} is missing): run `make build` first", file=sys.stderr)
        return 1
    if not new:
        print(f"already released: {describe(record)}")
        print(next_step(project, record["version"]))
        return 0
    add_changelog_entry(args.changelog, record)
    citation = args.citation or project / "CITATION.cff"
    if citation.is_file():
        write_cff(citation, record)
    # the build is the release just recorded: building again from releases/ as it now is gives the same files
    build.write_stamp(out, build.inputs_fingerprint(args.datasets, args.site, args.releases))
    if dated:
        print(f"dated {dated}: {STORED_DATE} now holds the release's date, and the build was made again with it")
    print(f"recorded {args.releases / record['version']}/: {describe(record)}")
    print(f"\n{args.changelog} has a new entry for {record['version']} ({record['semver']}) with its counts.")
    print(next_step(project, record["version"]))
    print("Deploy: `make serve` (or the proxy) serves it, and every earlier release, under /releases/.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
