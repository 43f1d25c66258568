"""Publishing for dashboards and portals: the data package, the zip, the feeds, versions and caching."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT
from .test_serve import get, live_server  # noqa: F401  (fixture)

FEEDS = {
    "caseload_by_year": ["year", "dossiers_total", "printed_total", "justice_houses_reporting", "period_complete"],
    "caseload_matrix": ["justice_house_id", "justice_house", "2016", "2017", "2018", "2019", "2020", "2021", "2022"],
    "caseload_and_staffing": [
        "justice_house_id",
        "year",
        "dossiers",
        "period_complete",
        "fte",
        "fte_reference_date",
        "derived_dossiers_per_fte",
        "derivation",
    ],
    "statistics_with_quotes": [
        "id",
        "topic",
        "subject",
        "indicator",
        "value",
        "unit",
        "qualifier",
        "value_text",
        "population",
        "period",
        "cited_study",
        "document_id",
        "document_title",
        "quote",
    ],
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_datapackage_resources_are_absolute_urls_with_true_checksums(datasette):
    descriptor = (await datasette.client.get("/datapackage.json")).json()
    release = (await datasette.client.get("/-/release.json")).json()
    assert descriptor["version"] == release["version"]
    package = json.loads((ROOT / "datasets" / "datapackage.json").read_text(encoding="utf-8"))
    tables = [r["name"] for r in package["resources"]] + [r["name"] for r in package["generatedResources"]]
    assert sorted(r["name"] for r in descriptor["resources"]) == sorted(tables)  # every source and generated table
    for resource in descriptor["resources"]:
        assert resource["path"].startswith("http://localhost/data/"), resource["path"]
        body = (await datasette.client.get(resource["path"].removeprefix("http://localhost"))).content
        assert resource["hash"] == f"sha256:{sha256(body)}" and resource["bytes"] == len(body), resource["name"]
        assert resource["schema"]["fields"] and resource["description_nl"]


def frictionless_validate(package: str, cwd: Path) -> tuple[dict, str]:
    """`frictionless validate --json` of a data package (a path in `cwd`, or a URL): its report, and
    what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "frictionless", "validate", "--json", package],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(result.stdout), result.stdout


async def test_zip_holds_the_package_and_validates_with_frictionless(datasette, tmp_path):
    response = await datasette.client.get("/drugbeleid.zip")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path)
    assert "datapackage.json" in names and "data/caseload.csv" in names
    report, output = frictionless_validate("datapackage.json", cwd=tmp_path)
    assert report["valid"], output[:2000]


def test_frictionless_validates_the_package_as_served(live_server):  # noqa: F811
    """What a portal does: validate the published URL, every resource fetched over HTTP."""
    report, output = frictionless_validate(f"{live_server}/datapackage.json", cwd=ROOT)
    assert report["valid"], output[:2000]
    package = json.loads((ROOT / "datasets" / "datapackage.json").read_text(encoding="utf-8"))
    assert len(report["tasks"]) == len(package["resources"]) + len(
        package["generatedResources"]
    )  # every table validated


async def test_database_download_and_its_published_checksum(datasette, built):
    response = await datasette.client.get("/drugbeleid.db")
    assert response.status_code == 200
    digest = sha256(response.content)
    assert digest == sha256(built.read_bytes())
    assert (await datasette.client.get("/drugbeleid.db.sha256")).text == f"{digest}  drugbeleid.db\n"
    assert (await datasette.client.get("/-/release.json")).json()["database"]["sha256"] == digest


async def test_data_version_everywhere(datasette):
    version = (await datasette.client.get("/-/release.json")).json()["version"]
    assert (await datasette.client.get("/-/metadata.json")).json()["data_version"] == version
    assert (await datasette.client.get("/datapackage.json")).json()["version"] == version
    for path in ["/", "/drugbeleid/caseload", "/drugbeleid/caseload.csv", "/nope", "/-/versions.json"]:
        assert (await datasette.client.get(path)).headers["x-data-version"] == version, path


async def test_etag_and_304(datasette):
    first = await datasette.client.get("/drugbeleid/caseload.json?_size=5")
    assert first.status_code == 200 and first.headers["cache-control"] == "public, max-age=86400"
    again = await datasette.client.get(
        "/drugbeleid/caseload.json?_size=5", headers={"if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
    other = await datasette.client.get(
        "/drugbeleid/caseload.json?_size=6", headers={"if-none-match": first.headers["etag"]}
    )
    assert other.status_code == 200 and other.headers["etag"] != first.headers["etag"]


async def test_nothing_personal_or_failed_is_cached(datasette):
    error = await datasette.client.get("/drugbeleid/no_such_table.json")
    assert error.status_code == 404 and "etag" not in error.headers and "no-store" in error.headers["cache-control"]
    with_cookie = await datasette.client.get("/drugbeleid/caseload.json", cookies={"ds_actor": "x"})
    assert "etag" not in with_cookie.headers and "no-store" in with_cookie.headers["cache-control"]
    introspection = await datasette.client.get("/-/versions.json")
    assert "etag" not in introspection.headers


async def test_cors_on_every_get(datasette):
    for path in ["/drugbeleid/caseload.json", "/drugbeleid/caseload_by_year.csv", "/datapackage.json", "/nope"]:
        assert (await datasette.client.get(path)).headers["access-control-allow-origin"] == "*", path


@pytest.mark.parametrize("feed,columns", sorted(FEEDS.items()))
async def test_stable_feeds_as_csv_and_json(datasette, feed, columns):
    csv_response = await datasette.client.get(f"/drugbeleid/{feed}.csv")
    assert csv_response.status_code == 200
    rows = list(csv.reader(io.StringIO(csv_response.text)))
    assert rows[0] == columns and len(rows) > 1
    json_rows = (await datasette.client.get(f"/drugbeleid/{feed}.json?_shape=array")).json()
    assert list(json_rows[0]) == columns


async def test_caseload_by_year_feed_values(datasette):
    rows = (await datasette.client.get("/drugbeleid/caseload_by_year.json?_shape=array")).json()
    assert rows[-1] == {
        "year": 2022,
        "dossiers_total": 177,
        "printed_total": 177,
        "justice_houses_reporting": 5,
        "period_complete": 0,
    }
    assert [r["year"] for r in rows] == list(range(2016, 2023))


async def test_versioned_urls_serve_the_release_and_are_cacheable_forever(datasette):
    release = (await datasette.client.get("/-/release.json")).json()
    prefix = f"/releases/{release['version']}"
    descriptor = await datasette.client.get(f"{prefix}/datapackage.json")
    assert descriptor.status_code == 200
    assert "immutable" in descriptor.headers["cache-control"]
    # the release's own bytes, whose relative paths resolve against the URL they came from
    assert sha256(descriptor.content) == release["datapackage"]["sha256"]
    for resource in descriptor.json()["resources"]:
        assert resource["path"].startswith("data/"), resource["path"]
        body = (await datasette.client.get(f"{prefix}/{resource['path']}")).content
        assert sha256(body) == resource["hash"].removeprefix("sha256:")
    zipped = await datasette.client.get(f"{prefix}/drugbeleid.zip")
    assert sha256(zipped.content) == release["zip"]["sha256"]
    assert "immutable" in zipped.headers["cache-control"]
    # the stable names keep their one-day policy: they change with the next release
    assert "immutable" not in (await datasette.client.get("/data/caseload.csv")).headers["cache-control"]
    # and so do the pages about releases, which list the next one when it comes
    for page in ("/releases/", f"{prefix}/", "/releases.json", "/releases.atom"):
        response = await datasette.client.get(page)
        assert response.status_code == 200 and "immutable" not in response.headers["cache-control"], page


@pytest.mark.parametrize(
    "path",
    [
        "/releases/2000-01-01-000000000000/datapackage.json",  # well-formed, never built
        "/releases/..%2F..%2Fetc/datapackage.json",  # not a version
        "/releases/latest/drugbeleid.zip",
    ],
)
async def test_unknown_release_is_a_json_404(datasette, path):
    response = await datasette.client.get(path)
    assert response.status_code == 404
    assert response.json()["ok"] is False
    assert response.headers["cache-control"] == "no-store"


async def test_unknown_table_in_a_release_is_a_json_404(datasette):
    version = (await datasette.client.get("/-/release.json")).json()["version"]
    response = await datasette.client.get(f"/releases/{version}/data/no_such_table.csv")
    assert response.status_code == 404 and "no_such_table" in response.json()["error"]
