"""Findability: /robots.txt, /sitemap.xml with hreflang alternates, and schema.org JSON-LD (a
DataCatalog on the home page, a Dataset on every table page) with what dataset search asks for."""

from __future__ import annotations

import asyncio
import html
import json
import re
import secrets
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from urllib.parse import urlsplit

import pytest

from serve import shared

from .conftest import ROOT, SUBPROCESS_ENV, TABLES, built_metadata, in_process

SCRIPT = '<script type="application/ld+json">'
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
BASE = "http://localhost"
# Tables whose rows are not pages for people: internal (the search index, the quotes' places), shown
# by the document pages (passages), or read as a whole table (data_quality).
INTERNAL_ROWS = {"search_index", "quote_locations", "passages", "data_quality"}
# What dataset search engines require and recommend of a schema.org Dataset (the list).
DATASET_PROPERTIES = [
    "name",
    "description",
    "license",
    "creator",
    "distribution",
    "temporalCoverage",
    "spatialCoverage",
    "isAccessibleForFree",
    "version",
    "dateModified",
]


def robots_rules(text: str) -> list[tuple[str, str]]:
    return [
        (field.lower(), value.strip())
        for field, value in (
            line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#")
        )
        if field.lower() in ("allow", "disallow")
    ]


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
    for path in [
        "/",
        "/?_lang=en",
        "/drugbeleid",
        "/drugbeleid/caseload",
        "/drugbeleid/caseload.json?year=2020",
        "/drugbeleid/caseload/antwerpen,2016",
        "/drugbeleid/caseload_by_year",
        "/documents/vraag-69-2022",
        "/sitemap.xml",
        "/catalog.ttl",
        "/-/dashboards/drugbeleid",
        "/examples",
    ]:
        assert allowed(rules, path), path
    for path in [
        "/drugbeleid?sql=select+1",
        "/drugbeleid?_lang=en&sql=select+1",
        "/drugbeleid.json?sql=select+1",
        "/drugbeleid.csv?sql=select+1&_dl=1",
        "/drugbeleid/caseload?_where=year>2000",
    ]:
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
        # the rows of the content tables are pages for people; internal tables' rows are not
        assert len(rows) == (0 if table in INTERNAL_ROWS else count), table
        assert count > 0, table
    documents = (await datasette.client.get("/drugbeleid/documents.json?_shape=array")).json()
    assert {f"/documents/{d['id']}" for d in documents} | {"/documents", "/", "/examples", "/drugbeleid"} <= dutch
    metadata = json.loads((built.parent / "metadata.json").read_text(encoding="utf-8"))
    charts = metadata["plugins"]["datasette-dashboards"]["drugbeleid"]["charts"]
    assert {"/-/dashboards/drugbeleid"} | {f"/-/dashboards/drugbeleid/{c}" for c in charts} <= dutch
    examples = metadata["plugins"]["drugbeleid"]["examples"]
    assert {f"/drugbeleid/{q}" for q in examples} | {
        f"/drugbeleid/{q}" for q in metadata["databases"]["drugbeleid"]["queries"]
    } <= dutch
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
    assert checked >= set(TABLES) - INTERNAL_ROWS


def assert_tagged_in_both_languages(values: list[dict]) -> None:
    """A text as JSON-LD value objects: one per language, Dutch and English, never two in one string."""
    assert [v["@language"] for v in values] == ["nl", "en"], values
    assert all(v["@value"].strip() and " — EN: " not in v["@value"] for v in values), values
    assert values[0]["@value"] != values[1]["@value"], values


def json_ld(page: str) -> dict:
    assert page.count(SCRIPT) == 1
    start = page.index(SCRIPT) + len(SCRIPT)
    return json.loads(page[start : page.index("</script>", start)])


async def test_home_page_carries_a_schema_org_data_catalog(datasette):
    release = (await datasette.client.get("/-/release.json")).json()
    for path in ["/", "/?_lang=en"]:
        catalogue = json_ld((await datasette.client.get(path)).text)
        assert catalogue["@type"] == "DataCatalog" and catalogue["url"] == BASE + "/"
        assert catalogue["license"].startswith("https://creativecommons.org/")
        assert_tagged_in_both_languages(catalogue["name"])
        assert_tagged_in_both_languages(catalogue["description"])
        assert catalogue["version"] == release["semver"] and catalogue["dateModified"] == release["date"]
        assert {d["url"] for d in catalogue["dataset"]} == {f"{BASE}/drugbeleid/{t}" for t in TABLES}
        assert all(d["@type"] == "Dataset" for d in catalogue["dataset"])
        for dataset in catalogue["dataset"]:
            assert_tagged_in_both_languages(dataset["name"])
            assert_tagged_in_both_languages(dataset["description"])


@pytest.mark.parametrize("table", TABLES)
async def test_every_table_page_carries_a_schema_org_dataset_with_what_dataset_search_asks(datasette, table):
    release = (await datasette.client.get("/-/release.json")).json()
    dataset = json_ld((await datasette.client.get(f"/drugbeleid/{table}")).text)
    assert dataset["@type"] == "Dataset"
    missing = [p for p in DATASET_PROPERTIES if dataset.get(p) in (None, "", [], {})]
    assert missing == [], missing
    assert_tagged_in_both_languages(dataset["name"])
    assert_tagged_in_both_languages(dataset["description"])
    assert all(50 <= len(d["@value"]) <= 5000 for d in dataset["description"])  # the length dataset search accepts
    for variable in dataset["variableMeasured"]:
        assert_tagged_in_both_languages(variable["description"])
    assert {k["@language"] for k in dataset["keywords"]} == {"nl", "en"}
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
        assert response.headers["content-type"].split(";")[0] in (
            download["encodingFormat"],
            "application/octet-stream",
        )


# --- one public base URL, whatever the Host header ------------------------------------------------

HOST_INDEPENDENT = ["/catalog.ttl", "/catalog.jsonld", "/sitemap.xml", "/-/mqa.json", "/robots.txt"]


def random_hosts(count: int) -> list[str]:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return [
        f"{''.join(secrets.choice(alphabet) for _ in range(12))}.example:{1024 + secrets.randbelow(60000)}"
        for _ in range(count)
    ]


async def test_catalogue_score_and_sitemap_are_the_same_for_every_host(datasette):
    """Computed once per release for the public base URL: a burst of requests with new Host headers,
    all at once, gets the same bytes as a request with none, and no Host appears in them."""
    hosts = random_hosts(6)
    for path in HOST_INDEPENDENT:
        expected = (await datasette.client.get(path)).content
        answers = await asyncio.gather(*(datasette.client.get(path, headers={"host": host}) for host in hosts))
        for host, answer in zip(hosts, answers):
            assert answer.status_code == 200, (path, host)
            assert answer.content == expected, (path, host)
            assert host.split(":")[0].encode() not in answer.content, (path, host)


PUBLIC = "https://data.example.org/"


@pytest.fixture
def configured(built):
    """The site with a configured public base URL, as the app factory sets it from PUBLIC_BASE_URL."""
    metadata = built_metadata(built)
    metadata["plugins"]["drugbeleid"]["public_base_url"] = PUBLIC.rstrip("/")  # the "/" is added
    return in_process(built, metadata=metadata)


async def test_every_absolute_url_starts_with_the_configured_public_base_url(configured):
    host = {"host": random_hosts(1)[0]}
    robots = (await configured.client.get("/robots.txt", headers=host)).text
    assert f"Sitemap: {PUBLIC}sitemap.xml" in robots.splitlines()
    sitemap = ElementTree.fromstring((await configured.client.get("/sitemap.xml", headers=host)).content)
    urls = [loc.text for loc in sitemap.iter(f"{{{NS['s']}}}loc")] + [
        link.get("href") for link in sitemap.iter(f"{{{NS['x']}}}link")
    ]
    assert urls and all(url.startswith(PUBLIC) for url in urls)
    turtle = (await configured.client.get("/catalog.ttl", headers=host)).text
    assert f"<{PUBLIC}#catalog>" in turtle and "http://localhost" not in turtle
    page = (await configured.client.get("/drugbeleid/caseload?_lang=en", headers=host)).text
    assert json_ld(page)["url"] == f"{PUBLIC}drugbeleid/caseload"
    assert alternates_in(page) == {
        "nl": f"{PUBLIC}drugbeleid/caseload",
        "en": f"{PUBLIC}drugbeleid/caseload?_lang=en",
        "x-default": f"{PUBLIC}drugbeleid/caseload",
    }
    package = (await configured.client.get("/datapackage.json", headers=host)).json()
    assert all(resource["path"].startswith(PUBLIC) for resource in package["resources"])
    assert [source["path"] for source in package["sources"]] == [f"{PUBLIC}documents"]  # the documents page
    openapi = (await configured.client.get("/openapi.json", headers=host)).json()
    assert openapi["externalDocs"]["url"] == f"{PUBLIC}documents"
    score = await configured.client.get("/-/mqa.json", headers=host)
    assert score.status_code == 200 and host["host"] not in score.text


@pytest.mark.parametrize(
    "value", ["data.example.org", "ftp://data.example.org/", "https://data.example.org/?a=1", "https://"]
)
def test_a_public_base_url_that_is_not_one_is_refused_by_name(value):
    with pytest.raises(ValueError, match=r"PUBLIC_BASE_URL: .* is not a base URL"):
        shared.checked_base_url(value, "PUBLIC_BASE_URL")


# --- every page's hreflang alternates and description --------------------------------------------


def alternates_in(page: str) -> dict[str, str]:
    head = page[: page.index("</head>")]
    return {
        lang: html.unescape(href)
        for lang, href in re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', head)
    }


def meta_description(page: str) -> str | None:
    found = re.findall(r'<meta name="description" content="([^"]*)">', page[: page.index("</head>")])
    assert len(found) <= 1
    return html.unescape(found[0]) if found else None


PAGE_TYPES = [
    "/",
    "/drugbeleid",
    "/drugbeleid/caseload",
    "/drugbeleid/caseload?year=2020&_facet=justice_house_id",
    "/drugbeleid/documents/vraag-69-2022",
    "/drugbeleid/caseload_by_year",
    "/documents",
    "/documents/vraag-69-2022",
    "/examples",
    "/search?q=drugs",
    "/api",
    "/-/dashboards/drugbeleid",
    "/-/dashboards/drugbeleid/caseload",
    "/releases/",
    "/drugbeleid?sql=select+1",
]


@pytest.mark.parametrize("path", PAGE_TYPES)
async def test_every_page_has_absolute_alternates_and_a_description_in_its_language(datasette, path):
    descriptions = {}
    for lang in shared.LANGUAGES:
        response = await datasette.client.get(shared.with_language(path, lang))
        assert response.status_code == 200, (path, lang)
        alternates = alternates_in(response.text)
        assert set(alternates) == {"nl", "en", "x-default"}, (path, alternates)
        assert all(href.startswith(BASE + "/") for href in alternates.values())
        assert alternates["x-default"] == alternates["nl"] == BASE + shared.with_language(path, "nl")
        assert alternates["en"] == BASE + shared.with_language(path, "en")
        descriptions[lang] = meta_description(response.text)
        assert descriptions[lang] and len(descriptions[lang]) <= 310, (path, lang, descriptions[lang])
    assert descriptions["nl"] != descriptions["en"], path


async def test_a_table_pages_description_is_its_tables_in_the_pages_language(datasette):
    package = shared.published_package(datasette)
    resource = next(r for r in package["resources"] if r["name"] == "caseload")
    for lang, key in (("nl", "description_nl"), ("en", "description")):
        page = (await datasette.client.get(shared.with_language("/drugbeleid/caseload", lang))).text
        description = meta_description(page)
        assert description and " ".join(resource[key].split()).startswith(description.removesuffix(" …")), (
            lang,
            description,
        )


async def test_the_app_factory_takes_the_public_base_url_from_the_environment(built):
    from serve.app import create_datasette

    datasette = create_datasette(built, public_base_url="https://data.example.org")
    robots = (await datasette.client.get("/robots.txt", headers={"host": random_hosts(1)[0]})).text
    assert "Sitemap: https://data.example.org/sitemap.xml" in robots.splitlines()
    page = (await datasette.client.get("/drugbeleid/caseload/antwerpen,2022")).text
    assert 'href="https://data.example.org/documents"' in page  # the data's source: the documents page


def test_a_worker_with_a_wrong_public_base_url_stops_with_a_message_naming_it(built):
    run = subprocess.run(
        [sys.executable, "-c", "from serve.app import create_app; create_app()"],
        cwd=ROOT,
        env={**SUBPROCESS_ENV, "DRUGBELEID_DB": str(built), "PUBLIC_BASE_URL": "data.example.org"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert (
        "Error: PUBLIC_BASE_URL: 'data.example.org' is not a base URL" in run.stderr and "Traceback" not in run.stderr
    )
