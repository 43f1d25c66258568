"""Publish step: one atomic switch from the served release to the new one.

Layout of build/ (every release directory is complete before it gets its name, and never changes):

    build/releases/<version>/   drugbeleid.db, metadata.json, inspect.json, release.json,
                                datapackage.json, drugbeleid.zip, changes.json, data/<table>.csv
    build/current            -> releases/<version>          (the served release)
    build/drugbeleid.db      -> current/drugbeleid.db       (stable paths for `make serve`,
    build/metadata.json      -> current/metadata.json        the tests and the tools; each
    build/release.json       -> current/release.json         resolves through `current`)
    build/inspect.json       -> current/inspect.json

The new release is staged in a hidden directory, renamed into place whole, and then `current` is
replaced by a new link with one rename(2). A build killed at any instant therefore leaves
`current` naming either the old release or the new one, each complete: there is no moment at which
the database of one release is served with the metadata or release record of another. A server
resolves `build/drugbeleid.db` once when it starts and keeps serving that release's directory.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CURRENT = "current"
STABLE_LINKS = ("metadata.json", "release.json", "inspect.json")


def fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_tree(directory: Path) -> None:
    for path in sorted(directory.rglob("*"), reverse=True):
        fsync(path)
    fsync(directory)


def write_files(directory: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)


def place(staging: Path, target: Path) -> Path:
    """Rename the staged release directory to its name; an identical release already there stays."""
    fsync_tree(staging)
    if (target / "metadata.json").is_file() and (target / "drugbeleid.db").is_file():
        shutil.rmtree(staging)  # same version, same content: built before
        return target
    replace_directory(staging, target)  # what is there: an unpacked recorded release (same files), or an older layout
    return target


def replace_directory(staging: Path, target: Path) -> None:
    """Rename a complete staged directory to `target`; whatever had that name is renamed aside
    first and then removed, so `target` is never half written."""
    aside = target.with_name(f".{target.name}.{os.getpid()}.replaced.tmp")
    if target.exists():
        os.replace(target, aside)
    os.replace(staging, target)
    shutil.rmtree(aside, ignore_errors=True)


def link(path: Path, pointing_to: str) -> None:
    """Make `path` a symbolic link to `pointing_to`, replacing whatever is there with one rename."""
    if path.is_symlink() and os.readlink(path) == pointing_to:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    os.symlink(pointing_to, tmp)
    if path.is_dir() and not path.is_symlink():  # build/ copied without its links: a directory there
        aside = path.with_name(f".{path.name}.{os.getpid()}.replaced.tmp")
        os.replace(path, aside)
        shutil.rmtree(aside)
    os.replace(tmp, path)


def switch(build: Path, version: str, database_name: str) -> None:
    """Serve `version`: the one atomic step, then the stable links (which never change once made)."""
    link(build / CURRENT, f"releases/{version}")
    link(build / database_name, f"{CURRENT}/drugbeleid.db")
    for name in STABLE_LINKS:
        link(build / name, f"{CURRENT}/{name}")


def remove_stale(build: Path) -> None:
    """Staging directories and links of builds that were killed (their process is gone)."""
    candidates = list((build / "releases").glob(".*.tmp")) + list(build.glob(".*.link")) + list(build.glob(".*.tmp"))
    for path in candidates:
        try:
            pid = int(path.name.split(".")[-2 if not path.name.endswith(".replaced.tmp") else -3])
            if pid != os.getpid():
                os.kill(pid, 0)
                continue  # a live build's
        except (ValueError, IndexError, ProcessLookupError):
            pass  # no process id in the name, or its build is gone
        except PermissionError:
            continue  # another user's live build
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
