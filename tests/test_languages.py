"""Dutch first, English too, seen over HTTP: every link keeps the page's language without JavaScript,
pages show the columns of their own language with labels for coded values, and row pages are record
cards with links to related rows (their JSON unchanged)."""

from __future__ import annotations

import re
import sqlite3

import pytest

from .pages import parse

PAGES = [
    "/",
    "/examples",
    "/documents",
    "/documents/vraag-69-2022",
    "/search?q=recidive",
    "/drugbeleid",
    "/drugbeleid/caseload",
    "/drugbeleid/events?_facet=kind",
    "/drugbeleid/caseload/antwerpen,2022",
    "/drugbeleid/statistics/recidivism-dbk-group",
    "/drugbeleid?sql=select+*+from+caseload",
    "/drugbeleid/caseload_by_year",
    "/-/dashboards/drugbeleid",
    "/releases",
]
FILES = re.compile(r"\.(json|csv|zip|db|ttl|jsonld|sha256|txt|js|css|png|svg|ico|bib|ris)(\?|#|$)")


def site_links(page) -> list[dict]:
    return [
        a.attrs
        for a in page.find_all("a")
        if (a.attrs.get("href") or "").startswith("/") and not a.attrs["href"].startswith(("/-/static", "/data/"))
    ]


@pytest.mark.parametrize("path", PAGES)
async def test_every_link_of_an_english_page_keeps_english_without_javascript(datasette, path):
    english = path + ("&" if "?" in path else "?") + "_lang=en"
    response = await datasette.client.get(english)
    assert response.status_code == 200
    page = parse(response.text)
    links = site_links(page)
    assert links
    for link in links:
        if link.get("hreflang") or FILES.search(link["href"]):
            continue
        assert "_lang=en" in link["href"], f"{english}: link {link['href']} drops the language"
    for form in page.find_all("form"):
        if (form.attrs.get("method") or "").lower() == "get" and (form.attrs.get("action") or "").startswith("/"):
            hidden = [i.attrs for i in form.find_all("input") if i.attrs.get("name") == "_lang"]
            assert hidden and hidden[0].get("value") == "en", (
                f"{english}: form {form.attrs['action']} drops the language"
            )
    assert "location.origin" not in response.text, "the language must not depend on a script"


@pytest.mark.parametrize("path", PAGES)
async def test_dutch_pages_need_no_language_parameter(datasette, path):
    page = parse((await datasette.client.get(path)).text)
    for link in site_links(page):
        if not link.get("hreflang"):
            assert "_lang=" not in link["href"], f"{path}: {link['href']}"


async def test_a_table_page_shows_the_columns_of_its_language(datasette):
    def columns(text):
        return [th.attrs["data-column"] for th in parse(text).find_all("th") if th.attrs.get("data-column")]

    dutch = columns((await datasette.client.get("/drugbeleid/events")).text)
    english = columns((await datasette.client.get("/drugbeleid/events?_lang=en")).text)
    assert "title_nl" in dutch and "title" not in dutch and "note_nl" in dutch and "note" not in dutch
    assert "title" in english and "title_nl" not in english
    assert "quote" in dutch and "quote" in english  # verbatim: the same in both


async def test_facets_label_coded_values_in_the_page_language(datasette):
    dutch = parse((await datasette.client.get("/drugbeleid/events?_facet=kind")).text)
    english = parse((await datasette.client.get("/drugbeleid/events?_facet=kind&_lang=en")).text)
    facet_nl = dutch.find(id="facet-kind").text()
    facet_en = english.find(id="facet-kind").text()
    assert "Soort" in facet_nl and "geciteerde publicatie" in facet_nl and "financiering" in facet_nl
    assert "Kind" in facet_en and "cited publication" in facet_en and "funding" in facet_en
    booleans = parse((await datasette.client.get("/drugbeleid/caseload?_facet=period_complete")).text)
    assert "nee" in booleans.find(id="facet-period_complete").text()


async def test_a_row_page_is_a_record_card_with_related_rows(datasette, built):
    page = parse((await datasette.client.get("/drugbeleid/caseload/antwerpen,2022")).text)
    card = page.find("dl", cls="record-card")
    labels = [dt.attrs["data-column"] for dt in card.find_all("dt")]
    values = card.find_all("dd")
    assert len(labels) == len(values) and labels.count("justice_house_id") == 1
    with sqlite3.connect(built) as db:
        columns = [r[1] for r in db.execute("pragma table_info(caseload)")]
    assert set(labels) == set(columns) - {"note"}  # the English note is the English page's
    shown = {dd.attrs["data-column"]: dd.text() for dd in values}
    assert shown["dossiers"] == "24 dossiers" and shown["period_complete"].startswith("nee")
    related = {a.attrs["href"] for a in page.find("section", cls="related").find_all("a")}
    assert {
        "/drugbeleid/justice_houses/antwerpen",
        "/drugbeleid/staffing/antwerpen,2022-10-14",
        "/drugbeleid/printed_totals/caseload-2022",
    } <= related
    statistic = parse(
        (await datasette.client.get("/drugbeleid/statistics/prevalence-lifetime-illegal-drug?_lang=en")).text
    )
    related = {a.attrs["href"] for a in statistic.find("section", cls="related").find_all("a")}
    assert any(href.startswith("/drugbeleid/citations/van-malderen-2011") for href in related)
    dbk = parse((await datasette.client.get("/drugbeleid/statistics/recidivism-dbk-group")).text)
    assert "/drugbeleid/drug_courts/dbk-gent" in {
        a.attrs["href"] for a in dbk.find("section", cls="related").find_all("a")
    }
    quote = next(dd for dd in statistic.find_all("dd") if dd.attrs.get("data-column") == "quote")
    assert quote.attrs.get("lang") == "nl"  # a Dutch quote on an English page


async def test_the_json_of_a_row_is_unchanged(datasette, built):
    data = (await datasette.client.get("/drugbeleid/caseload/antwerpen,2022.json?_shape=objects")).json()
    with sqlite3.connect(built) as db:
        db.row_factory = sqlite3.Row
        row = dict(db.execute("select * from caseload where justice_house_id = 'antwerpen' and year = 2022").fetchone())
    assert data["rows"] == [row]


async def test_one_line_is_regel_not_regels(datasette):
    text = (await datasette.client.get("/drugbeleid/caseload/antwerpen,2022")).text
    assert "(regel 56 in het document)" in text and "regels 56 " not in text
    english = (await datasette.client.get("/drugbeleid/caseload/antwerpen,2022?_lang=en")).text
    assert "(line 56 in the document)" in english


# --- Datasette's own words, from our copies of its templates and the catalogues --------------------

from datasette.filters import Filters  # noqa: E402
from markupsafe import escape  # noqa: E402

from serve import i18n  # noqa: E402

# Datasette's filters, through its public API: (key, its English label, takes no argument)
LOOKUPS = list(Filters([]).lookups())


async def test_every_filter_of_datasette_has_its_dutch_choice_without_javascript(datasette):
    def choices(html):
        return [
            (o.attrs["value"].removesuffix("__1"), o.text())
            for select in parse(html).find_all("select")
            if select.attrs.get("name", "").startswith("_filter_op")
            for o in select.find_all("option")
        ]

    dutch = choices((await datasette.client.get("/drugbeleid/events")).text)  # as sent: no JavaScript
    english = choices((await datasette.client.get("/drugbeleid/events?_lang=en")).text)
    assert [k for k, _ in dutch] == [k for k, _ in english] == [key for key, _, _ in LOOKUPS]  # the empty filter row
    for (key, in_dutch), (_, in_english), (_, display, _) in zip(dutch, english, LOOKUPS):
        assert in_english == display
        if re.search(r"[A-Za-z]{2}", display):  # a word, not a symbol such as = or ≥
            assert in_dutch != display and in_dutch == i18n.gettext(display, "nl"), key


@pytest.mark.parametrize("key", [key for key, _, _ in LOOKUPS])
async def test_a_table_page_describes_each_filter_in_dutch(datasette, key):
    """The heading of a filtered table ("3 rijen waarvoor geldt: …") for every filter of Datasette."""
    found = Filters._filters_by_key[key]
    # the array filters read the column as JSON: a number is JSON, a title is not
    table, column = ("caseload", "year") if key.startswith("array") else ("events", "title_nl")
    value = (
        "1"
        if found.no_argument
        else ("2021" if key in ("gt", "gte", "lt", "lte", "date") or table == "caseload" else "Gent")
    )
    path = f"/drugbeleid/{table}?{column}__{key}={value}&_sort_desc={column}"
    response = await datasette.client.get(path)
    assert response.status_code == 200
    heading = " ".join(parse(response.text).find("h2").text().split())
    assert "rijen waarvoor geldt: " in heading and column in heading, heading
    assert heading.endswith(f"gesorteerd op {column}, aflopend"), heading
    english_clause = found.human_clause(column, value)
    assert "where" not in heading and "sorted" not in heading, heading
    if re.search(r"[A-Za-z]{2}", found.display):  # a word, not a symbol such as = or ≥
        assert english_clause not in heading, heading
    english = (await datasette.client.get(path + "&_lang=en")).text
    assert str(escape(english_clause)) in english


# Error pages: a wrong link on a Dutch page gets a Dutch page, with its way back in the same language.
ERROR_PAGES = [  # (path, status, Dutch message, English message, the same error in JSON or None)
    ("/nope", 404, "Databank niet gevonden", "Database not found", "/nope.json"),
    ("/drugbeleid/nope", 404, "Tabel niet gevonden", "Table not found", "/drugbeleid/nope.json"),
    (
        "/drugbeleid/caseload/nowhere,2000",
        404,
        "Rij niet gevonden",
        "Record not found",
        "/drugbeleid/caseload/nowhere,2000.json",
    ),
    ("/documents/nope", 404, "Document niet gevonden: nope", "Document not found: nope", None),
    (
        "/drugbeleid/caseload?_sort=nope",
        400,
        "De tabel kan niet gesorteerd worden op nope",
        "Cannot sort table by nope",
        "/drugbeleid/caseload.json?_sort=nope",
    ),
]


@pytest.mark.parametrize("path, status, dutch, english, json_path", ERROR_PAGES)
async def test_an_error_page_is_in_the_page_language(datasette, path, status, dutch, english, json_path):
    for lang, heading, message, home in (
        ("nl", f"Fout {status}", dutch, "Naar de startpagina"),
        ("en", f"Error {status}", english, "Go to the home page"),
    ):
        url = path if lang == "nl" else path + ("&" if "?" in path else "?") + "_lang=en"
        response = await datasette.client.get(url)
        assert response.status_code == status, url
        page = parse(response.text)
        assert page.find("html").attrs["lang"] == lang, url
        assert page.find("h1").text() == heading, url
        assert page.find(cls="error-message").text() == message, url
        back = [a for a in page.find_all("a") if a.text() == home]
        assert back and back[0].attrs["href"] == ("/" if lang == "nl" else "/?_lang=en"), url
    if json_path:  # the API's message stays as it was
        json_error = await datasette.client.get(json_path)
        assert json_error.status_code == status and json_error.json()["error"] == english, json_path


async def test_an_error_message_without_dutch_is_marked_english_and_escaped(datasette):
    response = await datasette.client.get("/drugbeleid/caseload?year__gt=99999999999999999999&x=<b>")
    assert response.status_code == 400
    message = parse(response.text).find(cls="error-message")
    marked = message.find(lang="en")
    assert marked is not None and marked.text().startswith("Invalid parameter year__gt")
    escaped = await datasette.client.get("/drugbeleid/caseload?_sort=%3Cb%3Eloud%3C/b%3E")
    assert escaped.status_code == 400
    assert "<b>loud</b>" not in escaped.text and "op &lt;b&gt;loud&lt;/b&gt;" in escaped.text


@pytest.mark.parametrize("lang, label", [("nl", "Grafieken"), ("en", "Charts")])
async def test_the_menu_links_of_other_plugins_are_in_the_page_language(datasette, lang, label):
    response = await datasette.client.get("/drugbeleid" + ("?_lang=en" if lang == "en" else ""))
    menu = parse(response.text).find(cls="nav-menu-inner")
    assert [a.text() for a in menu.find_all("a")] == [label]
