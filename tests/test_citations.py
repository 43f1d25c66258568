"""Citations of every release, read back by real parsers (bibtexparser, rispy, json), and
CITATION.cff carrying the latest recorded release."""

from __future__ import annotations

import json
import shutil

import bibtexparser
import pytest
import rispy
import yaml

from scripts import citation
from scripts.build import build
from scripts.history import main as record_release
from serve import shared
from tests.conftest import DATASETS, ROOT


@pytest.fixture
def releases(datasette) -> list[dict]:
    records = shared.recorded_releases(datasette)
    assert records
    return records


def expected(datasette, record: dict) -> dict:
    directory = shared.release_directory(datasette, record["version"])
    return {
        "title": shared.package_in(directory)["title"],
        "publisher": shared.plugin_config(datasette)["publisher"]["name"],
        "url": f"http://localhost/releases/{record['version']}/",
    }


async def fetch(datasette, version: str, kind: str):
    response = await datasette.client.get(f"/releases/{version}/citation.{kind}")
    assert response.status_code == 200, response.text[:300]
    return response


async def test_bibtex_of_every_release(datasette, releases):
    for record in releases:
        want = expected(datasette, record)
        response = await fetch(datasette, record["version"], "bib")
        assert response.headers["content-type"].startswith("application/x-bibtex")
        library = bibtexparser.parse_string(response.text)
        assert not library.failed_blocks
        [entry] = library.entries
        fields = {f.key: f.value for f in entry.fields}
        assert fields["title"].strip("{}") == want["title"]
        assert fields["author"].strip("{}") == fields["publisher"] == want["publisher"]
        assert fields["date"] == record["date"] and fields["year"] == record["date"][:4]
        assert fields["version"] == record["semver"]
        assert record["version"] in fields["note"]
        assert fields["url"] == want["url"]


async def test_ris_of_every_release(datasette, releases):
    for record in releases:
        want = expected(datasette, record)
        response = await fetch(datasette, record["version"], "ris")
        [entry] = rispy.loads(response.text)
        assert entry["type_of_reference"] == "DATA"
        assert entry["title"] == want["title"] and entry["publisher"] == want["publisher"]
        assert entry["date"] == record["date"].replace("-", "/")
        assert entry["edition"] == record["semver"]
        assert entry["urls"] == [want["url"]]
        assert record["version"] in entry["notes"][0]


async def test_csl_json_of_every_release(datasette, releases):
    for record in releases:
        want = expected(datasette, record)
        response = await fetch(datasette, record["version"], "json")
        [item] = json.loads(response.text)
        assert item["type"] == "dataset" and item["title"] == want["title"]
        assert item["issued"]["date-parts"] == [[int(p) for p in record["date"].split("-")]]
        assert item["version"] == record["semver"] and record["version"] in item["note"]
        assert item["URL"] == want["url"] and item["publisher"] == want["publisher"]


async def test_an_unknown_release_has_no_citation(datasette):
    response = await datasette.client.get("/releases/2000-01-01-000000000000/citation.bib")
    assert response.status_code == 404 and "2000-01-01-000000000000" in response.json()["error"]


def test_bibtex_special_characters_are_escaped():
    cited = {
        "key": "k",
        "title": "A & B_{1} 50% #1",
        "publisher": "P",
        "date": "2026-01-02",
        "year": 2026,
        "month": 1,
        "day": 2,
        "semver": "1.0.0",
        "version": "v",
        "url": "https://example.org/x_y",
    }
    [entry] = bibtexparser.parse_string(citation.bibtex(cited)).entries
    assert entry.fields_dict["title"].value == r"{A \& B\_\{1\} 50\% \#1}"


def test_citation_cff_carries_the_latest_recorded_release():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    latest = json.loads(
        (
            ROOT
            / "releases"
            / max(
                (p.name for p in (ROOT / "releases").iterdir() if (p / "release.json").is_file()),
                key=lambda v: json.loads((ROOT / "releases" / v / "release.json").read_text())["number"],
            )
            / "release.json"
        ).read_text()
    )
    assert cff["cff-version"] == "1.2.0" and cff["title"] and cff["authors"] and cff["message"]
    assert cff["version"] == latest["semver"]
    assert str(cff["date-released"]) == latest["date"]


def test_recording_a_release_writes_its_version_into_citation_cff(tmp_path):
    """`make release` (scripts.history) records a new build and sets CITATION.cff to it."""
    releases = tmp_path / "releases"
    releases.mkdir()
    datasets = tmp_path / "datasets"  # a copy: the release dates it today, in datasets/release_date.txt
    shutil.copytree(DATASETS, datasets)
    build(datasets, tmp_path / "build" / "drugbeleid.db", ROOT / "metadata.yml", releases=releases)
    cff = tmp_path / "CITATION.cff"  # the project's, beside its releases folder
    cff.write_text((ROOT / "CITATION.cff").read_text(encoding="utf-8"), encoding="utf-8")
    ours = (ROOT / "CITATION.cff").read_bytes()
    assert (
        record_release(
            [
                "--build",
                str(tmp_path / "build"),
                "--releases",
                str(releases),
                "--changelog",
                str(tmp_path / "CHANGELOG.md"),
                "--datasets",
                str(datasets),
                "--site",
                str(ROOT / "metadata.yml"),
            ]
        )
        == 0
    )
    assert (ROOT / "CITATION.cff").read_bytes() == ours  # this repository's is left alone
    [recorded] = [json.loads(p.read_text(encoding="utf-8")) for p in releases.glob("*/release.json")]
    written = yaml.safe_load(cff.read_text(encoding="utf-8"))
    assert written["version"] == recorded["semver"] and str(written["date-released"]) == recorded["date"]
    assert written["title"] == yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))["title"]
    assert cff.read_text(encoding="utf-8").count("\nversion:") == 1


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/drugbeleid",
        "/drugbeleid/caseload",
        "/drugbeleid/caseload_by_year",
        "/examples",
        "/releases/",
        "/-/dashboards/drugbeleid",
    ],
)
@pytest.mark.parametrize(
    "lang, heading, version_text", [("nl", "Bronvermelding", "Versie"), ("en", "Cite this", "Version")]
)
async def test_every_page_has_a_cite_this_box_in_its_language(datasette, path, lang, heading, version_text):
    response = await datasette.client.get(path + ("?_lang=en" if lang == "en" else ""))
    assert response.status_code == 200
    box = response.text.split('<aside class="cite-this"', 1)[1].split("</aside>", 1)[0]
    release = shared.current_release(datasette)
    assert f">{heading}</h2>" in box
    assert f"{version_text} {release['semver']}" in box and release["version"] in box
    for kind in ("bib", "ris", "json"):
        href = box.split(f"/releases/{release['version']}/citation.{kind}", 1)
        assert len(href) == 2, kind
        assert (await datasette.client.get(f"/releases/{release['version']}/citation.{kind}")).status_code == 200


async def test_a_release_page_links_its_citations(datasette, releases):
    version = releases[-1]["version"]
    page = (await datasette.client.get(f"/releases/{version}/")).text
    for kind in ("bib", "ris", "json"):
        assert f"/releases/{version}/citation.{kind}" in page
