"""Search across everything, as a visitor and a program use it: /search and /search.json."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest

from scripts.text import fold_with_origins

from .conftest import DATASETS, read_csv
from .pages import parse
from .test_documents import Html

SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in sorted((DATASETS / "sources").glob("*.txt")))


async def found(datasette, query: str, **params) -> dict:
    extra = "".join(f"&{k}={quote(v)}" for k, v in params.items())
    response = await datasette.client.get(f"/search.json?q={quote(query)}{extra}")
    assert response.status_code == 200, response.text
    return response.json()


def passages_containing(word: str) -> list[dict]:
    """Counted here without the index: case-insensitive substring of the passage text."""
    return [p for p in read_csv("passages") if word.casefold() in p["text"].casefold()]


async def test_recidive_finds_recidiveert(datasette):
    assert "recidiveert" in SOURCES
    data = await found(datasette, "recidive")
    assert any("recidiveert" in r["text"] for r in data["results"])
    assert any("<mark>recidive</mark>ert" in r["snippet_html"] for r in data["results"])


async def test_a_dutch_stem_finds_its_plural_and_compounds(datasette):
    assert "drugopvolgingskamers" in SOURCES
    data = await found(datasette, "drugopvolgingskamer", table="passages")
    expected = passages_containing("drugopvolgingskamer")
    assert data["total"] == len(expected) > 0
    assert any("drugopvolgingskamers" in r["text"] for r in data["results"])
    # the middle of a compound: `kamer` finds drugbehandelingskamer (a word tokenizer would not)
    data = await found(datasette, "kamer", table="passages")
    assert data["total"] == len(passages_containing("kamer"))
    assert any("drugbehandelingskamer" in r["text"].casefold() for r in data["results"])


async def test_diacritics_and_case_are_ignored(datasette):
    assert "geïnterneerden" in SOURCES
    plain = await found(datasette, "geinterneerden")
    shouting = await found(datasette, "GEÏNTERNEERDEN")
    assert plain["total"] == shouting["total"] > 0
    assert [r["row_url"] for r in plain["results"]] == [r["row_url"] for r in shouting["results"]]
    assert all("geïnterneerden" in r["text"].casefold() for r in plain["results"])
    assert all("<mark>geïnterneerden</mark>" in r["snippet_html"] for r in plain["results"])
    assert sum(r["table"] == "passages" for r in plain["results"]) == len(passages_containing("geïnterneerden"))


async def test_search_page_shows_marked_original_text_and_links(datasette):
    response = await datasette.client.get("/search?q=geinterneerden")
    assert response.status_code == 200
    page = Html(response.text)
    assert "geïnterneerden" in page.marks
    assert page.classes["result-row"] and page.classes["result-document"]
    assert 'for="search-q"' in response.text and 'id="search-q"' in response.text


async def test_every_result_links_to_an_existing_row_and_document_anchor(datasette):
    data = await found(datasette, "recidive")
    assert data["results"]
    documents = {}
    for result in data["results"]:
        row = urlsplit(result["row_url"])
        assert (await datasette.client.get(row.path)).status_code == 200, result["row_url"]
        document = urlsplit(result["document_url"])
        if document.path not in documents:
            response = await datasette.client.get(document.path)
            assert response.status_code == 200
            documents[document.path] = Html(response.text).ids
        assert document.fragment in documents[document.path], result["document_url"]


async def test_results_are_bounded(datasette):
    data = await found(datasette, "een")
    assert data["total"] > len(data["results"]) == data["max_results"]
    page = await datasette.client.get("/search?q=een")
    shown = len(Html(page.text).classes["search-result"])
    assert 0 < shown <= data["max_results"]


async def test_short_terms_narrow_longer_ones(datasette):
    data = await found(datasette, "recidive 38")
    assert data["results"] and all("38" in r["text"] for r in data["results"])
    assert data["total"] < (await found(datasette, "recidive"))["total"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        " ",
        "a",
        "ab",
        "é",
        "x" * 1_000,
        "\x00",
        '"',
        "*",
        "(((",
        "NEAR(a b)",
        'recidive"',
        "recidive OR",
        "^recidive",
        "col:recidive",
        "a AND",
        "' or 1=1 --",
        "\u0301\u0301\u0301",
    ],
)
async def test_bad_queries_get_a_clear_answer_never_a_500(datasette, query):
    for path in ("/search", "/search.json"):
        response = await datasette.client.get(f"{path}?q={quote(query)}")
        assert response.status_code in (200, 400), (path, query, response.status_code)
        if response.status_code == 400 and path.endswith(".json"):
            assert response.json()["error"]
        if response.status_code == 400 and path == "/search":
            assert 'role="alert"' in response.text


async def test_too_short_and_too_long_say_why(datasette):
    short = await datasette.client.get("/search.json?q=a")
    assert short.status_code == 400 and "3" in short.json()["error"]
    long = await datasette.client.get("/search.json?q=" + "x" * 1_000)
    assert long.status_code == 400 and "200" in long.json()["error"]
    unknown = await datasette.client.get("/search.json?q=recidive&table=nope")
    assert unknown.status_code == 400


async def test_query_is_escaped(datasette):
    probe = '<script>alert(1)</script>"><img src=x onerror=alert(1)>recidive'
    for path in ("/search", "/search?_lang=en&table=passages"):
        response = await datasette.client.get(f"{path}{'&' if '?' in path else '?'}q={quote(probe)}")
        assert response.status_code == 200
        assert "<script>alert(1)" not in response.text and "<img src=x" not in response.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


async def test_english_labels(datasette):
    dutch = await datasette.client.get("/search?q=recidive")
    english = await datasette.client.get("/search?q=recidive&_lang=en")
    label = re.compile(r'<label for="search-q">([^<]+)</label>')
    assert label.search(dutch.text).group(1) != label.search(english.text).group(1)
    assert '<html lang="en">' in english.text
    assert Html(english.text).marks and Html(dutch.text).marks


def test_folding_maps_back_to_the_original_characters():
    """One character can fold to several (… -> ..., ﬁ -> fi) or to a letter without its accent."""
    text = "Eﬃciënte … Straße"
    folded, origins = fold_with_origins(text)
    assert folded == "efficiente ... strasse"
    assert len(origins) == len(folded)
    start = folded.index("ffi")
    assert text[origins[start] : origins[start + 2] + 1] == "ﬃ"
    start = folded.index("ss")
    assert text[origins[start] : origins[start + 1] + 1] == "ß"
    assert text[origins[folded.index("e", 3)]] == "ë"


async def test_every_indexed_text_points_at_its_row_and_a_paragraph_of_its_document(datasette):
    entries, path = [], "/drugbeleid/search_index.json?_shape=objects&_size=max"
    while path:
        index = (await datasette.client.get(path)).json()
        entries += index["rows"]
        path = index.get("next_url") and index["next_url"].replace("http://localhost", "")
    assert entries
    document_of_passage = {p["id"]: p["document_id"] for p in read_csv("passages")}
    rows = {}
    for entry in entries:
        assert document_of_passage[entry["passage_id"]] == entry["document_id"], entry
        if entry["row_path"] not in rows:
            row = await datasette.client.get(f"{entry['row_path']}.json?_shape=objects")
            assert row.status_code == 200, entry
            rows[entry["row_path"]] = row.json()["rows"][0]
        assert rows[entry["row_path"]][entry["column_name"]] == entry["text"], entry


async def test_too_many_terms_say_why(datasette):
    response = await datasette.client.get("/search.json?q=" + quote(" ".join(f"woord{n}" for n in range(30))))
    assert response.status_code == 400 and response.json()["error"]


async def test_a_paragraph_quoted_by_several_rows_appears_once(datasette):
    """One result per place in a source: the rows that quote a paragraph are listed under it."""
    data = await found(datasette, "recidive")
    quoted = {}
    for place in data["places"]:
        if len(place["rows"]) > 1:
            quoted.setdefault(place["passage_id"], 0)
            quoted[place["passage_id"]] += 1
    assert quoted and set(quoted.values()) == {1}, quoted
    page = parse((await datasette.client.get("/search?q=recidive")).text)
    results = page.find_all("li", cls="search-result")
    documents = [
        r.find("a", cls="result-document").attrs["href"] for r in results if len(r.find_all("a", cls="result-row")) > 1
    ]
    assert documents and len(documents) == len(set(documents)), documents
    rows_listed = sum(len(r.find_all("a", cls="result-row")) for r in results)
    assert rows_listed > len(results)


async def test_each_page_searches_its_own_language(datasette):
    """A Dutch page finds the Dutch twin of a title, not the English one, and the reverse."""
    dutch = parse((await datasette.client.get("/search?q=opgestart")).text)
    english = parse((await datasette.client.get("/search?q=started&_lang=en")).text)
    dutch_columns = {c.text() for c in dutch.find_all("code")}
    english_columns = {c.text() for c in english.find_all("code")}
    assert "title_nl" in dutch_columns and "title" not in dutch_columns
    assert "title" in english_columns and "title_nl" not in english_columns
    assert (await found(datasette, "reoffends"))["results"]  # in English texts only
    assert not parse((await datasette.client.get("/search?q=reoffends")).text).find_all("li", cls="search-result")
