"""Every release kept and served byte for byte, its changes, its semantic version, the feeds."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from scripts import changes, history
from scripts.build import build, built_fingerprint, inputs_fingerprint
from scripts.problems import BuildFailed

from .conftest import DATASETS, ROOT, read_csv

RELEASES = ROOT / "releases"
RECORDS = sorted(
    (json.loads(p.read_text(encoding="utf-8")) for p in RELEASES.glob("*/release.json")),
    key=lambda r: r["number"],
    reverse=True,
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_repository_keeps_releases_numbered_without_gaps():
    assert RECORDS, "no release recorded in releases/"
    assert [r["number"] for r in RECORDS] == list(range(len(RECORDS), 0, -1))
    for newer, older in zip(RECORDS, RECORDS[1:]):
        assert newer["previous"] == older["version"]
    assert RECORDS[-1]["previous"] is None and RECORDS[-1]["semver"] == "1.0.0"


async def test_releases_json_lists_every_release_newest_first(datasette):
    listed = (await datasette.client.get("/releases.json")).json()
    assert [r["version"] for r in listed] == [r["version"] for r in RECORDS]
    for entry, record in zip(listed, RECORDS):
        assert entry["semver"] == record["semver"] and entry["date"] == record["date"]
        assert entry["sha256"] == {
            "database": record["database"]["sha256"],
            "zip": record["zip"]["sha256"],
            "datapackage": record["datapackage"]["sha256"],
        }
        assert entry["rows"] == {t: e["rows"] for t, e in record["tables"].items()}
        assert entry["links"]["changes"].endswith(f"/releases/{record['version']}/changes.json")


@pytest.mark.parametrize("record", RECORDS, ids=[r["version"] for r in RECORDS])
async def test_every_release_is_served_byte_for_byte_as_recorded(datasette, record):
    prefix = f"/releases/{record['version']}"
    expected = {
        "datapackage.json": record["datapackage"],
        "drugbeleid.zip": record["zip"],
        "drugbeleid.db": record["database"],
        "changes.json": record["changes"],
        **{entry["path"]: entry for entry in record["tables"].values()},
    }
    for path, entry in expected.items():
        response = await datasette.client.get(f"{prefix}/{path}")
        assert response.status_code == 200, path
        assert (len(response.content), sha256(response.content)) == (entry["bytes"], entry["sha256"]), path
        assert "immutable" in response.headers["cache-control"], path
    checksum = (await datasette.client.get(f"{prefix}/drugbeleid.db.sha256")).text
    assert checksum.split()[0] == record["database"]["sha256"]


def changelog_entries() -> dict[str, str]:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.M)[1:]
    return {part.split("\n", 1)[0]: part.split("\n", 1)[1] for part in parts}


def test_changelog_has_every_release_with_the_counts_of_its_changes_and_a_reason():
    entries = changelog_entries()
    for record in RECORDS:
        heading = f"{record['version']} ({record['semver']})"
        assert heading in entries, f"CHANGELOG.md has no entry '## {heading}'"
        body = entries[heading]
        assert changes.counts_line(record["changes"]["summary"]) in body.splitlines(), (
            f"the counts of {heading} differ from its changes.json"
        )
        reasons = [line for line in body.splitlines() if line.strip() and not line.startswith(changes.COUNTS_PREFIX)]
        assert reasons, f"{heading}: say in CHANGELOG.md why the data changed"
    for heading, body in entries.items():
        version = heading.split()[0]
        assert version in {r["version"] for r in RECORDS} or "not retained" in body, (
            f"CHANGELOG.md names {version}, which is neither kept in releases/ nor marked as not retained"
        )


async def test_the_served_build_is_a_recorded_release(datasette):
    """What main serves is published. In the middle of docs/maintaining.md's steps it is not yet,
    and the message says what to run next from where the maintainer stands."""
    release = (await datasette.client.get("/-/release.json")).json()
    assert release["released"], (
        f"the build {release['version']} is not recorded yet; {history.next_step(ROOT, release['version'])}"
    )
    assert release["version"] == RECORDS[0]["version"], history.next_step(ROOT, release["version"])


async def test_both_versions_in_headers_metadata_and_package(datasette):
    release = (await datasette.client.get("/-/release.json")).json()
    response = await datasette.client.get("/drugbeleid/caseload.json")
    assert response.headers["x-data-version"] == release["version"]
    assert response.headers["x-data-semver"] == release["semver"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", release["semver"])
    assert (await datasette.client.get("/datapackage.json")).json()["semver"] == release["semver"]
    assert (await datasette.client.get("/-/metadata.json")).json()["data_semver"] == release["semver"]


@pytest.mark.parametrize("lang, title", [("nl", "Alle versies van de data"), ("en", "Every release of the data")])
async def test_the_releases_page_in_both_languages(datasette, lang, title):
    page = (await datasette.client.get("/releases/" + ("?_lang=en" if lang == "en" else ""))).text
    assert f'<html lang="{lang}">' in page and f"<h1>{title}</h1>" in page
    for record in RECORDS:
        assert record["version"] in page and record["semver"] in page
    one = (
        await datasette.client.get(f"/releases/{RECORDS[-1]['version']}/" + ("?_lang=en" if lang == "en" else ""))
    ).text
    assert ("Versie 1.0.0" if lang == "nl" else "Release 1.0.0") in one
    assert (await datasette.client.get(f"/releases/{RECORDS[-1]['version']}")).status_code == 302


async def test_the_releases_feed_is_valid_atom_with_one_entry_per_release(datasette):
    response = await datasette.client.get("/releases.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert [e.id for e in feed.entries] == [f"http://localhost/releases/{r['version']}/" for r in RECORDS]
    for entry, record in zip(feed.entries, RECORDS):
        assert record["semver"] in entry.title
        assert entry.summary, "an entry without its summary of changes"
        assert f"/releases/{record['version']}/datapackage.json" in entry.content[0].value
        assert [link.rel for link in entry.links] == ["alternate"]


async def test_the_events_feed_is_valid_atom_with_every_event(datasette):
    response = await datasette.client.get("/drugbeleid/events_feed.atom")
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    events = read_csv("events")
    assert len(feed.entries) == len(events)
    release = (await datasette.client.get("/-/release.json")).json()
    by_id = {e["id"]: e for e in events}
    for entry in feed.entries:
        event = by_id[entry.link.rsplit("/", 1)[1]]
        assert entry.title == (f"{event['date']}: " if event["date"] else "") + event["title_nl"]
        assert entry.updated.startswith(release["date"]), "updated is the release's date, not a guessed event time"
        assert event["quote"] in entry.summary


# --- changes and semantic versions, from the published files -------------------------------------


def package(fields: dict[str, str], key: str = "id", name: str = "things") -> dict:
    return {
        "version": "v",
        "resources": [
            {
                "name": name,
                "path": f"data/{name}.csv",
                "schema": {"primaryKey": [key], "fields": [{"name": n, "type": t} for n, t in fields.items()]},
            }
        ],
    }


def csv_of(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


BASE = (package({"id": "string", "count": "integer"}), {"things": csv_of("id,count", "a,1", "b,2")})


@pytest.mark.parametrize(
    "current, level, semver",
    [
        (
            (package({"id": "string", "count": "integer"}), {"things": csv_of("id,count", "a,1", "b,2", "c,3")}),
            "minor",
            "1.3.0",
        ),
        (
            (
                package({"id": "string", "count": "integer", "note": "string"}),
                {"things": csv_of("id,count,note", "a,1,", "b,2,")},
            ),
            "minor",
            "1.3.0",
        ),
        (
            (package({"id": "string", "count": "integer"}), {"things": csv_of("id,count", "a,1", "b,5")}),
            "patch",
            "1.2.4",
        ),
        ((package({"id": "string", "count": "integer"}), {"things": csv_of("id,count", "a,1")}), "patch", "1.2.4"),
        (
            (package({"id": "string", "total": "integer"}), {"things": csv_of("id,total", "a,1", "b,2")}),
            "major",
            "2.0.0",
        ),
        (
            (package({"id": "string", "count": "number"}), {"things": csv_of("id,count", "a,1", "b,2")}),
            "major",
            "2.0.0",
        ),
        ((package({"id": "string"}, name="others"), {"others": csv_of("id", "a")}), "major", "2.0.0"),
    ],
    ids=[
        "row added",
        "column added",
        "value corrected",
        "row withdrawn",
        "column renamed",
        "type changed",
        "table replaced",
    ],
)
def test_the_semantic_version_follows_from_the_changes(current, level, semver):
    found = changes.changes(BASE, current)
    assert changes.level_of(found) == level
    assert changes.next_semver("1.2.3", found) == semver


def test_changes_list_rows_by_primary_key_with_old_and_new_values():
    found = changes.changes(
        BASE, (package({"id": "string", "count": "integer"}), {"things": csv_of("id,count", "b,5", "c,3")})
    )
    table = found["tables"]["things"]
    assert table["rows_added"] == [{"key": {"id": "c"}}]
    assert table["rows_removed"] == [{"key": {"id": "a"}}]
    assert table["rows_changed"] == [{"key": {"id": "b"}, "changes": {"count": {"old": "2", "new": "5"}}}]
    assert found["summary"]["things"] == {
        "status": "kept",
        "rows_added": 1,
        "rows_removed": 1,
        "rows_changed": 1,
        "columns_added": 0,
        "columns_removed": 0,
        "types_changed": 0,
    }


def derived_package(rows: list[str], checks: list[str]) -> tuple[dict, dict[str, bytes]]:
    """A source table, a search index numbering its rows and a build report, as a release has them."""
    source = package({"id": "string", "text": "string"})["resources"]
    index = package(
        {"id": "integer", "table_name": "string", "row_key": "string", "column_name": "string", "text": "string"},
        name="search_index",
    )["resources"]
    report = package({"check": "string", "status": "string", "detail": "string"}, name="data_quality")["resources"]
    report[0]["schema"].pop("primaryKey")
    return (
        {"version": "v", "resources": report + source + index},
        {
            "things": csv_of("id,text", *(f"{r},text of {r}" for r in rows)),
            "search_index": csv_of(
                "id,table_name,row_key,column_name,text",
                *(f"{n},things,{r},text,text of {r}" for n, r in enumerate(rows, 1)),
            ),
            "data_quality": csv_of("check,status,detail", *checks),
        },
    )


def test_derived_tables_are_compared_by_what_their_rows_are_and_listed_apart():
    before = derived_package(["b", "c"], ["row_count:things,pass,2 rows", "provenance,pass,quotes"])
    after = derived_package(["a", "b", "c"], ["row_count:things,pass,3 rows", "provenance,pass,quotes"])
    found = changes.changes(before, after, derived={"search_index", "data_quality"})
    # a row added before the others renumbers search_index: one row added, none changed
    index = found["derived_tables"]["search_index"]
    assert index["rows_added"] == [{"key": {"table_name": "things", "row_key": "a", "column_name": "text"}}]
    assert index["rows_removed"] == [] and index["rows_changed"] == []
    # a check whose figures changed is that check changed, not a row removed and one added
    report = found["derived_tables"]["data_quality"]
    assert report["rows_changed"] == [
        {"key": {"check": "row_count:things"}, "changes": {"detail": {"old": "2 rows", "new": "3 rows"}}}
    ]
    assert report["rows_added"] == [] and report["rows_removed"] == []
    # the source tables first and alone in `tables` and `summary`, which the CHANGELOG counts
    assert list(found["tables"]) == list(found["summary"]) == ["things"]
    assert list(found["derived_summary"]) == ["data_quality", "search_index"]
    assert changes.counts_line(found["summary"]) == "Counts (from changes.json): things: 1 row added."
    assert changes.level_of(found) == "minor"


# --- recording and unpacking -----------------------------------------------------------------------


@pytest.fixture
def project(tmp_path) -> Path:
    """datasets/, content/, locale/, metadata.yml and releases/ of the repository, in a scratch folder."""
    for name in ("datasets", "content", "locale", "releases"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "metadata.yml", tmp_path / "metadata.yml")
    shutil.copy(ROOT / "CHANGELOG.md", tmp_path / "CHANGELOG.md")
    return tmp_path


def run_release(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.history",
            "--build",
            str(project / "build"),
            "--releases",
            str(project / "releases"),
            "--changelog",
            str(project / "CHANGELOG.md"),
            "--datasets",
            str(project / "datasets"),
            "--site",
            str(project / "metadata.yml"),
        ],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_release_of_a_recorded_build_changes_nothing(project):
    build(project / "datasets", project / "build" / "drugbeleid.db", project / "metadata.yml", project / "releases")
    assert run_release(project).returncode == 0  # records the build, unless it is recorded already
    before = {p: p.read_bytes() for p in (project / "releases").rglob("*") if p.is_file()}
    result = run_release(project)
    assert result.returncode == 0 and "already released" in result.stdout, result.stdout + result.stderr
    assert {p: p.read_bytes() for p in (project / "releases").rglob("*") if p.is_file()} == before


def test_a_damaged_recorded_release_stops_the_build_and_the_served_release_stays(project):
    out = project / "build" / "drugbeleid.db"
    build(project / "datasets", out, project / "metadata.yml", project / "releases")
    served = out.resolve()
    oldest = project / "releases" / RECORDS[-1]["version"]
    shutil.rmtree(project / "build" / "releases" / RECORDS[-1]["version"])  # unpacked again by the next build
    data = bytearray((oldest / "drugbeleid.zip").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (oldest / "drugbeleid.zip").write_bytes(bytes(data))
    with pytest.raises(BuildFailed) as refused:
        build(project / "datasets", out, project / "metadata.yml", project / "releases")
    assert f"releases/{RECORDS[-1]['version']}" in str(refused.value) and "drugbeleid.zip has SHA-256" in str(
        refused.value
    )
    assert out.resolve() == served


def test_a_build_behind_the_newest_release_is_not_recorded(project):
    build(project / "datasets", project / "build" / "drugbeleid.db", project / "metadata.yml", project / "releases")
    current = project / "build" / "current"
    record = json.loads((current / "release.json").read_text(encoding="utf-8"))
    newest = project / "releases" / record["version"]
    shutil.rmtree(
        newest, ignore_errors=True
    )  # as if the build had been made before the newest release was recorded elsewhere
    stale = dict(record, previous="2000-01-01-000000000000")
    (current / "release.json").chmod(0o644)
    (current / "release.json").write_text(json.dumps(stale), encoding="utf-8")
    result = run_release(project)
    assert result.returncode == 1 and "run `make build` again" in result.stderr, result.stderr
    assert not newest.exists()


def test_unpacking_checks_every_file_against_its_record():
    record = RECORDS[0]
    files, problems = history.unpacked_files(RELEASES / record["version"], record)
    assert problems == []
    assert sha256(files["drugbeleid.db"]) == record["database"]["sha256"]
    assert DATASETS.exists()


def test_a_changed_schema_description_is_a_new_version(project):
    out = project / "build" / "drugbeleid.db"
    first = build(project / "datasets", out, project / "metadata.yml", project / "releases")["release"]
    schema_path = project / "datasets" / "schemas" / "glossary.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    schema["fields"][0]["description"] += " (reworded)"
    schema_path.write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")
    second = build(project / "datasets", out, project / "metadata.yml", project / "releases")["release"]
    assert second["version"] != first["version"], "a release's package changed under the same version"


def test_the_version_is_dated_from_the_repository_and_the_build_follows_content_not_file_times(project):
    """The date in a version is the one stored in datasets/release_date.txt (no git history read);
    whether a build is up to date is decided by the content of its inputs."""
    out = project / "build" / "drugbeleid.db"
    inputs = (project / "datasets", project / "metadata.yml", project / "releases")
    first = build(project / "datasets", out, project / "metadata.yml", project / "releases")["release"]
    stored = (project / "datasets" / "release_date.txt").read_text(encoding="utf-8").strip()
    assert first["date"] == stored and first["version"].startswith(f"{stored}-")
    assert built_fingerprint(out) == inputs_fingerprint(*inputs)
    caseload = project / "datasets" / "caseload.csv"
    caseload.touch()  # a newer file time, the same bytes: nothing to build
    assert built_fingerprint(out) == inputs_fingerprint(*inputs)
    (project / "datasets" / "release_date.txt").write_text("2031-02-03\n", encoding="utf-8")
    assert built_fingerprint(out) != inputs_fingerprint(*inputs), "a new date must make a new build"
    second = build(project / "datasets", out, project / "metadata.yml", project / "releases")["release"]
    assert second["version"] == f"2031-02-03-{first['version'].split('-', 3)[3]}"


def test_a_changed_content_file_is_a_new_version_and_uncommitted_content_is_not_released(project):
    """content/ is an input of the build and of the release, like datasets/ and metadata.yml."""
    from scripts.history import uncommitted_inputs

    out = project / "build" / "drugbeleid.db"
    first = build(project / "datasets", out, project / "metadata.yml", project / "releases")["release"]
    figures = project / "content" / "key_figures.yml"
    figures.write_text(figures.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # the same content
    assert (
        build(project / "datasets", out, project / "metadata.yml", project / "releases")["release"]["version"]
        == first["version"]
    )
    figures.write_text(figures.read_text(encoding="utf-8").replace("complete years", "full years", 1), encoding="utf-8")
    second = build(project / "datasets", out, project / "metadata.yml", project / "releases")["release"]
    assert second["version"] != first["version"], "the site's content changed under the same version"

    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "content", "datasets", "locale", "metadata.yml"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "data"], cwd=project, check=True)
    assert uncommitted_inputs(project) == []
    figures.write_text(figures.read_text(encoding="utf-8").replace("full years", "complete years", 1), encoding="utf-8")
    assert uncommitted_inputs(project) == ["content/key_figures.yml"]


def test_a_changed_translation_is_a_new_version_and_an_uncommitted_catalogue_is_not_released(project):
    """The interface catalogues (locale/) are an input of the build and of the release, like content/:
    what a page says in Dutch is part of what a version publishes."""
    from scripts.history import uncommitted_inputs

    out = project / "build" / "drugbeleid.db"
    inputs = (project / "datasets", project / "metadata.yml", project / "releases")

    def version() -> str:
        return build(project / "datasets", out, project / "metadata.yml", project / "releases")["release"]["version"]

    first = version()
    catalogue = project / "locale" / "nl" / "LC_MESSAGES" / "messages.po"
    text = catalogue.read_text(encoding="utf-8")
    assert 'msgstr "Volgende pagina"' in text
    # what `make catalogues` rewrites without changing a message: the header's date, a comment
    catalogue.write_text(
        re.sub(r"POT-Creation-Date: [^\\]*", "POT-Creation-Date: 2031-02-03 04:05+0000", text).replace(
            '\nmsgid "Next page"', '\n# a translator\'s note\nmsgid "Next page"'
        ),
        encoding="utf-8",
    )
    assert built_fingerprint(out) != inputs_fingerprint(*inputs), "a changed catalogue must build again"
    assert version() == first
    catalogue.write_text(text.replace('msgstr "Volgende pagina"', 'msgstr "Verder"'), encoding="utf-8")
    assert version() != first, "a translation changed under the same version"

    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "content", "datasets", "locale", "metadata.yml"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "data"], cwd=project, check=True)
    assert uncommitted_inputs(project) == []
    catalogue.write_text(text, encoding="utf-8")
    assert uncommitted_inputs(project) == ["locale/nl/LC_MESSAGES/messages.po"]
