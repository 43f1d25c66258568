"""A value is shown as stored: on the Dutch and the English page, every text cell shows exactly the
characters the JSON gives, whatever words the value holds (Datasette's own, in either language, or
"x — EN: y"); numbers show the same value, written for the page; a coded value's label stands
beside its code, never in its place."""

from __future__ import annotations

import json
import math
import re
from urllib.parse import urlencode

import pytest

from .conftest import DATASETS, PACKAGE
from .pages import parse

# Words Datasette's pages and our catalogue use, in both languages, and a string that looks like
# an old "nl — EN: en" description.
WORDS = [
    "20 rows",
    "1 row",
    "Next page",
    "Volgende pagina",
    "x — EN: y",
    "Apply",
    "Toepassen",
    "Custom SQL query",
    "Eigen SQL-query",
    "rows",
    "Many rows",
    "sorted by year",
    "where a = 1",
]


def raw_text(element) -> str:
    """The characters of an element as the browser has them (entities decoded, nothing normalised)."""
    return "".join(c if isinstance(c, str) else raw_text(c) for c in element.children)


def language_paths(path: str) -> list[str]:
    return [path, path + ("&" if "?" in path else "?") + "_lang=en"]


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_visitor_sql_returning_datasettes_words_shows_them_as_stored(datasette, lang):
    columns = [f"c{i}" for i in range(len(WORDS))]
    sql = "select " + ", ".join(f"'{word}' as {column}" for word, column in zip(WORDS, columns))
    path = "/drugbeleid?" + urlencode({"sql": sql}) + ("&_lang=en" if lang == "en" else "")
    response = await datasette.client.get(path)
    assert response.status_code == 200
    cells = {
        td.attrs["class"].removeprefix("col-"): raw_text(td)
        for td in parse(response.text).find("table", cls="rows-and-columns").find_all("td")
    }
    assert cells == dict(zip(columns, WORDS))
    data = (await datasette.client.get("/drugbeleid.json?" + urlencode({"sql": sql, "_shape": "objects"}))).json()
    assert data["rows"] == [dict(zip(columns, WORDS))]


def schema_of(resource: dict) -> dict:
    schema = resource["schema"]
    return json.loads((DATASETS / schema).read_text(encoding="utf-8")) if isinstance(schema, str) else schema


def authored_text_columns(resource: dict) -> list[str]:
    """The texts of a table that we or the sources wrote: string columns that are not codes or keys."""
    schema = schema_of(resource)
    fields = schema["fields"]
    keys = set([schema["primaryKey"]] if isinstance(schema.get("primaryKey"), str) else schema.get("primaryKey") or [])
    foreign = {
        fk["fields"] if isinstance(fk["fields"], str) else fk["fields"][0] for fk in schema.get("foreignKeys", [])
    }
    return [
        f["name"]
        for f in fields
        if f["type"] == "string" and f["name"] not in keys | foreign and not f.get("constraints", {}).get("enum")
    ]


CONTENT_TABLES = [r for r in PACKAGE["resources"] if authored_text_columns(r)]


@pytest.mark.parametrize("resource", CONTENT_TABLES, ids=[r["name"] for r in CONTENT_TABLES])
async def test_every_authored_text_is_shown_as_stored_in_both_languages(datasette, resource):
    table = resource["name"]
    columns = authored_text_columns(resource)
    data = (await datasette.client.get(f"/drugbeleid/{table}.json?_shape=objects&_size=max")).json()
    checked = 0
    for path in language_paths(f"/drugbeleid/{table}?_size=max"):
        response = await datasette.client.get(path)
        assert response.status_code == 200
        rows = parse(response.text).find("table", cls="rows-and-columns").find("tbody").find_all("tr")
        assert len(rows) == len(data["rows"]), path
        for tr, row in zip(rows, data["rows"]):
            cells = {td.attrs["class"].split()[0].removeprefix("col-"): td for td in tr.find_all("td")}
            for column in columns:
                value = row[column]
                if column not in cells or value in (None, ""):
                    continue  # the other language's twin (hidden on this page) or an empty value
                shown = raw_text(cells[column])
                if re.match(r"https?://\S+$", value):  # a URL is a link to itself
                    shown = cells[column].find("a").attrs["href"]
                assert shown == value, f"{path}: {table}.{column} shows {shown!r}, stored {value!r}"
                checked += 1
    assert checked, f"no text of {table} checked"


@pytest.mark.parametrize("lang, decimal", [("nl", ","), ("en", ".")])
async def test_numbers_keep_their_value_written_for_the_page(datasette, lang, decimal):
    data = (await datasette.client.get("/drugbeleid/staffing.json?_shape=objects")).json()["rows"]
    path = "/drugbeleid/staffing" + ("?_lang=en" if lang == "en" else "")
    page = parse((await datasette.client.get(path)).text)
    shown = [raw_text(td) for td in page.find_all("td", cls="col-fte")]
    assert len(shown) == len(data) and shown
    for text, row in zip(shown, data):
        assert math.isclose(float(text.replace(decimal, ".")), row["fte"]), (text, row["fte"])
        assert ("," in text) == (lang == "nl" and "." in str(row["fte"]))
    # a counted unit stored as a whole float is shown without decimals, in both languages
    totals = (await datasette.client.get("/drugbeleid/printed_totals.json?_shape=objects&unit=dossiers")).json()["rows"]
    page = parse(
        (
            await datasette.client.get(
                "/drugbeleid/printed_totals?unit=dossiers" + ("&_lang=en" if lang == "en" else "")
            )
        ).text
    )
    cells = [raw_text(td) for td in page.find_all("td", cls="col-printed_total")]
    assert cells == [str(int(r["printed_total"])) for r in totals]


@pytest.mark.parametrize("lang, label", [("nl", "financiering"), ("en", "funding")])
async def test_a_coded_value_keeps_its_code_beside_its_label(datasette, lang, label):
    page = parse(
        (await datasette.client.get("/drugbeleid/events?kind=funding" + ("&_lang=en" if lang == "en" else ""))).text
    )
    cells = page.find_all("td", cls="col-kind")
    assert cells
    for td in cells:
        assert td.find("code").text() == "funding" and label in td.text()
