"""The citizens' pages through HTTP: home page (Dutch and English) with key figures equal to the
database, language switch on every page, charts (queries, text alternatives, CSP), friendly SQL
errors, and the basics (one h1, headings in order, skip link, main landmark)."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from urllib.parse import urlencode, urlsplit

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from serve import i18n
from tests.catalogue_words import shown
from tests.conftest import PACKAGE, ROOT, built_metadata, in_process
from tests.pages import headings, headings_in_order, parse


def sql(built, query: str):
    with sqlite3.connect(built) as db:
        return db.execute(query).fetchall()


def normalised(text: str) -> str:
    return " ".join(text.split())


async def page(datasette, path: str, status: int = 200):
    response = await datasette.client.get(path)
    assert response.status_code == status, (path, response.status_code, response.text[:500])
    return response, parse(response.text)


def html_lang(response) -> str:
    return re.search(r'<html lang="(\w+)"', response.text).group(1)


# ---------------------------------------------------------------- home page


async def test_home_is_dutch_and_english_with_the_caveats(datasette):
    dutch, dutch_tree = await page(datasette, "/")
    english, english_tree = await page(datasette, "/?_lang=en")
    assert html_lang(dutch) == "nl" and html_lang(english) == "en"
    dutch_text, english_text = dutch_tree.text(), english_tree.text()
    for phrase in [
        "Wat zijn drugbehandelings- en drugopvolgingskamers?",
        "Dossiers zijn geen personen",
        "2022 lezen we als een onvolledig jaar",
        "voltijdse equivalenten op één datum",
        "Een gedrukt totaal dat niet gelijk is aan zijn som",
    ]:
        assert phrase in dutch_text and phrase not in english_text, phrase
    for phrase in [
        "What are drug treatment and drug follow-up courts?",
        "Dossiers are not persons",
        "2022 is read as a partial year",
        "full-time equivalents on one date",
        "A printed total that does not equal its sum",
    ]:
        assert phrase in english_text and phrase not in dutch_text, phrase
    # the Dutch quotes on the English page are marked as Dutch
    assert all(q.attrs.get("lang") == "nl" for q in english_tree.find_all("blockquote"))


async def test_home_quotes_are_verbatim_from_the_cited_passage(datasette, built):
    for path in ["/", "/?_lang=en"]:
        _, tree = await page(datasette, path)
        quotes = tree.find_all("blockquote")
        assert len(quotes) >= 3
        for quote in quotes:
            document, passage = (
                urlsplit(quote.attrs["cite"]).path.rsplit("/", 1)[1],
                urlsplit(quote.attrs["cite"]).fragment,
            )
            ((text,),) = sql(built, f"select text from passages where id = '{passage}' and document_id = '{document}'")
            assert normalised(quote.text()) in normalised(text), (passage, quote.text())


def home_messages() -> dict[str, str]:
    """{English: Dutch} of every message of templates/home.html, as the catalogue translates it."""
    with open(i18n.catalogue_path("nl"), "rb") as f:
        catalogue = read_po(f, locale="nl")
    found = {}
    for _line, message, _comments, _context in extract_from_file("jinja2", ROOT / "templates" / "home.html"):
        entry = catalogue.get(message)
        found[message] = entry.string if entry else ""
    return found


def texts_of(message: str) -> set[str]:
    """The words of a message between its markup and placeholders."""
    pieces = (" ".join(p.split()).strip(" ,.:;()") for p in re.split(r"<[^>]*>|%\(\w+\)s", message))
    return {p for p in pieces if len(re.findall(r"[A-Za-z]", p)) >= 2}


def shows_message(html: str, message: str) -> bool:
    """Whether `html` holds `message`, markup and all, with its placeholders filled in."""
    parts = [re.escape(" ".join(part.split(" "))) for part in re.split(r"%\(\w+\)s", " ".join(message.split()))]
    return re.search(r"[^<>\"]*".join(parts), " ".join(html.split())) is not None


def text_in_language(element, lang: str) -> str:
    """The text of `element` without what is marked as another language (the Dutch quotes and
    document titles on an English page)."""
    parts = [
        c if isinstance(c, str) else text_in_language(c, lang)
        for c in element.children
        if isinstance(c, str) or c.attrs.get("lang", lang) == lang
    ]
    return " ".join(" ".join(parts).split())


async def test_home_page_shows_each_text_in_its_language_only(datasette):
    """Each paragraph of the home page is a message: the English page shows it in English, the Dutch
    page in Dutch, and neither shows the other language's words (a missing Dutch fails here)."""
    messages = home_messages()
    assert len(messages) >= 20
    assert [m for m, dutch in messages.items() if not dutch or dutch == m] == []
    english = set().union(*map(texts_of, messages))
    dutch = set().union(*map(texts_of, messages.values()))
    only_english = {t for t in english if not any(shown(t, d) for d in dutch)}
    only_dutch = {t for t in dutch if not any(shown(t, e) for e in english)}
    assert len(only_english) >= 20 and len(only_dutch) >= 20
    for path, lang, own, other in (
        ("/", "nl", messages.values(), only_english),
        ("/?_lang=en", "en", messages.keys(), only_dutch),
    ):
        response, tree = await page(datasette, path)
        assert [m for m in own if not shows_message(response.text, m)] == [], path
        text = text_in_language(tree.find("main"), lang)
        assert sorted(t for t in other if shown(t, text)) == [], path


async def test_home_key_figures_equal_the_database(datasette, built):
    ((complete,),) = sql(built, "select sum(dossiers) from caseload where period_complete = 1")
    ((fte, printed),) = sql(
        built,
        "select round(sum(s.fte), 2), p.printed_total from staffing s "
        "join printed_totals p on p.table_name = 'staffing' and p.period = s.reference_date",
    )
    ((dbk,),) = sql(built, "select value from statistics where id = 'recidivism-dbk-group'")
    ((classical,),) = sql(built, "select value from statistics where id = 'recidivism-classical-track'")
    ((last_year,),) = sql(built, "select max(year) from caseload where period_complete = 1")
    per_house = sql(
        built,
        f"select j.name, c.dossiers, c.justice_house_id from caseload c join justice_houses j "
        f"on j.id = c.justice_house_id where c.year = {last_year} order by c.dossiers desc",
    )
    ((recommendations,),) = sql(built, "select count(*) from recommendations where kind = 'recommendation'")

    _, tree = await page(datasette, "/")
    figures = tree.by_id("key-figures")
    assert len(figures.find_all(cls="key-figure")) >= 6

    def value(figure_id):
        return figures.by_id(f"figure-{figure_id}").find(cls="value").text()

    assert value("dossiers-complete-years") == str(complete)
    assert value("fte-total") == f"{fte:.2f}".replace(".", ",") + " VTE"
    assert f"{printed:.2f}".replace(".", ",") in figures.by_id("figure-fte-total").text()
    assert value("recidivism") == f"{dbk}".replace(".", ",") + " %"
    assert f"{classical}".replace(".", ",") in figures.by_id("figure-recidivism").text()
    assert value("recommendations") == str(recommendations)
    listed = figures.by_id("figure-dossiers-last-complete-year")
    assert str(last_year) in listed.find(cls="label").text()
    items = [
        (li.find("a").text(), li.find(cls="value-item").text(), li.find("a").attrs["href"])
        for li in listed.find("ul").find_all("li")
    ]
    assert items == [(name, str(n), f"/drugbeleid/caseload/{house},{last_year}") for name, n, house in per_house]

    _, english = await page(datasette, "/?_lang=en")
    fte_en = english.by_id("figure-fte-total").find(cls="value").text()
    assert fte_en == f"{fte:.2f} FTE"


async def test_key_figure_source_links_show_the_rows_behind_the_figure(datasette, built):
    _, tree = await page(datasette, "/")
    link = tree.by_id("figure-dossiers-complete-years").find("a", cls="source").attrs["href"]
    rows = (
        await datasette.client.get(link.replace("/caseload?", "/caseload.json?") + "&_shape=array&_size=max")
    ).json()
    ((complete,),) = sql(built, "select sum(dossiers) from caseload where period_complete = 1")
    assert sum(r["dossiers"] for r in rows) == complete


@pytest.mark.parametrize("path", ["/", "/?_lang=en"])
async def test_every_link_on_the_home_page_resolves(datasette, path):
    _, tree = await page(datasette, path)
    links = {a.attrs["href"].split("#")[0] for a in tree.find_all("a") if a.attrs.get("href", "").startswith("/")}
    assert {"/datapackage.json", "/drugbeleid.zip", "/data/caseload.csv", "/api", "/catalog.ttl", "/examples"} <= {
        link.split("?")[0] for link in links
    }
    for link in sorted(links):
        response = await datasette.client.get(link)
        assert response.status_code == 200, (link, response.status_code)


# ---------------------------------------------------------------- language switch and base template


async def test_language_switch_on_a_table_page_toggles_lang(datasette):
    dutch, tree = await page(datasette, "/drugbeleid/caseload?year=2021")
    assert html_lang(dutch) == "nl"
    switch = tree.by_id("language-switch")
    assert switch.attrs["hreflang"] == "en" and switch.attrs["lang"] == "en"
    english, english_tree = await page(datasette, switch.attrs["href"])
    assert html_lang(english) == "en"
    assert "year=2021" in switch.attrs["href"]  # the same page, only the language changes
    back = english_tree.by_id("language-switch")
    assert back.attrs["hreflang"] == "nl"
    assert back.attrs["href"] == "/drugbeleid/caseload?year=2021"
    # the table's description in the page's language only, from its schema (description, description_nl)
    resource = next(r for r in PACKAGE["resources"] if r["name"] == "caseload")
    assert " ".join(english_tree.find(cls="metadata-description").text().split()) == " ".join(
        resource["description"].split()
    )
    assert " ".join(tree.find(cls="metadata-description").text().split()) == " ".join(
        resource["description_nl"].split()
    )


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?_lang=en",
        "/examples",
        "/-/dashboards/drugbeleid",
        "/drugbeleid",
        "/drugbeleid/caseload",
        "/drugbeleid/caseload/gent,2021",
        "/drugbeleid?sql=select+1",
        "/no-such-page",
    ],
)
async def test_every_page_has_navigation_search_switch_skip_link_and_main(datasette, path):
    response = await datasette.client.get(path)
    tree = parse(response.text)
    form = tree.by_id("site-search")
    assert form.attrs["action"] == "/search" and form.attrs["method"] == "get"
    field = form.find("input", name="q")
    assert form.find("label").attrs["for"] == field.attrs["id"]
    assert tree.by_id("language-switch") is not None
    skip = tree.find("a", cls="skip-link")
    assert skip.attrs["href"] == "#main" and tree.find("main", id="main") is not None
    assert 'name="viewport"' in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?_lang=en",
        "/examples",
        "/examples?_lang=en",
        "/-/dashboards/drugbeleid",
        "/-/dashboards/drugbeleid?_lang=en",
        "/drugbeleid",
        "/drugbeleid/caseload",
        "/drugbeleid/caseload?year=2021&_sort=dossiers",
        "/drugbeleid?sql=select+1",
        "/drugbeleid/caseload_by_year",
    ],
)
async def test_headings_are_in_order_and_every_field_has_a_label(datasette, path):
    _, tree = await page(datasette, path)
    assert headings_in_order(headings(tree)), headings(tree)
    labelled = {label.attrs.get("for") for label in tree.find_all("label")}
    for field in tree.find_all("select") + tree.find_all("textarea") + tree.find_all("input"):
        if field.attrs.get("type") in ("hidden", "submit", "button", "checkbox"):
            continue  # Datasette's checkboxes sit inside their <label>
        assert field.attrs.get("aria-label") or field.attrs.get("id") in labelled, field.attrs


# ---------------------------------------------------------------- charts


def dashboard_config() -> dict:
    """The charts as the site serves them: content/charts.yml placed in Datasette's configuration
    (Dutch under title/query/display, English under title_en/query_en/display_en)."""
    from scripts.content import datasette_site, read_content

    content, problems = read_content(ROOT / "content")
    assert not problems
    return datasette_site({}, content)["plugins"]["datasette-dashboards"]["drugbeleid"]


CHARTS = dashboard_config()["charts"]


def test_the_five_charts_of_the_issue_are_configured():
    assert {"caseload", "staffing", "recidivism", "prevalence", "timeline"} <= set(CHARTS)
    layers = CHARTS["caseload"]["display"]["layer"]
    assert layers[0]["encoding"]["x"]["title"] == "Jaar (* onvolledig)"
    english = CHARTS["caseload"]["display_en"]["layer"]
    assert english[0]["encoding"]["x"]["title"] == "Year (* partial)"


@pytest.mark.parametrize("slug", sorted(CHARTS))
async def test_every_chart_in_both_languages(datasette, slug):
    """Titles, axes, legends and category labels: the Dutch chart and the English one differ. The
    query is one for both languages: the data table of each page shows the columns of its language
    (a column of our words and its Dutch twin `_nl`), labelled in that language, and each language's
    chart draws the fields its page shows."""
    chart = CHARTS[slug]
    assert chart.get("display_en") and chart.get("title_en") and "query_en" not in chart
    assert chart["display"] != chart["display_en"]
    rows = (
        await datasette.client.get("/drugbeleid.json?" + urlencode({"sql": chart["query"], "_shape": "objects"}))
    ).json()["rows"]
    columns = list(rows[0])
    for lang, key in (("nl", "label_nl"), ("en", "label")):
        shown = [
            c
            for c in columns
            if (f"{c}_nl" not in columns if lang == "nl" else not (c.endswith("_nl") and c[:-3] in columns))
        ]
        _, tree = await page(datasette, f"/-/dashboards/drugbeleid?_lang={lang}")
        card = tree.by_id(f"card-{slug}")
        assert card.find("h2").text().startswith(chart["title"] if lang == "nl" else chart["title_en"])
        headers = [th.text() for th in card.find(cls="chart-data").find("thead").find_all("th")]
        assert headers == [chart["columns"][c.removesuffix("_nl")][key] for c in shown], lang
        body = card.find(cls="chart-data").find("tbody").find_all("tr")
        # texts exactly as stored; numbers by value, written as the page's language writes them
        # (a decimal comma on Dutch pages, a whole number without ".0")
        cells = [td.text() for td in body[0].find_all("td")]
        assert len(cells) == len(shown)
        for text, column in zip(cells, shown):
            value = rows[0][column]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                number = text.replace("\u202f", "").replace(" ", "")
                number = number.replace(".", "").replace(",", ".") if lang == "nl" else number.replace(",", "")
                assert float(number) == pytest.approx(value), (lang, column, text, value)
                assert not text.endswith(".0") and not text.endswith(",0") or value != int(value), (lang, column, text)
            else:
                assert text == ("" if value is None else str(value)), (lang, column)
        display = chart["display"] if lang == "nl" else chart["display_en"]
        drawn = {
            encoding["field"]
            for layer in display.get("layer", [display])
            for encoding in layer["encoding"].values()
            if isinstance(encoding, dict) and "field" in encoding
        }
        assert drawn <= set(shown), (lang, drawn - set(shown))


@pytest.mark.parametrize("slug", sorted(CHARTS))
async def test_every_chart_query_runs_and_its_table_csv_and_sql_links_agree(datasette, slug):
    chart = CHARTS[slug]
    data = await datasette.client.get("/drugbeleid.json?" + urlencode({"sql": chart["query"], "_shape": "objects"}))
    assert data.status_code == 200, data.text
    rows = data.json()["rows"]
    assert rows
    _, tree = await page(datasette, "/-/dashboards/drugbeleid")
    card = tree.by_id(f"card-{slug}")
    assert card.find("h2").text().startswith(chart["title"])
    assert card.by_id(f"chart-{slug}") is not None
    table_rows = card.find(cls="chart-data").find("tbody").find_all("tr")
    assert len(table_rows) == len(rows)
    csv_link = card.find("a", cls="chart-csv").attrs["href"]
    csv_response = await datasette.client.get(csv_link)
    assert csv_response.status_code == 200 and csv_response.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(csv_response.text)))) == len(rows)
    sql_link = card.find("a", cls="chart-sql").attrs["href"]
    editor = await datasette.client.get(sql_link)
    assert editor.status_code == 200 and "rows-and-columns" in editor.text


async def test_chart_numbers_are_in_the_text_alternative(datasette, built):
    _, tree = await page(datasette, "/-/dashboards/drugbeleid")
    text = tree.by_id("card-caseload").find(cls="chart-data").text()
    # written for the Dutch page: a whole count without decimals, a decimal comma for FTE
    for (total,) in sql(built, "select printed_total from printed_totals where table_name = 'caseload'"):
        assert re.search(rf"(?<![\d,]){int(total) if float(total).is_integer() else total}(?![\d,])", text), total
    staffing = tree.by_id("card-staffing").find(cls="chart-data").text()
    for (fte,) in sql(built, "select fte from staffing"):
        assert str(fte).replace(".", ",") in staffing


async def test_dashboard_scripts_are_served_locally(datasette):
    response, tree = await page(datasette, "/-/dashboards/drugbeleid")
    scripts = [s.attrs["src"] for s in tree.find_all("script") if s.attrs.get("src")]
    assert any("vega-lite" in s for s in scripts)
    for src in scripts:
        assert src.startswith("/-/static-plugins/"), src
        assert (await datasette.client.get(src)).status_code == 200
    assert "http://" not in "".join(scripts) and "https://" not in "".join(scripts)


async def test_english_dashboard_titles(datasette):
    _, tree = await page(datasette, "/-/dashboards/drugbeleid?_lang=en")
    assert tree.find("h1").text() == dashboard_config()["title_en"]
    assert tree.by_id("card-staffing").find("h2").text().startswith(CHARTS["staffing"]["title_en"])


async def test_unsafe_eval_only_on_the_chart_pages(datasette):
    def csp(response):
        return response.headers["content-security-policy"]

    dashboard = await datasette.client.get("/-/dashboards/drugbeleid")
    assert "'unsafe-eval'" in csp(dashboard)
    for path in ["/", "/examples", "/drugbeleid", "/drugbeleid/caseload", "/drugbeleid?sql=select+1"]:
        response = await datasette.client.get(path)
        assert "'unsafe-eval'" not in csp(response), path
        assert "script-src 'self' 'unsafe-inline'" in csp(response)


# ---------------------------------------------------------------- friendly SQL errors


async def friendly(datasette, query: str, lang: str = "nl", status: int = 400):
    path = "/drugbeleid?" + urlencode({"sql": query, **({"_lang": "en"} if lang == "en" else {})})
    response, tree = await page(datasette, path, status)
    box = tree.by_id("friendly-error")
    assert box is not None, response.text[:1000]
    return box


async def test_unknown_table_suggests_the_real_one_and_keeps_datasettes_message(datasette):
    box = await friendly(datasette, "select * from caseloads")
    assert "caseloads" in box.find("p").text()
    suggestion = box.find("a", cls="suggestion")
    assert suggestion.text() == "caseload"
    assert "no such table: caseloads" in box.text()
    fixed = await datasette.client.get(suggestion.attrs["href"])
    assert fixed.status_code == 200 and "rows-and-columns" in fixed.text
    english = await friendly(datasette, "select * from caseloads", lang="en")
    assert "There is no table" in english.text() and "Did you mean" in english.text()


async def test_unknown_column_suggests_a_column_and_lists_the_table_columns(datasette):
    box = await friendly(datasette, "select yeer, dossiers from caseload")
    assert box.find("a", cls="suggestion").text() == "year"
    box = await friendly(datasette, "select c.jaar from caseload c")
    assert "Kolommen van caseload" in box.text() and "period_complete" in box.text()


async def test_syntax_errors_point_to_the_token_or_the_end(datasette):
    assert "“year”" in (await friendly(datasette, "select * from caseload wher year = 2021")).text()
    assert "houdt onverwacht op" in (await friendly(datasette, "select * from caseload where")).text()
    assert "SELECT" in (await friendly(datasette, "selec * from caseload")).text()


async def test_the_time_limit_is_explained_and_the_sql_kept_for_editing(datasette):
    slow = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
    datasette._settings["sql_time_limit_ms"] = 50  # the served limit is 1 s; the same path, faster
    response = await datasette.client.get("/drugbeleid?" + urlencode({"sql": slow}))
    assert response.status_code == 400
    tree = parse(response.text)
    assert "1 seconde" in tree.by_id("friendly-error").text()
    assert tree.find("textarea", name="sql").text() == slow


async def test_too_many_queries_at_once_is_a_page_saying_wait_and_retry(built):
    metadata = built_metadata(built)
    guard = metadata["plugins"]["drugbeleid"]["sql_guard"]
    guard.update({"adhoc_concurrency": 0, "adhoc_queue_seconds": 0.05})  # every visitor query waits, then 429
    busy = in_process(built, settings=None, metadata=metadata)
    response = await busy.client.get("/drugbeleid?sql=select+1&_lang=en")
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/html") and "retry-after" in response.headers
    tree = parse(response.text)
    assert "Wait a few seconds" in tree.by_id("friendly-error").text()
    assert tree.find("textarea", name="sql").text() == "select 1"
    as_json = await busy.client.get("/drugbeleid.json?sql=select+1")  # programs keep the JSON error
    assert as_json.status_code == 429 and as_json.json()["status"] == 429
