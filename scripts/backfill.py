"""Record releases published before releases were kept, by rebuilding them from their commits.

    python -m scripts.backfill COMMIT [COMMIT ...]      (oldest first)

Each commit is checked out in a temporary worktree and built with its own code; the release it
publishes is recorded in releases/ only if its data version is the one its commit's CHANGELOG.md
names, which proves the bytes are reproduced: the version is a SHA-256 over the database and every
published file. Its changes are computed against the release recorded before it.
"""

from __future__ import annotations

import argparse
import json
import lzma
import subprocess
import sys
import tempfile
from pathlib import Path

from . import changes, history
from .project import read_release
from .release import json_bytes, release_record


def built_release(commit: str, root: Path) -> tuple[dict, dict[str, bytes]]:
    """Build `commit` with its own code; (its old-layout release.json, {path: bytes} of its files)."""
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(worktree), commit], cwd=root, check=True)
        try:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "scripts.build",
                    "--datasets",
                    "datasets",
                    "--out",
                    "build/drugbeleid.db",
                    "--site",
                    "metadata.yml",
                ],
                cwd=worktree,
                check=True,
                capture_output=True,
            )
            build = worktree / "build"
            old = read_release(build)
            directory = build / old["directory"]
            files = {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*") if p.is_file()}
            files["drugbeleid.db"] = (build / "drugbeleid.db").read_bytes()
            changelog = (worktree / "CHANGELOG.md").read_text(encoding="utf-8")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=root, check=True)
    if f"## {old['version']}" not in changelog:
        raise SystemExit(f"{commit}: built {old['version']}, which its CHANGELOG.md does not name: not reproduced")
    return old, files


def backfill(commits: list[str], root: Path, releases: Path) -> list[dict]:
    records = []
    for commit in commits:
        old, files = built_release(commit, root)
        newest = history.recorded(releases)
        previous = newest[0] if newest else None
        previous_files = None
        if previous:
            unpacked, _ = history.unpacked_files(releases / previous["version"], previous)
            descriptor = json.loads(unpacked["datapackage.json"])
            previous_files = (descriptor, {r["name"]: unpacked[r["path"]] for r in descriptor["resources"]})
        descriptor = json.loads(files["datapackage.json"])
        found = changes.changes(
            previous_files, (descriptor, {r["name"]: files[r["path"]] for r in descriptor["resources"]})
        )
        semver = changes.next_semver(previous["semver"] if previous else None, found)
        files["changes.json"] = json_bytes(found)
        version = {k: old[k] for k in ("version", "date", "sha256", "bytes")}
        record = release_record(version, semver, previous, files, found)
        record["backfilled_from_commit"] = commit
        history.write_directory(
            releases / old["version"],
            {
                history.RECORD: json_bytes(record),
                history.ZIP: files["drugbeleid.zip"],
                history.COMPRESSED_DATABASE: lzma.compress(files["drugbeleid.db"], preset=9),
                history.CHANGES: files["changes.json"],
            },
        )
        records.append(record)
        print(f"recorded {old['version']} ({semver}) from {commit}")
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commits", nargs="+")
    parser.add_argument("--releases", type=Path, default=Path("releases"))
    args = parser.parse_args(argv)
    backfill(args.commits, Path.cwd(), args.releases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
