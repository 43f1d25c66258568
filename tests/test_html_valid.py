"""Valid HTML: the Nu Html Checker (vnu.jar, npm package vnu-jar pinned in tests/vnu/package-lock.json)
finds no error on any page type, in Dutch and in English.

Every page is fetched in process (Datasette's own client), saved to one folder, and checked by a
single run of vnu over the folder (one Java start, a few seconds), so the test stays fast. `make
test` installs vnu.jar (`npm ci` in tests/vnu); Java comes from the system (`.ci/run` installs
default-jre-headless when `java` is missing).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from urllib.parse import quote, unquote

import pytest

from serve import shared

from .conftest import ROOT

VNU = ROOT / "tests" / "vnu" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = shutil.which("java")
CONTROL = "control-with-a-duplicate-id.html"

# One URL per page type; the row pages of every table are added from the database.
PAGES = [
    "/",
    "/drugbeleid",
    "/drugbeleid/caseload",
    "/drugbeleid/caseload?year=2020",
    "/drugbeleid/caseload?_facet=justice_house_id",
    "/drugbeleid/caseload?_facet=year&_facet=year&_facet=justice_house_id",  # a facet repeated in the URL
    "/drugbeleid/caseload?_sort_desc=dossiers&_size=5",
    "/drugbeleid/statistics?_search=dossiers",
    "/drugbeleid/search_index?_size=3",
    "/drugbeleid/caseload_by_year",
    "/drugbeleid?sql=select+year%2C+dossiers+from+caseload+limit+3",
    "/drugbeleid?sql=select+nonsense",  # an SQL error shown on the query page
    "/drugbeleid/no_such_table",  # the 404 page
    "/documents",
    "/documents/vraag-69-2022",
    "/examples",
    "/search",
    "/search?q=dossiers",
    "/api",
    "/-/dashboards/drugbeleid",
    "/-/dashboards/drugbeleid/caseload",
    "/releases/",
    "/-/proxy-error/421",
    "/-/proxy-error/429",
    "/-/proxy-error/503",
]


def page_name(path: str) -> str:
    return quote(path, safe="")[:180] + ".html"


async def page_paths(datasette) -> list[str]:
    db = datasette.get_database(shared.DATABASE)
    paths = list(PAGES)
    hidden = set(await db.hidden_table_names())
    for table in await db.table_names():
        if table in hidden:
            continue
        first = (await datasette.client.get(f"/drugbeleid/{table}.json?_size=1&_shape=objects")).json()
        if first["rows"] and first["primary_keys"]:
            keys = ",".join(
                quote(str(first["rows"][0][k]).replace("~", "~7E").replace(",", "~2C"), safe="~")
                for k in first["primary_keys"]
            )
            paths.append(f"/drugbeleid/{table}/{keys}")
    # a row with several quotes from one passage (the same passage shown more than once)
    several = (
        await db.execute(
            "select table_name, row_key from quote_locations group by table_name, row_key, passage_id "
            "having count(*) > 1 order by table_name, row_key limit 1"
        )
    ).first()
    assert several, "no row quotes one passage several times: choose another row for this page type"
    keys = ",".join(quote(k.replace("~", "~7E"), safe="~") for k in several["row_key"].split(","))
    paths.append(f"/drugbeleid/{several['table_name']}/{keys}")
    versions = shared.release_versions(shared.releases_dir(datasette).parent)
    if versions:
        paths.append(f"/releases/{versions[0]}/")
    return paths


@pytest.fixture(scope="module")
def saved_pages(built, tmp_path_factory):
    """Every page type in both languages, as HTML files in one folder: {file name: path}."""
    import asyncio

    from .conftest import in_process

    folder = tmp_path_factory.mktemp("pages")
    datasette = in_process(built)

    async def fetch_all():
        saved = {}
        for path in await page_paths(datasette):
            for lang in shared.LANGUAGES:
                url = shared.with_language(path, lang)
                response = await datasette.client.get(url)
                assert response.headers["content-type"].startswith("text/html"), url
                assert response.status_code in (200, 400, 404, 421, 429, 503), (url, response.status_code)
                (folder / page_name(url)).write_bytes(response.content)
                saved[page_name(url)] = url
        return saved

    return folder, asyncio.run(fetch_all())


def test_every_page_type_in_both_languages_is_valid_html(saved_pages):
    assert JAVA, "Java is not installed: apt-get install default-jre-headless (.ci/run does)"
    assert VNU.is_file(), f"{VNU} is missing: make test installs it (npm ci in tests/vnu)"
    folder, saved = saved_pages
    # a page with a known error, so that a checker that read nothing cannot pass
    (folder / CONTROL).write_text(
        '<!DOCTYPE html><html lang="en"><head><title>x</title></head>'
        '<body><p id="a">1</p><p id="a">2</p></body></html>',
        encoding="utf-8",
    )
    # C1 only and the serial collector: a short run, a quarter of the CPU time of the defaults
    run = subprocess.run(
        [
            JAVA,
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Xss4m",
            "-jar",
            str(VNU),
            "--errors-only",
            "--format",
            "json",
            "--exit-zero-always",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    messages = json.loads(run.stderr or run.stdout)["messages"]
    errors = [
        f"{saved.get(unquote(m.get('url', '').rsplit('/', 1)[-1]), m.get('url'))}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m.get("type") == "error" or m.get("subType") == "fatal"
    ]
    control = [e for e in errors if CONTROL in e]
    assert len(control) == 1 and "Duplicate ID" in control[0], control
    errors = [e for e in errors if CONTROL not in e]
    assert len(saved) >= 2 * len(PAGES)
    assert errors == [], f"{len(errors)} errors in {len(saved)} pages:\n" + "\n".join(errors[:80])
