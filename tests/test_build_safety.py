"""Builds never lose data.

1. A build killed with SIGKILL during load, during indexing and just before the switch leaves the
   previously published database, metadata.json and release.json byte for byte intact, still served
   by a running server and by a restarted one, and a later good build succeeds. A build killed before
   any of its renames, links and removals leaves either the old release or the new one served,
   each whole (scripts/publish.py).
2. A corrupted, truncated or unverifiable database is refused at start (plugins/integrity.py):
   `datasette serve` exits non-zero with a message naming the file and what is wrong, and never
   answers 200.

scripts/ carries no instrumentation: the build runs in a subprocess (`python -c WRAPPER`) that wraps
one function so that it prints a marker and sleeps; the test waits for the marker and kills that PID.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


from .conftest import ROOT, SUBPROCESS_ENV, free_port
from .test_build_checks import edit

SITE = ROOT / "metadata.yml"
DATASETTE = str(Path(sys.executable).with_name("datasette"))
MARKER = "KILL-POINT"
CHANGED_NOTE = "A changed note, published only by a build that finishes."
STAFFING_ANTWERPEN = "/drugbeleid/staffing.json?_shape=array&justice_house_id=antwerpen"

spec = importlib.util.spec_from_file_location("integrity_plugin", ROOT / "plugins" / "integrity.py")
integrity = importlib.util.module_from_spec(spec)
spec.loader.exec_module(integrity)

# Runs scripts.build.build(datasets, out, site) with one function wrapped so that it prints
# "KILL-POINT <pid>" and sleeps (or, for "as-pid:<pid>", as that PID); argv: point datasets out site.
WRAPPER = r"""
import os, sys, time
from pathlib import Path
import scripts.build, scripts.load

point, datasets, out, site = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])

def pause():
    print(f"KILL-POINT {os.getpid()}", flush=True)
    time.sleep(600)

if point == "load":
    # Third table loaded, then an uncommitted write: the kill leaves a half-built file and a hot journal.
    load_table, loaded = scripts.load.load_table, []
    def wrapped_load_table(db, resource):
        count = load_table(db, resource)
        loaded.append(resource.name)
        if len(loaded) == 3:
            db.execute("BEGIN")
            db.execute(f"DELETE FROM [{resource.name}]")
            pause()
        return count
    scripts.load.load_table = wrapped_load_table
elif point == "index":
    index = scripts.load.index
    def wrapped_index(db, resources, *site_tables):
        index(db, resources[: len(resources) // 2], *site_tables)
        pause()
    scripts.load.index = wrapped_index
elif point == "switch":
    # The new release directory is complete and in place; build/current still names the old one.
    replace = os.replace
    def wrapped_replace(src, dst, *args, **kwargs):
        if Path(dst) == out.parent / "current":
            pause()
        return replace(src, dst, *args, **kwargs)
    os.replace = wrapped_replace
elif point.startswith("as-pid:"):
    # The whole build as if it were the process of that PID (its temporary files are named by it).
    os.getpid = lambda: int(point[7:])
elif point.startswith("step:"):
    # Before the Nth operation that changes build/ other than by writing a new file: every rename,
    # link and removal of the publication.
    import shutil
    target, calls = int(point[5:]), [0]
    def counted(function):
        def wrapped(*args, **kwargs):
            calls[0] += 1
            if calls[0] == target:
                pause()
            return function(*args, **kwargs)
        return wrapped
    for module, name in ((os, "replace"), (os, "rename"), (os, "symlink"), (shutil, "rmtree")):
        setattr(module, name, counted(getattr(module, name)))
scripts.build.build(datasets, out, site)
print("BUILD-FINISHED", flush=True)
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def serve_command(db: Path, port: int) -> list[str]:
    """The Makefile's `serve` flags, on another directory and port."""
    return [
        DATASETTE,
        "serve",
        "-i",
        str(db),
        "--inspect-file",
        str(db.with_name("inspect.json")),
        "--metadata",
        str(db.with_name("metadata.json")),
        "--plugins-dir",
        str(ROOT / "plugins"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def stop(process: subprocess.Popen) -> None:
    """Stop a process this test started, by its PID."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class LiveServer:
    def __init__(self, db: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            serve_command(db, self.port),
            cwd=ROOT,
            env=SUBPROCESS_ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_until_up(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.stderr.read().decode()
            try:
                get(self.base + "/-/versions.json")
                return
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"the server did not answer within {seconds} s")

    def note(self) -> str:
        status, body = get(self.base + STAFFING_ANTWERPEN)
        assert status == 200
        return json.loads(body)[0]["note"]


@pytest.fixture(scope="module")
def published_template(built, tmp_path_factory) -> Path:
    """build/ as `make build` leaves it (database, metadata.json, release.json, releases/, inspect.json)."""
    out = tmp_path_factory.mktemp("published") / "build" / "drugbeleid.db"
    shutil.copytree(built.parent, out.parent, symlinks=True)
    subprocess.run(
        [DATASETTE, "inspect", str(out), "--inspect-file", str(out.with_name("inspect.json"))], check=True, timeout=60
    )
    return out


@pytest.fixture
def published(published_template, tmp_path) -> Path:
    out = tmp_path / "build" / "drugbeleid.db"
    shutil.copytree(published_template.parent, out.parent, symlinks=True)
    return out


def published_hashes(out: Path) -> dict[str, str]:
    return {name: sha256(out.with_name(name)) for name in ("drugbeleid.db", "metadata.json", "release.json")}


def served_note_after_restart(out: Path) -> tuple[str | None, str]:
    """A fresh `datasette serve` (startup hooks, integrity check included) on the directory:
    the note it serves (None when it refuses to start) and what it printed."""
    result = subprocess.run(
        serve_command(out, free_port()) + ["--get", STAFFING_ANTWERPEN],
        env=SUBPROCESS_ENV,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    note = json.loads(result.stdout)[0]["note"] if result.returncode == 0 else None
    return note, result.stdout + result.stderr


def kill_build_at(point: str, datasets: Path, out: Path, must_reach: bool = True) -> int | None:
    """Start the build, wait for the marker, SIGKILL it; returns the killed PID (None when the build
    finished before the point and `must_reach` is false)."""
    process = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, point, str(datasets), str(out), str(SITE)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "the build never reached the kill point"
            ready, _, _ = select.select([process.stdout], [], [], remaining)
            line = process.stdout.readline() if ready else ""
            if line.startswith(MARKER):
                break
            if "BUILD-FINISHED" in line and not must_reach:
                process.wait(timeout=30)
                return None
            assert process.poll() is None and "BUILD-FINISHED" not in line, (
                f"the build ended before the kill point: {line}{process.stderr.read()}"
            )
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        stop(process)
    assert process.returncode == -signal.SIGKILL
    return process.pid


@pytest.mark.parametrize("point", ["load", "index", "switch"])
def test_a_killed_build_leaves_the_published_database_intact_and_served(point, published, datasets_copy):
    edit(datasets_copy, "staffing", 2, "note", CHANGED_NOTE)
    before = published_hashes(published)
    server = LiveServer(published)
    try:
        server.wait_until_up()
        old_note = server.note()
        assert old_note != CHANGED_NOTE

        killed_pid = kill_build_at(point, datasets_copy, published)

        assert published_hashes(published) == before
        assert server.note() == old_note, "the running server no longer serves the old data"
        assert integrity.database_problems(published) == []
        note, output = served_note_after_restart(published)
        assert note == old_note, output
    finally:
        stop(server.process)

    # What the kill leaves is garbage beside the database, never in its place. A later build must
    # succeed even when it gets the killed build's PID (the usual case in a fresh container), so
    # that its temporary file has the same name as the one left behind.
    leftovers = sorted(
        p.name
        for p in [*published.parent.iterdir(), *(published.parent / "releases").iterdir()]
        if p.name.startswith(".") and p.name != ".built"
    )
    assert leftovers and all(f".{killed_pid}." in name for name in leftovers), leftovers
    # In a process of its own: os.getpid replaced in this one would mislead its other threads too.
    rebuilt = subprocess.run(
        [sys.executable, "-c", WRAPPER, f"as-pid:{killed_pid}", str(datasets_copy), str(published), str(SITE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rebuilt.returncode == 0 and "BUILD-FINISHED" in rebuilt.stdout, rebuilt.stdout + rebuilt.stderr
    assert integrity.database_problems(published) == []
    assert not [p.name for p in (published.parent / "releases").glob(".*")], (
        "the killed build's temporaries were not removed"
    )
    with sqlite3.connect(published) as db:
        assert db.execute("select note from staffing where justice_house_id = 'antwerpen'").fetchone() == (
            CHANGED_NOTE,
        )


def served_state(out: Path) -> tuple[str | None, str | None, str]:
    """(note, data version) a freshly started server serves from build/, and what it printed."""
    note, output = served_note_after_restart(out)
    release = json.loads((out.resolve().parent / "release.json").read_text(encoding="utf-8"))
    metadata = json.loads((out.resolve().parent / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["data_version"] == release["version"] == out.resolve().parent.name, "a release mixed with another"
    return note, release["version"], output


def test_a_build_killed_at_any_step_serves_the_old_release_or_the_new(published, datasets_copy):
    """SIGKILL before each rename, link and removal of a build, one step further each time: every
    kill leaves a site that starts and serves one whole release, the old one until the switch and
    the new one from it; then a build finishes without a kill and serves the new one."""
    edit(datasets_copy, "staffing", 2, "note", CHANGED_NOTE)
    old_note, old_version, output = served_state(published)
    assert old_note is not None and old_note != CHANGED_NOTE, output
    seen, step = [], 1
    while kill_build_at(f"step:{step}", datasets_copy, published, must_reach=False) is not None:
        note, version, output = served_state(published)
        assert (note, version == old_version) in ((old_note, True), (CHANGED_NOTE, False)), output
        assert not seen or seen[-1] == old_note or note == CHANGED_NOTE, "the old release came back"
        seen.append(note)
        step += 1
    assert step > 3 and old_note in seen, f"only {step - 1} kill points were reached"
    note, version, output = served_state(published)
    assert note == CHANGED_NOTE and version != old_version, output


# --- 2. a damaged database is refused at start ---------------------------------------------------


def truncate(db: Path) -> None:
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])


def flip_bytes(db: Path) -> None:
    data = bytearray(db.read_bytes())
    for offset in range(len(data) // 2, len(data) // 2 + 16):
        data[offset] ^= 0xFF
    db.write_bytes(bytes(data))


def corrupt_page_and_release(db: Path) -> None:
    """Damage a b-tree page and make release.json agree with the damaged file, so that only
    PRAGMA integrity_check can tell."""
    data = bytearray(db.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    page = len(data) // page_size - 20
    data[(page - 1) * page_size + 3 : (page - 1) * page_size + 5] = b"\xff\xff"  # cell count of the page
    db.write_bytes(bytes(data))
    release_path = db.with_name("release.json")
    release = json.loads(release_path.read_text(encoding="utf-8"))
    release["database"].update(sha256=sha256(db), bytes=len(data))
    release_path.write_text(json.dumps(release), encoding="utf-8")


def empty_file(db: Path) -> None:
    db.write_bytes(b"")


def remove_release_json(db: Path) -> None:
    db.resolve().with_name("release.json").unlink()  # the file beside the database, not build/'s link


@pytest.mark.parametrize(
    "damage, expected",
    [
        (truncate, ["bytes, release.json says", "(truncated or partly copied?)", "SHA-256 is "]),
        (flip_bytes, ["SHA-256 is ", "(corrupted or not the published build)"]),
        (corrupt_page_and_release, ["  - SQLite"]),
        (empty_file, ["size is 0 bytes"]),
        (remove_release_json, ["release.json is missing, so the database cannot be verified"]),
    ],
)
def test_a_damaged_database_is_refused_at_start(damage, expected, published):
    damage(published)
    server = LiveServer(published)
    answered = []
    try:
        deadline = time.monotonic() + 60
        while server.process.poll() is None and time.monotonic() < deadline:
            try:
                answered.append(get(server.base + "/drugbeleid.json")[0])
            except OSError:
                time.sleep(0.1)
    finally:
        stop(server.process)
    message = server.process.stderr.read().decode()
    assert 200 not in answered
    assert server.process.returncode not in (0, None, -signal.SIGTERM), message
    assert f"Error: refusing to serve {published.resolve()}: it is not the database the build published" in message
    for part in expected:
        assert part in message, message
    if damage is corrupt_page_and_release:
        assert "SHA-256 is" not in message and "size is" not in message, message
    assert "Traceback" not in message


def test_the_intact_published_database_is_served(published):
    server = LiveServer(published)
    try:
        server.wait_until_up()
        assert get(server.base + "/drugbeleid.json")[0] == 200
    finally:
        stop(server.process)


def test_a_passed_check_is_remembered_only_for_the_unchanged_file(published, monkeypatch):
    """The full check (SHA-256 of every byte, integrity_check) runs once per file; the record it
    leaves must not vouch for the file once its bytes change, even with its mtime set back."""
    assert integrity.database_problems(published) == []  # full check, remembered
    with monkeypatch.context() as patched:

        def read_again(*args):
            raise AssertionError("the unchanged, verified file was read again")

        patched.setattr(integrity, "sha256_of_file", read_again)
        patched.setattr(integrity, "integrity_problems", read_again)
        assert integrity.database_problems(published) == []  # a stat, not a read
    before = os.stat(published)
    with open(published, "r+b") as f:  # flip bytes in place: same inode, same size
        f.seek(before.st_size // 2)
        chunk = f.read(16)
        f.seek(before.st_size // 2)
        f.write(bytes(b ^ 0xFF for b in chunk))
    os.utime(published, ns=(before.st_atime_ns, before.st_mtime_ns))
    problems = integrity.database_problems(published)
    assert any(p.startswith("SHA-256 is ") for p in problems), problems


async def test_the_check_also_guards_the_test_client(datasette):
    """The startup hook runs before the first request of Datasette's own client too."""
    response = await datasette.client.get("/drugbeleid/caseload.json")
    assert response.status_code == 200
