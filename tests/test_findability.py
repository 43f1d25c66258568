"""Findability: /robots.txt, /sitemap.xml with hreflang alternates, and schema.org JSON-LD (a
DataCatalog on the home page, a Dataset on every table page) with what dataset search asks for."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from urllib.parse import urlsplit

import pytest

from serve import shared

from .conftest import TABLES

SCRIPT = '<script type="application/ld+json">'
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
BASE = "http://localhost"
# What dataset search engines require and recommend of a schema.org Dataset (the list).
DATASET_PROPERTIES = ["name", "description", "license", "creator", "distribution", "temporalCoverage",
                      "spatialCoverage", "isAccessibleForFree", "version", "dateModified"]


def robots_rules(text: str) -> list[tuple[str, str]]:
    return [(field.lower(), value.strip()) for field, value in
            (line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#"))
            if field.lower() in ("allow", "disallow")]


def allowed(rules, path: str) -> bool:
    """Google's reading of robots.txt: the longest matching rule wins, `*` matches anything, and
    Allow wins a tie."""
    def matches(pattern):
        return re.match(re.escape(pattern).replace(r"\*", ".*").replace(r"\$", "$"), path) is not None
    best = max(((len(p), kind == "allow") for kind, p in rules if matches(p)), default=(0, True))
    return best[1]


async def test_robots_allows_crawling_except_ad_hoc_sql_and_names_the_sitemap(datasette):
    response = await datasette.client.get("/robots.txt")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    rules = robots_rules(response.text)
    assert f"Sitemap: {BASE}/sitemap.xml" in response.text.splitlines()
    for path in ["/", "/?_lang=en", "/drugbeleid", "/drugbeleid/caseload", "/drugbeleid/caseload.json?year=2020",
                 "/drugbeleid/caseload/antwerpen,2016", "/drugbeleid/caseload_by_year", "/documents/vraag-69-2022",
                 "/sitemap.xml", "/catalog.ttl", "/-/dashboards/drugbeleid", "/examples"]:
        assert allowed(rules, path), path
    for path in ["/drugbeleid?sql=select+1", "/drugbeleid?_lang=en&sql=select+1", "/drugbeleid.json?sql=select+1",
                 "/drugbeleid.csv?sql=select+1&_dl=1", "/drugbeleid/caseload?_where=year>2000"]:
        assert not allowed(rules, path), path


@pytest.fixture
async def sitemap(datasette):
    response = await datasette.client.get("/sitemap.xml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    entries = {}
    for url in root.findall("s:url", NS):
        alternates = {link.get("hreflang"): link.get("href") for link in url.findall("x:link", NS)}
        entries[url.find("s:loc", NS).text] = alternates
    return entries


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def test_sitemap_lists_every_page_in_both_languages_with_hreflang(datasette, sitemap, built):
    pages = {path_of(url) for url, alternates in sitemap.items() if alternates}
    assert all(BASE + shared.with_language(p, "en") in sitemap for p in pages)  # the English version listed too
    for url, alternates in sitemap.items():
        if alternates:
            assert set(alternates) == {"nl", "en", "x-default"}, url
            assert url in (alternates["nl"], alternates["en"]) and alternates["x-default"] == alternates["nl"]
            assert alternates["en"] == BASE + shared.with_language(path_of(alternates["nl"]), "en")
    dutch = {p for p in pages if "_lang=en" not in p}
    tables = [t["name"] for t in (await datasette.client.get("/drugbeleid.json")).json()["tables"] if not t["hidden"]]
    assert set(TABLES) <= set(tables)
    for table in tables:
        assert f"/drugbeleid/{table}" in dutch, table
        count = (await datasette.client.get(f"/drugbeleid/{table}.json?_size=0")).json()["filtered_table_rows_count"]
        rows = [p for p in dutch if p.startswith(f"/drugbeleid/{table}/")]
        assert len(rows) == count, table
    documents = (await datasette.client.get("/drugbeleid/documents.json?_shape=array")).json()
    assert {f"/documents/{d['id']}" for d in documents} | {"/documents", "/", "/examples", "/drugbeleid"} <= dutch
    metadata = json.loads((built.parent / "metadata.json").read_text(encoding="utf-8"))
    charts = metadata["plugins"]["datasette-dashboards"]["drugbeleid"]["charts"]
    assert {"/-/dashboards/drugbeleid"} | {f"/-/dashboards/drugbeleid/{c}" for c in charts} <= dutch
    examples = metadata["plugins"]["drugbeleid"]["examples"]
    assert {f"/drugbeleid/{q}" for q in examples} | {f"/drugbeleid/{q}" for q in metadata["databases"]["drugbeleid"]["queries"]} <= dutch
    assert "/releases/" in dutch  # the listing page of every release
    versions = shared.release_versions(built.parent)
    assert versions and {f"/releases/{v}/" for v in versions} <= dutch
    assert {f"{BASE}/releases/{v}/datapackage.json" for v in versions} <= set(sitemap)


async def test_pages_in_the_sitemap_answer(datasette, sitemap):
    """Every page but the rows (one row per table stands for its table) answers 200, in both languages."""
    checked = set()
    for url in sitemap:
        path = path_of(url)
        table_row = re.match(r"^/drugbeleid/([a-z_]+)/", path)
        if table_row and table_row.group(1) in checked:
            continue
        if table_row:
            checked.add(table_row.group(1))
        response = await datasette.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    assert checked >= set(TABLES)


def json_ld(page: str) -> dict:
    assert page.count(SCRIPT) == 1
    start = page.index(SCRIPT) + len(SCRIPT)
    return json.loads(page[start:page.index("</script>", start)])


async def test_home_page_carries_a_schema_org_data_catalog(datasette):
    release = (await datasette.client.get("/-/release.json")).json()
    for path in ["/", "/?_lang=en"]:
        catalogue = json_ld((await datasette.client.get(path)).text)
        assert catalogue["@type"] == "DataCatalog" and catalogue["url"] == BASE + "/"
        assert catalogue["name"] and catalogue["description"] and catalogue["license"].startswith("https://creativecommons.org/")
        assert catalogue["version"] == release["semver"] and catalogue["dateModified"] == release["date"]
        assert {d["url"] for d in catalogue["dataset"]} == {f"{BASE}/drugbeleid/{t}" for t in TABLES}
        assert all(d["@type"] == "Dataset" and d["name"] and d["description"] for d in catalogue["dataset"])


@pytest.mark.parametrize("table", TABLES)
async def test_every_table_page_carries_a_schema_org_dataset_with_what_dataset_search_asks(datasette, table):
    release = (await datasette.client.get("/-/release.json")).json()
    dataset = json_ld((await datasette.client.get(f"/drugbeleid/{table}")).text)
    assert dataset["@type"] == "Dataset"
    missing = [p for p in DATASET_PROPERTIES if dataset.get(p) in (None, "", [], {})]
    assert missing == [], missing
    assert 50 <= len(dataset["description"]) <= 5000  # the length dataset search accepts
    assert dataset["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert dataset["creator"]["@type"] == "Organization" and dataset["creator"]["name"]
    assert dataset["isAccessibleForFree"] is True
    assert dataset["version"] == release["semver"] and dataset["dateModified"] == release["date"]
    assert re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?/\d{4}(-\d{2}(-\d{2})?)?", dataset["temporalCoverage"])
    assert dataset["spatialCoverage"]["@type"] == "Place" and dataset["spatialCoverage"]["name"] == "Vlaanderen"
    for download in dataset["distribution"]:
        assert download["@type"] == "DataDownload" and download["encodingFormat"] and download["contentUrl"]
        response = await datasette.client.get(path_of(download["contentUrl"]))
        assert response.status_code == 200, download["contentUrl"]
        assert response.headers["content-type"].split(";")[0] in (download["encodingFormat"], "application/octet-stream")
