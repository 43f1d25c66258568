"""The next source lands cleanly: in a temporary copy of the project that is a git repository of
its own, a maintainer follows docs/maintaining.md step by step (add, quote, rows, build, commit,
release, commit the release, test) with a source of its own making: a presentation with a
statistic in a unit the lists do not have yet, and an event. A fresh shallow clone of the
released commit, whose commits are dated another day (as a squash or rebase merge dates them),
then builds exactly the recorded release and passes the suite's data-dependent tests
(`pytest -m data`: build, release, provenance, catalogue, languages, API)."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, run_make
from .test_maintainer import append_row

SOURCE_ID = "presentatie-gevangenis-brugge-2025"
SOURCE_TEXT = (
    "Drugbeleid in de gevangenis van Brugge - stand van zaken 2025\n"
    "\n"
    "In 2024 namen 412 gedetineerden deel aan een\n"
    "groepsinterventie rond druggebruik.\n"
    "\n"
    "De drugvrije afdeling van de gevangenis van Brugge\n"
    "opende op 1 maart 2025.\n"
)
NEW_UNIT = "detainees"
# Commits dated another day than the release, as a merge by squash or rebase dates them: the
# release's version must not follow them.
COMMIT_DATE = "2030-01-01T12:00:00+00:00"


def git(project: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": COMMIT_DATE, "GIT_COMMITTER_DATE": COMMIT_DATE}
    result = subprocess.run(
        ["git", *args], check=False, cwd=project, capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, f"git {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def make(project: Path, *args: str) -> str:
    result = run_make(project, *args)
    assert result.returncode == 0, f"make {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def quote(project: Path, text: str) -> str:
    return make(project, "quote", f"ID={SOURCE_ID}", f"TEXT={text}").rstrip().splitlines()[-1].strip()


def commit_command(output: str) -> list[str]:
    """The `git add ... && git commit` line a make command printed as the next step."""
    line = next(line for line in output.splitlines() if line.strip().startswith("git add "))
    return line.strip().removeprefix("git add ").split(" && ")[0].split()


def add_unit_labels(project: Path, unit: str, nl: str, en: str) -> None:
    """The labels of a new unit, in both languages, where docs/maintaining.md says labels live:
    beside the field, in the `value_labels` of `unit` in datasets/schemas/statistics.json."""
    path = project / "datasets" / "schemas" / "statistics.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    field = next(f for f in schema["fields"] if f["name"] == "unit")
    field["value_labels"][unit] = {"label": en, "label_nl": nl}
    path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def add_to_closed_list(project: Path, table: str, column: str, value: str) -> None:
    """A new value in a column's `enum`, in its schema (docs/maintaining.md, "Closed lists")."""
    path = project / "datasets" / "schemas" / f"{table}.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    field = next(f for f in schema["fields"] if f["name"] == column)
    assert value not in field["constraints"]["enum"], f"{value} is not new in {table}.{column}"
    field["constraints"]["enum"].append(value)
    path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def served_version(project: Path) -> str:
    return json.loads((project / "build" / "current" / "release.json").read_text(encoding="utf-8"))["version"]


@pytest.fixture
def repository(tmp_path) -> Path:
    """The project as committed in a repository of its own (no build/), with this checkout's .venv."""
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", ".hypothesis", ".pytest_cache", "__pycache__", "node_modules", "test-artifacts"
        ),
    )
    (copy / ".venv").symlink_to(ROOT / ".venv")
    git(copy, "init", "-q", "-b", "main")
    (copy / ".git" / "info" / "exclude").write_text(
        "/.venv\n", encoding="utf-8"
    )  # a link: .gitignore's /.venv/ is a folder
    git(copy, "config", "user.email", "maintainer@example.org")
    git(copy, "config", "user.name", "Maintainer")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "The project before the new source")
    return copy


def test_a_new_source_with_a_new_unit_lands_and_a_fresh_clone_passes_the_data_tests(repository, tmp_path):
    project = repository
    before = {p.relative_to(project): p.read_bytes() for p in (project / "releases").rglob("*") if p.is_file()}
    received = tmp_path / "presentatie-brugge.txt"
    received.write_text(SOURCE_TEXT, encoding="utf-8")

    # 1. add the source
    added = make(project, "add-source", f"FILE={received}", f"ID={SOURCE_ID}", "KIND=presentation")
    assert f"added document '{SOURCE_ID}' (presentation)" in added and "make quote" in added
    # 2. the quotes, as the build checks them
    figure = quote(project, "In 2024 namen 412 gedetineerden deel aan een groepsinterventie rond druggebruik.")
    opened = quote(project, "De drugvrije afdeling van de gevangenis van Brugge opende op 1 maart 2025.")
    # 3. the rows: a statistic in a new unit (added to the closed list, with its labels) and an event
    add_to_closed_list(project, "statistics", "unit", NEW_UNIT)
    add_unit_labels(project, NEW_UNIT, nl="gedetineerden", en="detainees")
    datasets = project / "datasets"
    append_row(
        datasets / "statistics.csv",
        {
            "id": "brugge-group-intervention-2024",
            "topic": "intervention",
            "subject": "Prison of Brugge",
            "subject_nl": "Gevangenis van Brugge",
            "indicator": "Detainees who took part in a group intervention on drug use",
            "indicator_nl": "Gedetineerden die deelnamen aan een groepsinterventie rond druggebruik",
            "value": "412",
            "unit": NEW_UNIT,
            "period": "2024",
            "period_nl": "2024",
            "value_text": "412 gedetineerden",
            "qualifier": "exact",
            "document_id": SOURCE_ID,
            "quote": figure,
        },
    )
    append_row(
        datasets / "events.csv",
        {
            "id": "brugge-drug-free-unit-opened",
            "date": "2025-03-01",
            "date_precision": "day",
            "kind": "start",
            "title": "Drug-free unit of the prison of Brugge opened",
            "title_nl": "Drugvrije afdeling van de gevangenis van Brugge geopend",
            "document_id": SOURCE_ID,
            "quote": opened,
        },
    )
    append_row(
        datasets / "source_parts.csv",
        {
            "id": f"{SOURCE_ID}-slide-1",
            "document_id": SOURCE_ID,
            "kind": "slide",
            "number": "1",
            "line_start": "1",
            "line_end": str(len(SOURCE_TEXT.splitlines())),
        },
    )

    # 4. build: the next step is to commit, and the recorded-release test says so too
    built = make(project, "build")
    assert "published build/drugbeleid.db" in built and "step 5" in built
    to_commit = commit_command(built)
    assert "datasets/statistics.csv" in to_commit and "datasets/schemas/statistics.json" in to_commit
    midway = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_releases.py::test_the_served_build_is_a_recorded_release",
        ],
        check=False,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert midway.returncode == 1 and "git add datasets/" in midway.stdout and "make release" in midway.stdout, (
        midway.stdout
    )
    refused = run_make(project, "release")
    assert refused.returncode != 0 and "not released" in refused.stderr and "git add datasets/" in refused.stderr

    # 5. commit: a commit changes no input, so nothing is built again and the version stays
    git(project, "add", *to_commit)
    git(project, "commit", "-q", "-m", f"Source: {SOURCE_ID}")
    unreleased = served_version(project)
    assert make(project, "build").startswith(f"up to date: build/drugbeleid.db is data version {unreleased}")

    # 6. release: dated the day it is made, stored in datasets/release_date.txt
    days = {datetime.datetime.now(datetime.UTC).date().isoformat()}
    released = make(project, "release")
    days.add(datetime.datetime.now(datetime.UTC).date().isoformat())
    record = json.loads((project / "build" / "current" / "release.json").read_text(encoding="utf-8"))
    assert record["date"] in days and record["version"].startswith(record["date"])
    assert (datasets / "release_date.txt").read_text(encoding="utf-8") == f"{record['date']}\n"
    assert f"recorded releases/{record['version']}/" in released and "step 7" in released
    found = json.loads((project / "releases" / record["version"] / "changes.json").read_text(encoding="utf-8"))
    assert found["tables"]["statistics"]["rows_added"] == [{"key": {"id": "brugge-group-intervention-2024"}}]
    assert found["tables"]["events"]["rows_added"] == [{"key": {"id": "brugge-drug-free-unit-opened"}}]
    # a new source adds rows and changes none; of the build's report, only the row counts it changed
    for name, summary in {**found["summary"], **found["derived_summary"]}.items():
        assert summary["rows_removed"] == 0 and (summary["rows_changed"] == 0 or name == "data_quality"), (
            name,
            summary,
        )
    recounted = {change["key"]["check"] for change in found["derived_tables"]["data_quality"]["rows_changed"]}
    assert recounted == {
        f"row_count:{table}" for table in ("documents", "statistics", "events", "source_parts", "passages")
    }
    assert list(found["summary"])[-1] == "passages" and "search_index" in found["derived_summary"]

    # 7. commit the release, with the reason under its CHANGELOG heading
    changelog = project / "CHANGELOG.md"
    heading = f"## {record['version']} ({record['semver']})\n\n"
    text = changelog.read_text(encoding="utf-8")
    assert heading in text
    changelog.write_text(
        text.replace(heading, heading + "A presentation on the prison of Brugge: one figure, one event.\n\n"),
        encoding="utf-8",
    )
    release_files = commit_command(released)
    # datasets/release_date.txt changes only when the stored date is not today's already
    recorded_files = {f"releases/{record['version']}/", "CHANGELOG.md", "CITATION.cff"}
    assert recorded_files <= set(release_files) <= recorded_files | {"datasets/release_date.txt"}
    git(project, "add", *release_files)
    git(project, "commit", "-q", "-m", f"Release {record['version']} ({record['semver']})")
    assert git(project, "status", "--porcelain") == ""
    assert "nothing to release" in make(project, "build")
    after = {p.relative_to(project): p.read_bytes() for p in (project / "releases").rglob("*") if p.is_file()}
    assert {path: data for path, data in after.items() if path in before} == before, "an earlier release changed"

    # 8. test, from a fresh shallow clone of the released commit (commit dates another day)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{project}", str(clone))
    (clone / ".venv").symlink_to(ROOT / ".venv")
    make(clone, "build")
    assert served_version(clone) == record["version"], "a fresh clone builds another version than the one released"
    # Datasette's unit registry, which serve/app.py caches in build/ at its first import: written
    # once here, not by the two test workers at once.
    subprocess.run([sys.executable, "-c", "import serve.app"], check=True, cwd=clone, timeout=120)
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadfile"]
        + ["-m", "data", f"--basetemp={tmp_path / 'data-tests'}", "tests"],
        check=False,
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    summary = tested.stdout.strip().splitlines()[-1] if tested.stdout.strip() else tested.stderr
    assert tested.returncode == 0, tested.stdout[-8000:] + tested.stderr[-2000:]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary, summary
