"""Refuse to serve a database that is not the one the build published.

At startup the database file is checked against release.json beside it (size, then SHA-256) and
with SQLite's own PRAGMA integrity_check. A truncated copy, flipped bytes or a half-copied deploy
stop `datasette serve` with a message naming the file and what is wrong, instead of serving
wrong or partial data.

The full check reads the whole file (about 5 ms per MB: 6 s at 1000x the data), so a passed check
is remembered in <database>.verified.json beside it, keyed by the file's identity: device, inode,
size, mtime and ctime. Any write to the file, a copy or a swap changes the ctime or the inode (and
user space cannot set a ctime back), so the record only ever vouches for the very bytes that were
checked; the next start of an unchanged file costs a stat. Where build/ is read-only nothing is
remembered and every start checks in full (see docs/build-safety.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import click
from datasette import hookimpl

from serve.shared import DATABASE


class DatabaseRefused(click.ClickException):
    """A ClickException, so `datasette serve` prints `Error: <message>` and exits 1 (no traceback)."""


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_release(path: Path) -> tuple[dict | None, str | None]:
    try:
        release = json.loads(path.read_text(encoding="utf-8"))
        return {"sha256": release["database"]["sha256"], "bytes": int(release["database"]["bytes"])}, None
    except FileNotFoundError:
        return None, f"{path} is missing, so the database cannot be verified; run `make build`"
    except (OSError, ValueError, KeyError, TypeError) as error:
        return None, f"{path} is unreadable ({type(error).__name__}: {error}); run `make build`"


def integrity_problems(path: Path) -> list[str]:
    """PRAGMA integrity_check, read-only: the file is served immutable and must not be touched."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            rows = [row[0] for row in connection.execute("PRAGMA integrity_check(20)")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        return [f"SQLite cannot read it: {error}"]
    return [] if rows == ["ok"] else [f"SQLite's PRAGMA integrity_check: {row}" for row in rows]


def identity_of(path: Path) -> list[int]:
    """What changes whenever the file's bytes may have: a write sets ctime (and mtime), a copy or
    a swap gives another inode. ctime cannot be set back from user space, unlike mtime."""
    st = path.stat()
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def verified_record(database: Path) -> Path:
    return database.with_name(f"{database.name}.verified.json")


def verified_sha256(database: Path, identity: list[int]) -> str | None:
    """The SHA-256 a full check found for this very file, if the file has not changed since."""
    try:
        record = json.loads(verified_record(database).read_text(encoding="utf-8"))
        return record["sha256"] if record["identity"] == identity else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember_verified(database: Path, identity: list[int], sha256: str) -> None:
    record = verified_record(database)
    temporary = record.with_name(f"{record.name}.{os.getpid()}.tmp")  # workers may write at once
    try:
        temporary.write_text(json.dumps({"identity": identity, "sha256": sha256}), encoding="utf-8")
        os.replace(temporary, record)
    except OSError:  # a read-only build/: every start checks in full
        temporary.unlink(missing_ok=True)


def database_problems(database: Path) -> list[str]:
    """Everything wrong with the published database, checked against release.json beside it."""
    release_path = database.parent / "release.json"
    if not database.is_file():
        return [f"{database} does not exist"]
    expected, error = read_release(release_path)
    if error:
        return [error]
    problems = []
    identity = identity_of(database)  # taken before reading: a write during the check is not vouched for
    size = identity[2]
    if size != expected["bytes"]:
        problems.append(
            f"size is {size} bytes, {release_path.name} says {expected['bytes']} (truncated or partly copied?)"
        )
    checked = verified_sha256(database, identity)
    actual = checked or sha256_of_file(database)
    if actual != expected["sha256"]:
        problems.append(
            f"SHA-256 is {actual}, {release_path.name} says {expected['sha256']} (corrupted or not the published build)"
        )
    if checked:  # these very bytes passed integrity_check before
        return problems
    problems += integrity_problems(database)
    if not problems and identity_of(database) == identity:
        remember_verified(database, identity, actual)
    return problems


@hookimpl
def startup(datasette):
    if DATABASE not in datasette.databases:
        return
    database = Path(datasette.get_database(DATABASE).path).resolve()
    problems = database_problems(database)
    if problems:
        raise DatabaseRefused(
            f"refusing to serve {database}: it is not the database the build published:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nRebuild it with `make build` (or restore the published build/ directory)."
        )
