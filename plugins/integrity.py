"""Refuse to serve a database that is not the one the build published.

At startup the database file is checked against release.json beside it (size, then SHA-256) and
with SQLite's own PRAGMA integrity_check. A truncated copy, flipped bytes or a half-copied deploy
stop `datasette serve` with a message naming the file and what is wrong, instead of serving
wrong or partial data. On the ~1 MB database this adds a few milliseconds to a cold start
(see docs/build-safety.md).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import click
from datasette import hookimpl

DATABASE = "drugbeleid"


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


def database_problems(database: Path) -> list[str]:
    """Everything wrong with the published database, checked against release.json beside it."""
    release_path = database.parent / "release.json"
    if not database.is_file():
        return [f"{database} does not exist"]
    expected, error = read_release(release_path)
    if error:
        return [error]
    problems = []
    size = database.stat().st_size
    if size != expected["bytes"]:
        problems.append(f"size is {size} bytes, {release_path.name} says {expected['bytes']} (truncated or partly copied?)")
    actual = sha256_of_file(database)
    if actual != expected["sha256"]:
        problems.append(f"SHA-256 is {actual}, {release_path.name} says {expected['sha256']} (corrupted or not the published build)")
    return problems + integrity_problems(database)


@hookimpl
def startup(datasette):
    if DATABASE not in datasette.databases:
        return
    database = Path(datasette.get_database(DATABASE).path)
    problems = database_problems(database)
    if problems:
        raise DatabaseRefused(
            f"refusing to serve {database}: it is not the database the build published:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nRebuild it with `make build` (or restore the published build/ directory)."
        )
