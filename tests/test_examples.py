"""/examples: at least eight example questions in plain Dutch, each a canned query that runs,
shown with its SQL and a link that opens it in the SQL editor, ready to run."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from scripts.content import read_content
from tests.conftest import ROOT
from tests.pages import parse

# content/: English texts under title/description, Dutch under title_nl/description_nl
CONTENT, _ = read_content(ROOT / "content")
QUERIES = {query["name"]: query for query in CONTENT["feeds"] + CONTENT["examples"]}
EXAMPLES = [query["name"] for query in CONTENT["examples"]]
FEEDS = ["caseload_by_year", "caseload_matrix", "caseload_and_staffing", "statistics_with_quotes"]


def test_at_least_eight_examples_each_a_dutch_question_with_explanations():
    assert len(EXAMPLES) >= 8 and len(set(EXAMPLES)) == len(EXAMPLES)
    for name in EXAMPLES:
        query = QUERIES[name]
        assert query["title_nl"].endswith("?") and query["title"].endswith("?"), name
        assert len(query["description_nl"].split()) >= 15 and len(query["description"].split()) >= 15, name


def test_derived_figures_say_they_are_derived():
    for name in EXAMPLES:
        if "derived_" in QUERIES[name]["sql"]:
            assert "afgeleid" in QUERIES[name]["description_nl"] and "derived" in QUERIES[name]["description"], name


async def test_the_examples_page_lists_every_example_with_sql_and_links(datasette):
    response = await datasette.client.get("/examples")
    assert response.status_code == 200
    tree = parse(response.text)
    articles = tree.find_all("article", cls="example-query")
    assert [a.attrs["id"] for a in articles] == EXAMPLES
    for article in articles:
        query = QUERIES[article.attrs["id"]]
        assert article.find("h2").text() == query["title_nl"]
        assert article.find("p", cls="explanation").text() == " ".join(query["description_nl"].split())
        assert article.find("pre").text() == " ".join(query["sql"].split())
        editor = article.find("a", cls="open-editor").attrs["href"]
        assert urlsplit(editor).path == "/drugbeleid"
        assert parse_qs(urlsplit(editor).query)["sql"] == [query["sql"]]
        assert article.find("a", cls="canned-query").attrs["href"] == f"/drugbeleid/{article.attrs['id']}"
        assert article.find("a", cls="csv").attrs["href"] == f"/drugbeleid/{article.attrs['id']}.csv?_dl=1"


async def test_the_english_page_asks_and_explains_in_english(datasette):
    tree = parse((await datasette.client.get("/examples?_lang=en")).text)
    assert tree.find("html").attrs["lang"] == "en"
    for article in tree.find_all("article", cls="example-query"):
        query = QUERIES[article.attrs["id"]]
        assert article.find("h2").text() == query["title"] and "lang" not in article.find("h2").attrs
        assert article.find("p", cls="explanation").text() == " ".join(query["description"].split())
        assert "_lang=en" in article.find("a", cls="open-editor").attrs["href"]
        # one SQL for both languages: the English page shows and runs the same query
        assert article.find("code").text() == " ".join(query["sql"].split())


@pytest.mark.parametrize("name", EXAMPLES)
async def test_a_question_that_returns_our_texts_returns_both_languages(datasette, name):
    """SQL is written once: where a question returns an authored column (one with a twin), it
    returns its twin too, so the same query serves the Dutch and the English reader."""
    import json

    package = json.loads((ROOT / "datasets" / "datapackage.json").read_text(encoding="utf-8"))
    twins = {}
    for resource in package["resources"]:
        schema = json.loads((ROOT / "datasets" / resource["schema"]).read_text(encoding="utf-8"))
        for field in schema["fields"]:
            if field.get("twin_of"):
                twins[field["name"]] = field["twin_of"]
                twins[field["twin_of"]] = field["name"]
    rows = (await datasette.client.get(f"/drugbeleid/{name}.json?_shape=array")).json()
    columns = set(rows[0])
    for column in columns & set(twins):
        if column.endswith(("_nl", "_en")):  # a twin returned: its original beside it
            assert twins[column] in columns, (name, column)


@pytest.mark.parametrize("name", EXAMPLES)
async def test_every_example_runs_and_its_editor_link_shows_the_rows(datasette, name):
    canned = await datasette.client.get(f"/drugbeleid/{name}.json?_shape=array")
    assert canned.status_code == 200, canned.text
    rows = canned.json()
    assert len(rows) >= 1
    page = parse((await datasette.client.get("/examples")).text)
    editor_link = page.by_id(name).find("a", cls="open-editor").attrs["href"]
    editor = await datasette.client.get(editor_link)
    assert editor.status_code == 200
    tree = parse(editor.text)
    assert tree.find("textarea", id="sql-editor").text() == " ".join(QUERIES[name]["sql"].split())
    assert len(tree.find("table", cls="rows-and-columns").find("tbody").find_all("tr")) == len(rows)
    csv = await datasette.client.get(page.by_id(name).find("a", cls="csv").attrs["href"])
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) >= 2


async def test_canned_query_page_shows_the_english_description_with_lang_en(datasette):
    name = EXAMPLES[0]
    dutch = parse((await datasette.client.get(f"/drugbeleid/{name}")).text)
    english = parse((await datasette.client.get(f"/drugbeleid/{name}?_lang=en")).text)
    assert " ".join(QUERIES[name]["description_nl"].split()) in dutch.find(cls="metadata-description").text()
    assert " ".join(QUERIES[name]["description"].split()) in english.find(cls="metadata-description").text()


def test_the_four_feeds_are_separate_from_the_examples():
    """The feeds are a public contract (README): the examples are new queries beside them."""
    assert not set(FEEDS) & set(EXAMPLES)
    assert all(name in QUERIES for name in FEEDS)
