"""/openapi.json describes what is served, /api shows it, and schemathesis finds no 500 and no
response that departs from it, against a live server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jsonschema
import pytest
from datasette.app import Datasette
from datasette.plugins import pm
from openapi_spec_validator import OpenAPIV31SpecValidator

from scripts.build import build

from .conftest import ROOT, SUBPROCESS_ENV, TABLES
from . import schemathesis_cli
from .servers import start_worker, stop

VENV_BIN = Path(sys.executable).parent
# Fixed and bounded, so the run is reproducible and takes about 1.5 minutes on 2 cores.
SCHEMATHESIS_SEED = 20261123
SCHEMATHESIS_EXAMPLES = 20


async def spec_of(datasette) -> dict:
    response = await datasette.client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


async def test_spec_is_valid_openapi_3_1(datasette):
    spec = await spec_of(datasette)
    assert spec["openapi"].startswith("3.1")
    OpenAPIV31SpecValidator(spec).validate()  # raises on the first error


async def test_spec_covers_every_endpoint(datasette, built):
    spec = await spec_of(datasette)
    paths = spec["paths"]
    for table in TABLES:
        assert f"/drugbeleid/{table}.json" in paths and f"/drugbeleid/{table}.csv" in paths, table
        assert any(p.startswith(f"/drugbeleid/{table}/{{") for p in paths), f"no row endpoint for {table}"
    assert "/drugbeleid/caseload/{justice_house_id},{year}.json" in paths
    assert "/drugbeleid/data_quality/{rowid}.json" in paths  # no primary key: rowid
    metadata = json.loads((built.parent / "metadata.json").read_text(encoding="utf-8"))
    for query in metadata["databases"]["drugbeleid"]["queries"]:
        assert f"/drugbeleid/{query}.json" in paths and f"/drugbeleid/{query}.csv" in paths
    for own in [
        "/drugbeleid.json",
        "/drugbeleid.csv",
        "/datapackage.json",
        "/drugbeleid.zip",
        "/data/{table}.csv",
        "/catalog.ttl",
        "/catalog.jsonld",
        "/openapi.json",
        "/api",
        "/drugbeleid.db",
    ]:
        assert own in paths, own
    assert spec["info"]["version"] == json.loads((built.parent / "release.json").read_text())["version"]
    assert spec["info"]["license"] == {"name": metadata["license"], "url": metadata["license_url"]}


async def test_every_version_parameter_offers_the_recorded_releases_and_each_answers(datasette):
    spec = await spec_of(datasette)
    recorded = [r["version"] for r in (await datasette.client.get("/releases.json")).json()]
    assert len(recorded) >= 4
    described = {path: parameters(spec, path)["version"]["schema"] for path in spec["paths"] if "{version}" in path}
    assert len(described) >= 5
    for path, schema in described.items():
        assert schema["examples"] == recorded, path
        assert all(re.fullmatch(schema["pattern"], version) for version in recorded), path
    for version in recorded:
        assert (await datasette.client.get(f"/releases/{version}/datapackage.json")).status_code == 200, version


def parameters(spec: dict, path: str) -> dict:
    shared = spec["components"]["parameters"]
    listed = spec["paths"][path]["get"]["parameters"]
    resolved = [shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in listed]
    return {p["name"]: p for p in resolved}


async def test_table_parameters_are_the_real_ones(datasette):
    spec = await spec_of(datasette)
    caseload = parameters(spec, "/drugbeleid/caseload.json")
    for name in [
        "_size",
        "_next",
        "_sort",
        "_sort_desc",
        "_facet",
        "_shape",
        "year__exact",
        "year__gt",
        "dossiers__lte",
        "justice_house_id__in",
        "note__isnull",
    ]:
        assert name in caseload, name
    assert set(caseload["_sort"]["schema"]["enum"]) >= {"year", "dossiers", "justice_house_id"}
    assert "_search" not in caseload  # caseload has no full-text index
    assert "_search" in parameters(spec, "/drugbeleid/passages.json")
    assert "_search" in parameters(spec, "/drugbeleid/passages.csv")
    assert "object" not in parameters(spec, "/drugbeleid/data_quality.json")["_shape"]["schema"]["enum"]


async def test_response_schemas_give_type_and_description_of_every_column(datasette, built):
    spec = await spec_of(datasette)
    metadata = json.loads((built.parent / "metadata.json").read_text(encoding="utf-8"))
    tables = metadata["databases"]["drugbeleid"]["tables"]
    db = sqlite3.connect(built)
    for table in TABLES:
        row = spec["components"]["schemas"][f"{table}.row"]
        for _, name, sqlite_type, _, _, _ in db.execute(f"pragma table_info([{table}])"):
            column = row["properties"][name]
            assert column["x-sqlite-type"] == sqlite_type
            assert column["description"] == tables[table]["columns"][name]  # the one written in the descriptor
            assert column["type"]
    caseload = spec["components"]["schemas"]["caseload.row"]["properties"]
    assert caseload["year"]["type"] == "integer" and caseload["note"]["type"] == ["string", "null"]
    assert "dossiers, not persons" in caseload["dossiers"]["description"].lower()


async def test_a_column_added_to_a_descriptor_appears_in_the_spec(datasets_copy, tmp_path):
    """Nothing about a table is written in the plugin: add a column, rebuild, and it is described."""
    schema_path = datasets_copy / "schemas" / "justice_houses.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    schema["fields"].append(
        {
            "name": "assistants_estimate",
            "type": "number",
            "description": "A column added by this test.",
            "description_nl": "Een kolom die deze test toevoegt.",
        }
    )
    schema_path.write_text(json.dumps(schema), encoding="utf-8")
    csv_path = datasets_copy / "justice_houses.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    csv_path.write_text(
        "\n".join([lines[0] + ",assistants_estimate"] + [line + ",1.5" for line in lines[1:]]) + "\n", encoding="utf-8"
    )
    out = tmp_path / "build" / "drugbeleid.db"
    await asyncio.to_thread(build, datasets_copy, out, ROOT / "metadata.yml")  # build runs its own event loop
    metadata = json.loads((out.parent / "metadata.json").read_text(encoding="utf-8"))
    datasette = Datasette(immutables=[str(out)], metadata=metadata, plugins_dir=str(ROOT / "plugins"))

    spec = await spec_of(datasette)
    added = spec["components"]["schemas"]["justice_houses.row"]["properties"]["assistants_estimate"]
    assert added["type"] == ["number", "null"] and "added by this test" in added["description"]
    assert "assistants_estimate__gt" in parameters(spec, "/drugbeleid/justice_houses.json")
    assert "assistants_estimate" in parameters(spec, "/drugbeleid/justice_houses.json")["_sort"]["schema"]["enum"]
    OpenAPIV31SpecValidator(spec).validate()


async def test_repeated_requests_get_the_same_bytes(datasette, monkeypatch):
    """Made once per process and data version, served from memory: byte for byte the first answer."""
    first = await datasette.client.get("/openapi.json")
    plugin = next(p for p in pm.get_plugins() if getattr(p, "__name__", "") == "openapi.py")

    async def describe_again(datasette):
        raise AssertionError("described again although the data version did not change")

    monkeypatch.setattr(plugin, "describe", describe_again)
    second = await datasette.client.get("/openapi.json")
    assert first.status_code == second.status_code == 200
    assert second.headers["content-type"] == first.headers["content-type"] == "application/json; charset=utf-8"
    assert second.content == first.content and len(first.content) > 10_000
    assert json.loads(second.content)["info"]["version"] == json.loads(first.content)["info"]["version"]


async def test_site_search_is_described_and_answers_as_described(datasette):
    spec = await spec_of(datasette)
    operation = spec["paths"]["/search.json"]["get"]
    assert {"q", "table"} <= set(parameters(spec, "/search.json"))
    assert parameters(spec, "/search.json")["q"]["required"] is True
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    response = await datasette.client.get("/search.json?q=recidive")
    assert response.status_code == 200 and response.json()["results"]
    jsonschema.validate(response.json(), schema)
    bad = await datasette.client.get("/search.json?q=")
    assert bad.status_code == 400 and "400" in operation["responses"]


async def test_api_page_renders_the_spec_without_outside_assets(datasette):
    response = await datasette.client.get("/api")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    spec = await spec_of(datasette)
    assert spec["info"]["title"] in page and spec["info"]["version"] in page
    for path in ["/drugbeleid/caseload.json", "/drugbeleid/caseload_by_year.csv", "/datapackage.json"]:
        assert path in page
    assert "Dossiers, not persons" in page  # a column description from the descriptor
    # no CDN: every script, stylesheet and image comes from this site
    # (a <link rel="alternate"> names the page in another language, absolute by design: not an asset)
    assets = re.findall(
        r'<(?:script|img)[^>]*\ssrc="([^"]+)"|<link(?![^>]*\srel="alternate")[^>]*\shref="([^"]+)"', page
    )
    assert assets  # Datasette's own stylesheet at least
    for url in [a or b for a, b in assets]:
        assert not re.match(r"(?:[a-z]+:)?//", url), url


# ------------------------------------------------------------- clean errors (plugins/errors.py)


@pytest.mark.parametrize(
    "url,status",
    [
        ("/drugbeleid/caseload.json?_sort=nope", 400),
        ("/drugbeleid/caseload.json?_sort_desc=nope", 400),
        ("/drugbeleid/caseload.csv?_sort=nope", 400),
        ("/drugbeleid/caseload.json?_sort=year&_sort_desc=year", 400),
        ("/drugbeleid/caseload.json?_timelimit=abc", 400),
        ("/drugbeleid.json?sql=select+1&_timelimit=abc", 400),
        ("/drugbeleid/caseload.json?year__in=%5B", 400),
        ("/drugbeleid/caseload/antwerpen.json", 404),  # one key value of two
        ("/drugbeleid.json?_shape=array", 400),
        ("/drugbeleid.csv", 400),
        ("/drugbeleid/caseload_by_year.json?_shape=bad", 400),
        ("/drugbeleid/data_quality.json?_shape=object", 400),
        ("/drugbeleid/staffing.json?K%00=1", 400),
        ("/drugbeleid/nope.csv", 404),
        # a request parameter SQLite or Datasette cannot take: 400 naming the parameter (plugins/errors.py)
        ("/drugbeleid/caseload.json?year__gt=999999999999999999999999", 400),
        ("/drugbeleid/caseload.csv?year__gt=999999999999999999999999", 400),
        ("/drugbeleid/caseload.json?year__in=%5B1%2C99999999999999999999999%5D", 400),
        ("/drugbeleid/caseload.json?_facet=%7B%7D", 400),
        ("/drugbeleid/caseload.json?_facet_array=%7B%7D", 400),
        ("/drugbeleid/caseload.json?_facet=%7B%22simple%22%3A1%7D", 400),
        ("/drugbeleid/caseload.json?_facet_date=%7B%7D", 400),
        # the CSV of a failing ad-hoc query: Datasette sends 200 and an empty body
        ("/drugbeleid.csv?sql=select+nope", 400),
    ],
)
async def test_what_datasette_answers_with_500_is_a_clean_json_4xx(datasette, url, status):
    response = await datasette.client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["ok"] is False and body["error"]


@pytest.mark.parametrize(
    "url,parameter",
    [
        ("/drugbeleid/caseload.json?year__gt=999999999999999999999999", "year__gt"),
        ("/drugbeleid/caseload.csv?year__gt=999999999999999999999999", "year__gt"),
        ("/drugbeleid/caseload?year__gt=999999999999999999999999", "year__gt"),
        ("/drugbeleid/caseload?year__gt=999999999999999999999999&_lang=en", "year__gt"),
        ("/drugbeleid/caseload.json?_facet=%7B%7D", "_facet"),
        ("/drugbeleid/caseload.json?_facet_array=%7B%7D", "_facet_array"),
        ("/drugbeleid/caseload?_facet_array=%7B%7D&_lang=en", "_facet_array"),
        ("/drugbeleid/caseload?_facet=%7B%7D", "_facet"),
        # a date facet on values that are not full dates would show dates the data does not have
        ("/drugbeleid/events.json?_facet_date=date", "_facet_date=date"),
        ("/drugbeleid/events?_facet_date=date", "_facet_date=date"),
        ("/drugbeleid/events?_facet_date=end_date&_lang=en", "_facet_date=end_date"),
        ("/drugbeleid/caseload.json?_facet_date=year", "_facet_date=year"),
    ],
)
async def test_an_unusable_parameter_is_named_in_every_format(datasette, url, parameter):
    response = await datasette.client.get(url)
    assert response.status_code == 400
    assert f"Invalid parameter {parameter}:" in response.text
    html = "." not in url.split("?")[0].rsplit("/", 1)[1]
    assert response.headers["content-type"].startswith("text/html" if html else "application/json")


async def test_csv_ignores_facets_and_a_negative_huge_value_is_text(datasette):
    """No 5xx either: CSV computes no facets, and Datasette compares a value that is not its idea
    of a number (a leading minus) as text."""
    response = await datasette.client.get("/drugbeleid/caseload.csv?_facet=%7B%7D")
    assert response.status_code == 200 and response.text.startswith("justice_house_id,")
    response = await datasette.client.get("/drugbeleid/caseload.json?dossiers__lte=-99999999999999999999999")
    assert response.status_code == 200


async def test_a_date_facet_shows_only_dates_the_data_has(datasette, built):
    import sqlite3

    gazette = (
        sqlite3.connect(built)
        .execute(
            "select gazette_date, count(*) from legal_references where gazette_date is not null group by 1 order by 1"
        )
        .fetchall()
    )
    response = await datasette.client.get("/drugbeleid/legal_references.json?_facet_date=gazette_date")
    assert response.status_code == 200
    facet = response.json()["facet_results"]["gazette_date"]["results"]
    assert sorted((r["value"], r["count"]) for r in facet) == gazette
    years_and_months = await datasette.client.get("/drugbeleid/events.json?_facet_date=date")
    assert years_and_months.status_code == 400 and "-4707" not in years_and_months.text
    assert "such as '" in years_and_months.json()["error"]
    assert (
        await datasette.client.get("/drugbeleid/events.csv?_facet_date=date")
    ).status_code == 200  # CSV has no facets


async def test_a_good_facet_in_json_form_still_works(datasette):
    response = await datasette.client.get('/drugbeleid/caseload.json?_facet={"simple": "year"}')
    assert response.status_code == 200 and "year" in response.json()["facet_results"]


@pytest.mark.parametrize("method", ["TRACE", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "path", ["/drugbeleid/caseload.json", "/drugbeleid/caseload_by_year.json", "/drugbeleid", "/openapi.json"]
)
async def test_methods_other_than_reading_are_405_with_allow(datasette, method, path):
    response = await datasette.client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["ok"] is False


# ------------------------------------------------------------- schemathesis against a live server


@pytest.fixture(scope="module")
def live_server(built):
    """`make serve`'s command (the app production runs, serve/app.py, with its settings) on the freshly
    built database, on a free port; stopped by its process group."""
    process, base = start_worker(
        {**SUBPROCESS_ENV, "DRUGBELEID_DB": str(built)}, probe="/openapi.json", python=str(VENV_BIN / "python")
    )
    try:
        yield base
    finally:
        stop(process, seconds=10)


# The operations in two halves, each run by a schemathesis process of its own at the same time: its
# test cases are generated in Python (threads share one core), so two processes use both cores.
# Each operation is in exactly one half, with the same seed, examples, phases and checks.
OPENAPI_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
SCHEMATHESIS_HALVES = [["--include-path-regex", r"\.json$"], ["--exclude-path-regex", r"\.json$"]]


def test_schemathesis_finds_no_server_error_and_no_nonconformance(live_server, tmp_path):
    env = schemathesis_cli.environment()
    runs = []
    deadline = time.monotonic() + 400
    try:
        for half, selection in enumerate(SCHEMATHESIS_HALVES, start=1):
            report_path, log_path = tmp_path / f"schemathesis-{half}.json", tmp_path / f"schemathesis-{half}.log"
            with open(log_path, "w", encoding="utf-8") as log:  # a file: a pipe nobody reads would block it
                command = schemathesis_cli.command(
                    f"{live_server}/openapi.json",
                    report_path,
                    seed=SCHEMATHESIS_SEED,
                    max_examples=SCHEMATHESIS_EXAMPLES,
                    phases="examples,fuzzing",
                    workers=2,
                )
                process = subprocess.Popen(
                    [*command, *selection],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    text=True,
                    env=env,
                    cwd=tmp_path,
                )
            runs.append((process, report_path, log_path))
        for process, _, _ in runs:
            process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        for process, _, _ in runs:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    with urllib.request.urlopen(f"{live_server}/openapi.json", timeout=30) as response:
        paths = json.load(response)["paths"].values()
    described = [method for item in paths for method in item if method in OPENAPI_METHODS]
    selected = 0
    for half, (process, report_path, log_path) in enumerate(runs, start=1):
        output = log_path.read_text(encoding="utf-8", errors="replace")
        report = json.loads(report_path.read_text(encoding="utf-8"))
        totals = {
            "operations": report["operations"]["tested"],
            "test_cases": report["test_cases"]["generated"],
            "failures": report["test_cases"]["with_failures"],
            "errors": len(report["errors"]),
            "seconds": round(report["running_time"]),
        }
        print(f"\nschemathesis {report['schemathesis_version']} seed {SCHEMATHESIS_SEED} half {half}: {totals}")
        if (ROOT / "build").is_dir():
            shutil.copy(report_path, ROOT / "build" / report_path.name)
        assert totals["operations"] == report["operations"]["selected"] > 0
        assert report["failures"] == [] and totals["failures"] == 0 and totals["errors"] == 0, output[-6000:]
        assert process.returncode == 0, output[-6000:]
        selected += report["operations"]["selected"]
    # the halves together are every operation of the description, each once
    assert selected == len(described), f"{selected} operations tested, {len(described)} described"
