"""What a maintainer does when the next answer to a written question comes, step by step as docs/maintaining.md
says, in a temporary copy of the project: add the source, find the quotes, add a caseload figure for a
new year and a statistic quoting the source, build, release, serve. Then a column renamed: a major
release."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import urllib.request
from pathlib import Path

import feedparser

from scripts import history

from .conftest import NEW_ID, QUOTE_2023, ROOT, make_serve, new_source_text, run_make

NEW_TEXT = new_source_text("Een traject bij de drugbehandelingskamer duurde\ngemiddeld 9 maanden.\n")
RECORDS = sorted(
    (json.loads(p.read_text(encoding="utf-8")) for p in (ROOT / "releases").glob("*/release.json")),
    key=lambda r: r["number"],
    reverse=True,
)


def midway() -> str:
    """Why changes.json may hold more than this test's rows: this folder is in the middle of
    docs/maintaining.md's steps, and the copy has the maintainer's rows too ('' once released)."""
    pending = history.uncommitted_inputs(ROOT) + (history.git_status(ROOT, ("releases", "CHANGELOG.md")) or [])
    if not pending:
        return ""
    return (
        "; this folder has changes not yet committed (" + ", ".join(pending) + "), and this test adds its rows "
        "to a copy of it: finish docs/maintaining.md's steps first (commit, make release, commit the release), "
        "then run make test"
    )


def make(project: Path, *args: str) -> subprocess.CompletedProcess:
    result = run_make(project, *args)
    assert result.returncode == 0, f"make {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def quote(project: Path, text: str) -> str:
    """The quote as `make quote` prints it, ready to paste (its last line)."""
    return make(project, "quote", f"ID={NEW_ID}", f"TEXT={text}").stdout.rstrip().splitlines()[-1].strip()


def append_row(path: Path, values: dict[str, str]) -> None:
    """One row at the end of a CSV, as a maintainer types it: every column of the header, the
    authored texts in both languages."""
    header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    row = {column: values.get(column, "") for column in header}
    for column in header:
        for suffix in ("_nl", "_en"):
            base = column.removesuffix(suffix)
            if column.endswith(suffix) and base in values and column not in values:
                row[column] = values[base]
    missing = set(values) - set(header)
    assert not missing, f"{path.name} has no column {missing}"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([row[c] for c in header])
    with open(path, "a", encoding="utf-8", newline="") as f:
        f.write(buffer.getvalue())


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def get_json(url: str):
    return json.loads(get(url))


def test_a_maintainer_publishes_the_next_answer_as_a_minor_release_and_a_rename_as_major(project_copy, tmp_path):
    previous = RECORDS[0]
    # 1. the source
    received = tmp_path / "antwoord-123.txt"
    received.write_bytes(NEW_TEXT.encode("utf-8"))
    make(project_copy, "add-source", f"FILE={received}", f"ID={NEW_ID}")
    # 2. the quotes, as the build will check them
    caseload_quote = quote(project_copy, QUOTE_2023)
    duration_quote = quote(project_copy, "Een traject bij de drugbehandelingskamer duurde gemiddeld 9 maanden.")
    # 3. the rows
    datasets = project_copy / "datasets"
    append_row(
        datasets / "caseload.csv",
        {
            "justice_house_id": "gent",
            "year": "2023",
            "dossiers": "40",
            "period_complete": "true",
            "document_id": NEW_ID,
            "quote": caseload_quote,
        },
    )
    append_row(
        datasets / "statistics.csv",
        {
            "id": "trajectory-duration-2024",
            "topic": "programme_duration",
            "subject": "DBK",
            "indicator": "Average duration of a trajectory at the drug treatment chamber",
            "value": "9",
            "unit": "months",
            "value_text": "9 maanden",
            "qualifier": "exact",
            "document_id": NEW_ID,
            "quote": duration_quote,
        },
    )
    # 4. build, 5. release
    make(project_copy, "build")
    released = make(project_copy, "release")
    record = json.loads((project_copy / "build" / "current" / "release.json").read_text(encoding="utf-8"))
    assert record["previous"] == previous["version"] and record["version"] in released.stdout
    major, minor, patch = map(int, previous["semver"].split("."))
    assert record["semver"] == f"{major}.{minor + 1}.0", "new rows are a minor release"
    assert f"## {record['version']} ({record['semver']})" in (project_copy / "CHANGELOG.md").read_text(encoding="utf-8")
    assert (project_copy / "releases" / record["version"] / "release.json").is_file()

    with make_serve(root=project_copy) as base:
        # the new rows are served
        rows = get_json(f"{base}/drugbeleid/caseload.json?_shape=array&year=2023")
        assert [(r["justice_house_id"], r["dossiers"], r["document_id"]) for r in rows] == [("gent", 40, NEW_ID)]
        stat = get_json(f"{base}/drugbeleid/statistics/trajectory-duration-2024.json?_shape=array")
        assert stat[0]["value"] == 9 and stat[0]["quote"] == duration_quote
        # the previous release, byte for byte as it was recorded
        prefix = f"{base}/releases/{previous['version']}"
        for path, entry in [
            ("drugbeleid.zip", previous["zip"]),
            ("datapackage.json", previous["datapackage"]),
            ("drugbeleid.db", previous["database"]),
            *[(e["path"], e) for e in previous["tables"].values()],
        ]:
            body = get(f"{prefix}/{path}")
            assert (len(body), hashlib.sha256(body).hexdigest()) == (entry["bytes"], entry["sha256"]), path
        # changes.json lists exactly the added rows of the tables the maintainer touched
        found = get_json(f"{base}/releases/{record['version']}/changes.json")
        assert found["previous_version"] == previous["version"]
        tables, hint = found["tables"], midway()
        assert tables["caseload"]["rows_added"] == [{"key": {"justice_house_id": "gent", "year": "2023"}}], hint
        assert tables["statistics"]["rows_added"] == [{"key": {"id": "trajectory-duration-2024"}}], hint
        assert tables["documents"]["rows_added"] == [{"key": {"id": NEW_ID}}], hint
        assert {r["key"]["id"] for r in tables["passages"]["rows_added"]} == {f"{NEW_ID}-00{n}" for n in range(1, 5)}, (
            hint
        )
        for name in ("caseload", "statistics", "documents", "passages", "justice_houses", "events"):
            assert tables[name]["rows_removed"] == [] and tables[name]["rows_changed"] == [], f"{name}{hint}"
        assert found["tables_removed"] == [] and found["tables_added"] == []
        # the release is listed and in the feed
        listed = get_json(f"{base}/releases.json")
        assert [r["version"] for r in listed[:2]] == [record["version"], previous["version"]]
        feed = feedparser.parse(get(f"{base}/releases.atom"))
        assert not feed.bozo and feed.entries[0].id.endswith(f"/releases/{record['version']}/")
        assert "caseload: 1" in feed.entries[0].summary

    # a column renamed: a break of the public contract, a major release
    schema_path = datasets / "schemas" / "glossary.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    renamed = schema["fields"][-1]["name"]
    schema["fields"][-1]["name"] = f"{renamed}_renamed"
    schema_path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    glossary = (datasets / "glossary.csv").read_text(encoding="utf-8").split("\n", 1)
    header = glossary[0].split(",")
    assert header[-1] == renamed
    (datasets / "glossary.csv").write_text(
        ",".join(header[:-1] + [f"{renamed}_renamed"]) + "\n" + glossary[1], encoding="utf-8"
    )
    make(project_copy, "build")
    make(project_copy, "release")
    after = json.loads((project_copy / "build" / "current" / "release.json").read_text(encoding="utf-8"))
    assert after["previous"] == record["version"]
    assert after["semver"] == f"{major + 1}.0.0", "a renamed column is a major release"
    glossary_changes = json.loads((project_copy / "releases" / after["version"] / "changes.json").read_text())[
        "tables"
    ]["glossary"]
    assert glossary_changes["columns_removed"] == [renamed] and glossary_changes["columns_added"] == [
        f"{renamed}_renamed"
    ]
