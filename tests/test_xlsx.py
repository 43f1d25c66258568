"""Excel downloads (.xlsx), read back with openpyxl: every value equals the JSON's, typed from the
Table Schemas, a second sheet about the data in the page's language, the same bytes for the same
URL, and visitor SQL under the same limits as its CSV."""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from urllib.parse import urlencode

import pytest
from openpyxl import load_workbook

from serve import shared
from tests.conftest import SETTINGS
from tests.test_findability import allowed, robots_rules

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def get_xlsx(datasette, path: str):
    response = await datasette.client.get(path)
    assert response.status_code == 200, (path, response.text[:300])
    assert response.headers["content-type"] == XLSX
    return response, load_workbook(io.BytesIO(response.content))


async def json_rows(datasette, path: str) -> list[dict]:
    separator = "&" if "?" in path else "?"
    response = await datasette.client.get(f"{path}{separator}_shape=array&_size=max")
    assert response.status_code == 200, response.text[:300]
    return response.json()


def same_value(cell, expected) -> bool:
    """A cell read by openpyxl against the JSON's value: empty for null, a date for an ISO date."""
    if isinstance(cell, datetime.datetime):
        return cell.date().isoformat() == expected
    if expected is None:
        return cell is None
    return cell == expected and (isinstance(cell, str) == isinstance(expected, str))


def assert_sheet_equals_json(sheet, rows: list[dict], where: str):
    values = list(sheet.iter_rows(values_only=True))
    header = list(values[0])
    assert rows, where
    assert header == list(rows[0]), where
    assert len(values) - 1 == len(rows), where
    for number, (cells, row) in enumerate(zip(values[1:], rows), start=2):
        for column, cell in zip(header, cells):
            assert same_value(cell, row[column]), f"{where} row {number} {column}: {cell!r} != {row[column]!r}"


async def table_names(datasette) -> list[str]:
    db = datasette.get_database(shared.DATABASE)
    hidden = set(await db.hidden_table_names())
    return [t for t in await db.table_names() if t not in hidden]


async def test_every_table_whole_with_every_value_equal_to_the_json(datasette):
    db = datasette.get_database(shared.DATABASE)
    longer_than_a_page = 0
    for table in await table_names(datasette):
        _, book = await get_xlsx(datasette, f"/drugbeleid/{table}.xlsx")
        count = (await db.execute(f"select count(*) from [{table}]")).single_value()
        assert book.worksheets[0].max_row - 1 == count, table  # whole, not one page
        longer_than_a_page += count > SETTINGS["default_page_size"]
        assert_sheet_equals_json(book.worksheets[0], await json_rows(datasette, f"/drugbeleid/{table}.json"), table)
    assert longer_than_a_page, "no table longer than a page was tried"


async def test_cells_are_typed_from_the_table_schemas(datasette):
    _, book = await get_xlsx(datasette, "/drugbeleid/staffing.xlsx")
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    package = shared.published_package(datasette)
    fields = {
        f["name"]: f["type"] for r in package["resources"] if r["name"] == "staffing" for f in r["schema"]["fields"]
    }
    json_by_row = await json_rows(datasette, "/drugbeleid/staffing.json")
    seen = set()
    for cells, row in zip(sheet.iter_rows(min_row=2), json_by_row):
        for column, cell in zip(header, cells):
            if row[column] is None:
                assert cell.value is None and cell.data_type == "n"  # NULL is an empty cell
                continue
            kind = fields[column]
            seen.add(kind)
            if kind == "date":
                assert cell.is_date and cell.value.date().isoformat() == row[column]
            elif kind in ("integer", "number"):
                assert cell.data_type == "n" and cell.value == row[column]
            else:
                assert cell.data_type == "s"
    assert {"date", "number", "string"} <= seen, seen
    _, book = await get_xlsx(datasette, "/drugbeleid/caseload.xlsx")
    assert {type(v) for v in next(book.worksheets[0].iter_cols(min_col=4, max_col=4, min_row=2, values_only=True))} == {
        bool
    }


async def test_every_canned_query_and_example_question(datasette):
    queries = await datasette.get_canned_queries(shared.DATABASE, None)
    examples = shared.plugin_config(datasette).get("examples", [])
    assert set(examples) <= set(queries)
    for name in queries:
        _, book = await get_xlsx(datasette, f"/drugbeleid/{name}.xlsx")
        rows = await json_rows(datasette, f"/drugbeleid/{name}.json")
        if rows:
            assert_sheet_equals_json(book.worksheets[0], rows, name)


async def test_visitor_sql_values_stay_what_they_are(datasette):
    sql = "select 1 as a, '=1+2' as formula, null as empty, reference_date, fte from staffing order by fte limit 3"
    _, book = await get_xlsx(datasette, "/drugbeleid.xlsx?" + urlencode({"sql": sql}))
    sheet = book.worksheets[0]
    assert sheet["B2"].value == "=1+2" and sheet["B2"].data_type == "s"  # text, never a formula
    assert_sheet_equals_json(sheet, await json_rows(datasette, "/drugbeleid.json?" + urlencode({"sql": sql})), sql)
    assert sheet["D2"].is_date  # reference_date is a date in the schemas, also in a visitor's query


async def test_second_sheet_describes_the_data_in_the_pages_language(datasette):
    release = shared.current_release(datasette)
    for lang, title, labels in (
        ("nl", "Dossiers per justitiehuis en jaar (Tabel 1)", ["Titel", "Beschrijving", "Licentie", "Bron"]),
        ("en", "Dossiers per justice house and year (Tabel 1)", ["Title", "Description", "Licence", "Source"]),
    ):
        path = "/drugbeleid/caseload.xlsx" + ("?_lang=en" if lang == "en" else "")
        _, book = await get_xlsx(datasette, path)
        assert len(book.worksheets) == 2
        about = dict(book.worksheets[1].iter_rows(values_only=True))
        assert list(about)[:4] == labels
        assert about[labels[0]] == title
        assert "CC BY 4.0" in about[labels[2]]
        assert release["version"] in about.values() and release["semver"] in about.values()
        assert any(isinstance(v, str) and v.startswith("http") and v.endswith(path) for v in about.values())
    _, book = await get_xlsx(datasette, "/drugbeleid/caseload_by_year.xlsx?_lang=en")
    about = dict(book.worksheets[1].iter_rows(values_only=True))
    assert about["Title"] == "Dossiers per year: sum, printed total and number of justice houses"


async def test_the_same_url_gives_the_same_bytes(datasette):
    release = shared.current_release(datasette)
    moment = datetime.datetime.fromisoformat(release["date"])
    for path in ("/drugbeleid/caseload.xlsx", "/drugbeleid.xlsx?sql=select+1"):
        first, book = await get_xlsx(datasette, path)
        second, _ = await get_xlsx(datasette, path)
        assert first.content == second.content
        assert book.properties.created == book.properties.modified == moment
        assert book.properties.creator == shared.plugin_config(datasette)["publisher"]["name"]
        with zipfile.ZipFile(io.BytesIO(first.content)) as archive:
            assert {info.date_time for info in archive.infolist()} == {moment.timetuple()[:6]}


@pytest.mark.parametrize(
    "sql",
    [
        "select nonsense",
        "select printf('%.*c', 2147483647, 'x')",  # the printf bound
        "with recursive c(x) as (select 1 union all select x+1 from c) select count(*) from c",  # the time limit
    ],
)
async def test_visitor_sql_is_refused_as_a_json_400_under_the_same_limits(datasette, sql):
    as_xlsx = await datasette.client.get("/drugbeleid.xlsx?" + urlencode({"sql": sql}))
    assert as_xlsx.status_code == 400
    assert as_xlsx.headers["content-type"].startswith("application/json")
    assert as_xlsx.json()["error"]


async def test_visitor_sql_rows_are_capped_as_in_its_csv(datasette):
    query = urlencode(
        {"sql": "with recursive c(x) as (select 1 union all select x+1 from c limit 5000) select x from c"}
    )
    as_csv = await datasette.client.get(f"/drugbeleid.csv?{query}")
    _, book = await get_xlsx(datasette, f"/drugbeleid.xlsx?{query}")
    csv_rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert len(csv_rows) == book.worksheets[0].max_row == SETTINGS["max_returned_rows"] + 1


async def test_xlsx_is_offered_next_to_json_and_csv(datasette):
    page = (await datasette.client.get("/drugbeleid/caseload")).text
    assert 'href="/drugbeleid/caseload.xlsx' in page


async def test_robots_treats_visitor_sql_as_xlsx_like_csv(datasette):
    rules = robots_rules((await datasette.client.get("/robots.txt")).text)
    assert not allowed(rules, "/drugbeleid.xlsx?sql=select+1")
    assert not allowed(rules, "/drugbeleid.csv?sql=select+1")
    assert allowed(rules, "/drugbeleid/caseload.xlsx")


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_every_example_question_offers_its_rows_as_excel(datasette, lang):
    page = (await datasette.client.get("/examples" + ("?_lang=en" if lang == "en" else ""))).text
    links = [link.replace("&amp;", "&") for link in re.findall(r'<a class="xlsx" href="([^"]+)"', page)]
    assert links and len(links) == page.count('<article class="example-query"')
    for link in links:
        _, book = await get_xlsx(datasette, link)
        json_link = link.replace(".xlsx", ".json", 1)
        rows = await json_rows(datasette, json_link)
        if rows:
            assert_sheet_equals_json(book.worksheets[0], rows, link)
