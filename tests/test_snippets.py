"""The code snippets of the pages, run against the live server (`make serve`): curl, Python with
pandas, R, JavaScript (Node) and DuckDB load exactly the rows the page's JSON gives."""

from __future__ import annotations

import csv
import datetime
import html
import json
import math
import os
import re
import shutil
import subprocess
import urllib.request
from urllib.parse import urlencode, urlsplit

import pytest

from .conftest import make_serve

# (page, the JSON that gives its rows): a whole table, a filtered table, a canned query (a feed),
# a visitor query; the example questions are read from /examples.
PAGES = [
    ("/drugbeleid/caseload", "/drugbeleid/caseload.json?_shape=array&_size=max"),
    (
        "/drugbeleid/staffing?justice_house_id=gent&_lang=en",
        "/drugbeleid/staffing.json?justice_house_id=gent&_shape=array&_size=max",
    ),
    ("/drugbeleid/caseload_by_year", "/drugbeleid/caseload_by_year.json?_shape=array"),
    ("/drugbeleid/events_feed", "/drugbeleid/events_feed.json?_shape=array"),
    (
        "/drugbeleid?"
        + urlencode({"sql": "select year, sum(dossiers) as total, null as empty from caseload group by year"}),
        "/drugbeleid.json?"
        + urlencode(
            {"sql": "select year, sum(dossiers) as total, null as empty from caseload group by year", "_shape": "array"}
        ),
    ),
]


@pytest.fixture(scope="module")
def live():
    with make_serve() as base:
        yield base


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def snippets_of(page: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for kind, code in re.findall(r'data-snippet="([^"]+)">(.*?)</code>', page, re.DOTALL):
        found.setdefault(kind, []).append(html.unescape(code))
    return found


def normal(value) -> str:
    """A cell as text, however it was read: from CSV text (curl), by pandas, R or DuckDB, or from the JSON."""
    if isinstance(value, datetime.datetime):  # DuckDB reads 2026-12-07T00:00:00Z as a timestamp
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool) or value in ("true", "false", "TRUE", "FALSE"):
        # the released CSV spells a boolean, SQLite stores 1 or 0, R writes its logicals in capitals
        return repr(float(value in (True, "true", "TRUE")))
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return str(value)


def assert_rows(rows: list[dict], expected: list[dict], where: str):
    """The same rows with the same columns and values (a whole table's released CSV is in key order,
    its page in the table's sort order)."""
    assert expected, where
    assert len(rows) == len(expected), where
    assert list(rows[0]) == list(expected[0]), where
    as_text = sorted(tuple(normal(row[c]) for c in expected[0]) for row in rows)
    assert as_text == sorted(tuple(normal(row[c]) for c in expected[0]) for row in expected), where


def run_curl(code: str, tmp_path) -> list[dict]:
    subprocess.run(["bash", "-c", code], cwd=tmp_path, check=True, timeout=60)
    [written] = list(tmp_path.glob("*.csv"))
    with open(written, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    written.unlink()
    return rows


def run_pandas(code: str) -> list[dict]:
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 (the snippet as a reader pastes it)
    return namespace["df"].to_dict("records")


def run_node(code: str, tmp_path) -> list[dict]:
    script = tmp_path / "snippet.mjs"
    out = tmp_path / "rows.json"
    script.write_text(
        code + '\nimport { writeFileSync } from "node:fs";\nwriteFileSync(process.env.OUT, JSON.stringify(rows));\n',
        encoding="utf-8",
    )
    subprocess.run(
        ["node", str(script)], check=True, timeout=60, capture_output=True, env={**os.environ, "OUT": str(out)}
    )
    return json.loads(out.read_text(encoding="utf-8"))


def run_r(code: str, tmp_path) -> list[dict]:
    """The R snippet in Rscript (Debian's r-base-core; .ci/run installs it); its data frame written
    back as CSV, empty for NA, to be read as the curl snippet's file is."""
    assert shutil.which("Rscript"), "R is not installed: apt-get install r-base-core (.ci/run does)"
    out = tmp_path / "from_r.csv"
    script = code + f'\nwrite.csv(df, "{out}", row.names = FALSE, na = "", fileEncoding = "UTF-8")\n'
    subprocess.run(["Rscript", "-e", script], check=True, timeout=60, capture_output=True)
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out.unlink()
    return rows


def run_duckdb(code: str, tmp_path) -> list[dict]:
    """The DuckDB snippet, statement by statement as shown. Its INSTALL httpfs finds the extension
    already installed from its PyPI package (duckdb-extension-httpfs), so nothing is downloaded."""
    import duckdb
    import duckdb_extensions

    connection = duckdb.connect()
    try:
        connection.execute(f"SET extension_directory = '{tmp_path / 'duckdb_extensions'}'")
        duckdb_extensions.import_extension("httpfs", con=connection)
        *statements, query = [statement for statement in code.split(";") if statement.strip()]
        for statement in statements:
            connection.execute(statement)
        cursor = connection.execute(query)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]
    finally:
        connection.close()


def check_snippets(snippets: dict[str, list[str]], expected: list[dict], tmp_path, where: str, index: int = 0):
    assert {"shell", "python", "r", "javascript", "sql"} <= set(snippets), where
    assert_rows(run_curl(snippets["shell"][index], tmp_path), expected, f"{where} curl")
    assert_rows(run_pandas(snippets["python"][index]), expected, f"{where} pandas")
    assert_rows(run_r(snippets["r"][index], tmp_path), expected, f"{where} R")
    assert run_node(snippets["javascript"][index], tmp_path) == expected, f"{where} node"
    assert_rows(run_duckdb(snippets["sql"][index], tmp_path), expected, f"{where} DuckDB")


@pytest.mark.parametrize("page, json_path", PAGES)
def test_snippets_of_a_page_load_its_rows(live, tmp_path, page, json_path):
    snippets = snippets_of(get(live + page).decode("utf-8"))
    expected = json.loads(get(live + json_path))
    check_snippets(snippets, expected, tmp_path, page)
    for code in [*snippets["shell"], *snippets["python"], *snippets["javascript"]]:
        assert re.search(r'"(http://[^"/]+)/', code).group(1) == live  # absolute, on this site


def test_a_whole_table_also_has_a_snippet_pinned_to_its_release(live, tmp_path):
    page = get(live + "/drugbeleid/caseload").decode("utf-8")
    snippets = snippets_of(page)
    version = json.loads(get(live + "/-/release.json"))["version"]
    assert f"/releases/{version}/data/caseload.csv" in snippets["pinned-shell"][0]
    assert f"/releases/{version}/data/caseload.csv" in snippets["pinned-python"][0]
    expected = json.loads(get(live + "/drugbeleid/caseload.json?_shape=array&_size=max"))
    assert_rows(run_curl(snippets["pinned-shell"][0], tmp_path), expected, "pinned curl")
    assert_rows(run_pandas(snippets["pinned-python"][0]), expected, "pinned pandas")


def test_every_example_question_has_snippets_that_load_its_rows(live, tmp_path):
    page = get(live + "/examples").decode("utf-8")
    articles = re.findall(r'<article class="example-query" id="([^"]+)".*?</article>', page, re.DOTALL)
    bodies = re.findall(r'<article class="example-query".*?</article>', page, re.DOTALL)
    assert articles and len(articles) == len(bodies)
    for name, body in zip(articles, bodies):
        snippets = snippets_of(body)
        json_url = re.search(r'fetch\("([^"]+)"\)', snippets["javascript"][0]).group(1)
        assert urlsplit(json_url).path == f"/drugbeleid/{name}.json"
        expected = json.loads(get(json_url))
        if not expected:
            continue
        check_snippets(snippets, expected, tmp_path, name)
