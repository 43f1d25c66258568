"""The site as a person uses it: Debian's Chromium (headless, driven by Playwright) against the real
`make serve` on 127.0.0.1. Every test fails on a request that leaves 127.0.0.1, on a console error
and on an uncaught script error; every page visited is screenshotted into
build/test-artifacts/screenshots/ (tests/browser/harness.py; what each test sees: docs/browser-tests.md).

Expected values come from the database itself (sqlite3 on build/drugbeleid.db, the file the server
serves) or from the written-once texts (metadata.yml), never from the pages under test.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from serve import i18n
from .browser.harness import PHONE, ROOT, Visitor, chromium, live_site, normalise, sql, visitor  # noqa: F401
from .conftest import PACKAGE

SITE = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))


def folded(text: str) -> str:
    """Case and diacritics ignored, as the site's search does: what a person would call 'the same word'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return normalise("".join(c for c in decomposed if not unicodedata.combining(c))).casefold()


def number_in(text: str, lang: str) -> float:
    """The one number in a key figure as printed, in the page's language (1.234,5 or 1,234.5)."""
    found = re.findall(r"\d[\d.,\u202f\u00a0 ]*\d|\d", text)
    assert len(found) == 1, f"expected one number in {text!r}, found {found}"
    digits = re.sub(r"[\u202f\u00a0 ]", "", found[0])
    thousands, decimal = (".", ",") if lang == "nl" else (",", ".")
    return float(digits.replace(thousands, "").replace(decimal, "."))


def headings(page) -> list[int]:
    return page.eval_on_selector_all(
        "h1, h2, h3, h4, h5, h6", "els => els.filter(e => e.checkVisibility()).map(e => Number(e.tagName[1]))"
    )


# ---------------------------------------------------------------------------------------------
# 1. Home page: key figures equal to the database, each linked to a page that shows it
# ---------------------------------------------------------------------------------------------

# The key figures the home page states, each answered here with the test's own SQL, and how the page
# the figure links to ("source rows") shows it to a person: the value in a column, the rows that sum
# to it, or as many rows as it counts. A new key figure without an entry here fails the test.
KEY_FIGURES = {
    "dossiers-complete-years": ("select sum(dossiers) from caseload where period_complete = 1", "sum", "dossiers"),
    "fte-total": ("select sum(fte) from staffing", "sum", "fte"),
    "recidivism": ("select value from statistics where id = 'recidivism-dbk-group'", "value", "value"),
    "drug-courts": ("select count(*) from drug_courts", "count", None),
    "prison-drug-use": ("select value from statistics where id = 'prevalence-lifetime-illegal-drug'", "value", "value"),
    "recommendations": ("select count(*) from recommendations where kind = 'recommendation'", "count", None),
}
# A key figure shown as a list: one value per justice house, in the last complete year; each item
# links to its row, the figure's source link to all of them.
KEY_FIGURE_LISTS = {
    "dossiers-last-complete-year": (
        "select c.dossiers from caseload c join justice_houses j on j.id = c.justice_house_id "
        "where j.name = ? and c.year = (select max(year) from caseload where period_complete = 1)",
        "select dossiers from caseload where justice_house_id || ',' || year = ?",
        "dossiers",
    ),
}


def cells(page, column: str) -> list[float]:
    """The numbers a Dutch Datasette table or row page shows in `column` (a decimal comma)."""
    return [
        float(t.replace(",", "."))
        for t in page.locator(f"table.rows-and-columns td.col-{column}").all_inner_texts()
        if t.strip()
    ]


def source_page_shows(page, figure: str, values: list[float], how: str, column: str | None) -> None:
    page.locator("table.rows-and-columns, dl.record-card").first.wait_for()
    if page.locator("dl.record-card").count():  # a row page: its record card shows the value
        shown = page.locator(f"dl.record-card dd[data-column='{column}']").inner_text()
        assert float(re.findall(r"\d+(?:,\d+)?", shown)[0].replace(",", ".")) == values[0], (
            f"{figure}: {page.url} shows {shown!r}"
        )
        return
    if how == "sum":
        shown = cells(page, column)
        assert round(sum(shown), 2) == values[0], (
            f"{figure}: the rows of {page.url} add up to {sum(shown)}, not {values[0]}"
        )
    elif how == "count":
        shown = page.locator("table.rows-and-columns tbody tr").count()
        assert shown == values[0], f"{figure}: {page.url} lists {shown} rows, not {values[0]}"
    else:
        missing = set(values) - set(cells(page, column))
        assert not missing, f"{figure}: {page.url} does not show {missing} in {column}"


def test_home_page_shows_key_figures_equal_to_the_database(visitor: Visitor):
    page = visitor.page
    visitor.open("/", "home", full_page=True)
    h1 = page.locator("h1")
    assert h1.is_visible() and h1.inner_text().strip()
    figures = page.locator("#key-figures .key-figure")
    seen = {}
    for i in range(figures.count()):
        figure = figures.nth(i)
        assert figure.is_visible()
        name = figure.get_attribute("id").removeprefix("figure-")
        if name in KEY_FIGURE_LISTS:
            by_label, by_row, column = KEY_FIGURE_LISTS[name]
            items = figure.locator("li")
            assert items.count() >= 1
            values = []
            for j in range(items.count()):
                label = items.nth(j).locator("a").inner_text()
                shown = number_in(items.nth(j).locator(".value-item").inner_text(), "nl")
                ((expected,),) = sql(by_label, label)
                assert shown == expected, f"{name} / {label}: the page shows {shown}, the database gives {expected}"
                row_key = items.nth(j).locator("a").get_attribute("href").split("?")[0].rsplit("/", 1)[1]
                assert sql(by_row, row_key) == [(shown,)], f"{name} / {label} links to another row: {row_key}"
                values.append(shown)
            seen[name] = (values, "value", column)
        else:
            assert name in KEY_FIGURES, f"key figure {name!r} has no independent SQL in this test"
            query, how, column = KEY_FIGURES[name]
            ((expected,),) = sql(query)
            shown = number_in(figure.locator(".value").inner_text(), "nl")
            assert shown == round(expected, 2), f"{name}: the page shows {shown}, the database gives {expected}"
            seen[name] = ([shown], how, column)
    assert set(seen) == set(KEY_FIGURES) | set(KEY_FIGURE_LISTS), f"key figures changed: {sorted(seen)}"
    # each figure's source link, clicked, opens a page that shows it (or the rows that make it)
    for name, (values, how, column) in seen.items():
        with visitor.navigates(f"source-of-{name}"):
            page.locator(f"[id='figure-{name}'] a.source").click()
        source_page_shows(page, name, values, how, column)
        page.go_back()
        figures.first.wait_for()
    print("key figures:", {name: values for name, (values, *_) in seen.items()})


# ---------------------------------------------------------------------------------------------
# 2. Language switch, clicked
# ---------------------------------------------------------------------------------------------


def switch_language(visitor: Visitor, to: str) -> None:
    page = visitor.page
    switch = page.locator("#language-switch")
    assert switch.is_visible()
    assert switch.get_attribute("hreflang") == to
    with visitor.navigates(f"switched-to-{to}"):
        switch.click()
    assert page.get_attribute("html", "lang") == to


def test_language_switch_on_the_home_page_and_a_table_page(visitor: Visitor):
    page = visitor.page
    visitor.open("/", "home-nl")
    assert page.get_attribute("html", "lang") == "nl"
    dutch_h1 = page.locator("h1").inner_text()
    assert "geen personen" in page.locator("main").inner_text()

    switch_language(visitor, "en")
    assert "_lang=en" in page.url
    assert page.locator("h1").inner_text() != dutch_h1
    main = page.locator("main").inner_text()
    assert "not persons" in main and "geen personen" not in main
    nav = page.locator("nav.site-nav").inner_text()
    for word in ("Home", "Charts", "Example questions"):
        assert word in nav, f"the English navigation lacks {word!r}"

    switch_language(visitor, "nl")
    assert page.locator("h1").inner_text() == dutch_h1

    # a Datasette table page: its description is the page language's (the schema's description_nl, description)
    caseload = next(r for r in PACKAGE["resources"] if r["name"] == "caseload")
    visitor.open("/drugbeleid/caseload", "caseload-nl")
    description = page.locator(".metadata-description")
    assert normalise(description.inner_text()) == normalise(caseload["description_nl"])
    switch_language(visitor, "en")
    assert "/drugbeleid/caseload" in page.url
    assert normalise(description.inner_text()) == normalise(caseload["description"])
    switch_language(visitor, "nl")
    assert normalise(description.inner_text()) == normalise(caseload["description_nl"])


# ---------------------------------------------------------------------------------------------
# 3. Charts: drawn, with marks, linked to their query and CSV
# ---------------------------------------------------------------------------------------------

# What a chart has drawn. SVG: Vega's data marks (g.role-mark) as elements. Canvas (vega-embed's
# default): no elements, so the painted pixels are counted; zero means an empty chart.
MARKS_JS = """chart => {
  const svg = chart.querySelector('.vega-embed svg');
  if (svg) return {kind: 'svg', marks: svg.querySelectorAll('g.role-mark > *').length};
  const canvas = chart.querySelector('.vega-embed canvas');
  if (!canvas || !canvas.width || !canvas.height) return {kind: 'none', marks: 0};
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return {kind: 'canvas', marks: painted, width: canvas.width, height: canvas.height};
}"""


def wait_for_charts(page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('.dashboard-card-chart')].every("
        "  c => c.querySelector('.vega-embed svg g.role-mark') || c.querySelector('.vega-embed canvas'))"
    )


def test_every_chart_is_drawn_and_links_to_its_query_and_csv(visitor: Visitor):
    page = visitor.page
    visitor.open("/-/dashboards/drugbeleid", "charts", ready=wait_for_charts)
    cards = page.locator(".dashboard-card")
    assert cards.count() >= 5, f"{cards.count()} charts; the issue asks for five"
    drawn = {}
    for i in range(cards.count()):
        card = cards.nth(i)
        chart = card.locator(".dashboard-card-chart")
        name = chart.get_attribute("id")
        page.wait_for_function(f"chart => ({MARKS_JS})(chart).marks > 0", arg=chart.element_handle())
        found = chart.evaluate(MARKS_JS)
        found["rows"] = card.locator(".chart-data tbody tr").count()
        if found["kind"] == "svg":  # every row of the chart's figures is drawn (layers may add marks)
            assert found["marks"] >= found["rows"] >= 1, f"{name}: {found}"
        assert card.locator("a.chart-sql").count() == 1, f"{name} has no link to its query"
        assert card.locator("a.chart-csv").count() == 1, f"{name} has no link to its CSV"
        drawn[name] = found
    visitor.assert_clean()
    print("charts drawn:", drawn)

    # the first chart's CSV link, clicked: a .csv file arrives, with the rows of the chart's own
    # figures table; the same URL is served as text/csv
    card = cards.first
    table_rows = card.locator(".chart-data tbody tr").count()
    csv_link = card.locator("a.chart-csv")
    with page.expect_download() as download:
        csv_link.click()
    assert download.value.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) - 1 == table_rows >= 1, f"CSV {len(rows) - 1} rows, the chart's table {table_rows}"
    response = page.request.get(visitor.url(csv_link.get_attribute("href")))
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv"), response.headers["content-type"]

    # and its query opens in the SQL editor with the same rows
    with visitor.navigates("chart-query"):
        card.locator("a.chart-sql").click()
    assert page.locator("table.rows-and-columns tbody tr").count() == table_rows


# ---------------------------------------------------------------------------------------------
# 4. Search with the keyboard
# ---------------------------------------------------------------------------------------------


def test_search_recidive_from_the_header_and_open_a_result(visitor: Visitor):
    page = visitor.page
    visitor.open("/", "home")
    page.locator("#site-search input[name=q]").click()
    page.keyboard.type("recidive")
    with visitor.navigates("search-recidive"):
        page.keyboard.press("Enter")
    assert "/search?" in page.url
    results = page.locator(".search-result")
    assert results.count() >= 1, "no results for recidive"
    marks = page.locator(".search-result mark")
    assert marks.count() >= results.count(), "a result without a highlighted term"
    assert {folded(m) for m in marks.all_inner_texts()} == {"recidive"}, marks.all_inner_texts()
    # a Dutch word form: the paragraph whose text says "recidiveert" (trigram search), shown once
    # with the rows that quote it under it
    places = page.locator(".search-result:has(.result-rows li + li)")
    inflected = places.filter(has_text=re.compile("recidiveert", re.I)).first
    assert inflected.count() == 1, "recidive did not find recidiveert"
    snippet = normalise(inflected.locator(".snippet").inner_text())

    with visitor.navigates("search-result-row"):
        inflected.locator("a.result-row").first.click()
    assert "recidiveert" in folded(page.locator("main").inner_text())
    page.go_back()
    results.first.wait_for()

    document_link = inflected.locator("a.result-document")
    anchor = document_link.get_attribute("href").split("#")[1]
    with visitor.navigates("search-result-document"):
        document_link.click()
    passage = page.locator(f"[id='{anchor}']")
    assert passage.is_visible() and passage.evaluate("e => e.matches(':target')")
    assert "recidiveert" in folded(passage.inner_text())
    assert snippet.strip("…. ")[:40] in normalise(passage.inner_text()), "the snippet is not in the passage"


# ---------------------------------------------------------------------------------------------
# 5. Provenance of a row
# ---------------------------------------------------------------------------------------------

ROW_WITH_QUOTE = """
    select t.{pk}, t.quote, q.passage_id, p.text, d.title, d.date, d.question_number, d.kind
    from {table} t
    join quote_locations q on q.table_name = '{table}' and q.row_key = {key} and q.column_name = 'quote'
    join passages p on p.id = q.passage_id
    join documents d on d.id = t.document_id
    -- a quote inside one longer paragraph, so that the highlight has text around it
    where q.line_end <= p.line_end and length(p.text) > length(t.quote) + 20
    order by 1 limit 1"""


def test_a_row_shows_its_quote_highlighted_in_its_passage_with_the_document(visitor: Visitor):
    page = visitor.page
    rows = {
        "statistics": sql(ROW_WITH_QUOTE.format(table="statistics", pk="id", key="t.id"))[0],
        # a composite primary key: the row URL is /drugbeleid/caseload/<justice_house_id>,<year>
        "caseload": sql(
            ROW_WITH_QUOTE.format(
                table="caseload", pk="justice_house_id || ',' || t.year", key="t.justice_house_id || ',' || t.year"
            )
        )[0],
    }
    for table, (key, quote, passage_id, passage_text, title, date, number, kind) in rows.items():
        visitor.open(f"/drugbeleid/{table}/{key}", f"{table}-{key}")
        provenance = page.locator("#provenance")
        assert provenance.is_visible(), f"no provenance block on the {table} row {key}"
        value = provenance.locator(".provenance-value[data-column=quote]")
        marked = value.locator("mark")
        assert marked.count() == 1 and marked.is_visible()
        assert normalise(marked.inner_text()) == normalise(quote)
        # the highlight stands inside the whole paragraph of the source, not on its own
        paragraph = value.locator(f"[id$='-{passage_id}']")
        assert normalise(paragraph.inner_text()) == normalise(passage_text)
        assert paragraph.locator("mark").count() == 1
        meta = normalise(value.locator(".meta").inner_text())
        assert normalise(title) in meta
        assert (date or "niet vermeld in de bron") in meta
        if kind == "written_question":
            assert str(number or "niet vermeld in de bron") in meta
        link = value.locator("a.provenance-document")
        assert link.get_attribute("href").endswith(f"#{passage_id}")
        with visitor.navigates(f"{table}-{key}-document"):
            link.click()
        target = page.locator(f"[id='{passage_id}']")
        assert target.evaluate("e => e.matches(':target')") and target.is_visible()
        assert normalise(quote) in normalise(target.inner_text())
    print("rows opened:", list(rows.values()))


# ---------------------------------------------------------------------------------------------
# 6. Example queries, run in the SQL editor; a wrong query gets a friendly hint
# ---------------------------------------------------------------------------------------------


def test_run_an_example_query_in_the_sql_editor_and_get_a_hint_for_a_wrong_one(visitor: Visitor):
    page = visitor.page
    visitor.open("/examples", "examples")
    examples = page.locator(".example-query")
    assert examples.count() >= 8
    first = examples.first
    title = first.locator("h2").inner_text()
    editor_link = first.locator("a.open-editor")
    assert "sql=" in editor_link.get_attribute("href")
    with visitor.navigates("example-in-editor"):
        editor_link.click()
    assert "/drugbeleid?" in page.url and "sql=" in page.url
    with visitor.navigates("example-run"):
        page.locator("form.sql input[type=submit]").click()
    rows = page.locator("table.rows-and-columns tbody tr")
    assert rows.count() >= 1, "the example query returned no rows"
    print(f"example {title!r}: {rows.count()} rows")

    # a person mistypes the table name in the editor and runs it
    page.locator(".CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("select * from caseloads")
    with visitor.navigates("wrong-query", status=400):
        page.locator("form.sql input[type=submit]").click()
    main = page.locator("main").inner_text()
    assert "caseloads" in main
    hint = page.locator(".friendly-error")
    assert hint.is_visible(), "no friendly explanation for a mistyped table"
    suggestion = f"{i18n.gettext('Did you mean', 'nl')} caseload?"  # the real table's name, as a question
    assert suggestion in normalise(hint.inner_text()), f"the hint does not suggest the real table: {hint.inner_text()}"


# ---------------------------------------------------------------------------------------------
# 7. Keyboard alone
# ---------------------------------------------------------------------------------------------

FOCUS_JS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e), r = e.getBoundingClientRect();
  return {id: e.id, tag: e.tagName.toLowerCase(), cls: e.className, text: (e.innerText || e.value || '').trim().slice(0, 40),
          inViewport: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0, shadow: s.boxShadow !== 'none'};
}"""


def tab_to(visitor: Visitor, wanted, limit: int = 40) -> dict:
    """Press Tab until `wanted(focus)` holds; every element on the way shows that it has the focus."""
    for _ in range(limit):
        visitor.page.keyboard.press("Tab")
        focus = visitor.page.evaluate(FOCUS_JS)
        assert focus is not None, "Tab left the page"
        assert focus["inViewport"] and (focus["outline"] or focus["shadow"]), f"focus not visible on {focus}"
        if wanted(focus):
            return focus
    raise AssertionError(f"not reached with {limit} Tabs")


def test_home_page_by_keyboard_alone(visitor: Visitor):
    page = visitor.page
    visitor.open("/", "home")
    first = tab_to(visitor, lambda f: True, limit=1)
    assert "skip-link" in first["cls"], f"the first Tab stop is not the skip link: {first}"
    visitor.snap("skip-link-focused")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    visitor.open("/", "home-again")
    tab_to(visitor, lambda f: f["id"] == "site-search-q")
    visitor.snap("search-box-focused")
    page.keyboard.type("kamer")
    with visitor.navigates("search-by-keyboard"):
        page.keyboard.press("Enter")
    assert page.locator(".search-result").count() >= 1

    visitor.open("/", "home-third")
    tab_to(visitor, lambda f: f["id"] == "language-switch")
    visitor.snap("language-switch-focused")
    with visitor.navigates("home-en-by-keyboard"):
        page.keyboard.press("Enter")
    assert page.get_attribute("html", "lang") == "en"


# ---------------------------------------------------------------------------------------------
# 8. Basic accessibility on every kind of page
# ---------------------------------------------------------------------------------------------

UNLABELLED_INPUTS_JS = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => !['hidden', 'submit', 'button', 'reset', 'image'].includes(e.type))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby') && !e.title)
  .map(e => e.outerHTML.slice(0, 120))"""

# Images and charts (Vega draws an SVG or a canvas) need a text alternative: their own label or
# title, or a caption, figures table or label on the chart's card or figure.
CHARTS_WITHOUT_TEXT_JS = """() => [...document.querySelectorAll('main img, .vega-embed svg, .vega-embed canvas, main figure svg, main figure canvas')]
  .filter(e => !e.closest('[aria-hidden=true]'))
  .filter(e => {
    if (e.tagName === 'IMG') return !e.hasAttribute('alt');
    if (e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.querySelector(':scope > title')) return false;
    const holder = e.closest('figure, .dashboard-card');
    return !(holder && (holder.getAttribute('aria-label') || holder.getAttribute('aria-labelledby')
                        || holder.querySelector('figcaption, table, .chart-caption')));
  })
  .map(e => (e.closest('[id]') || e).id || e.tagName)"""


def a11y_basics(page) -> list[str]:
    problems = []
    levels = headings(page)
    if levels.count(1) != 1:
        problems.append(f"{levels.count(1)} h1 elements")
    previous = 0
    for level in levels:
        if level > previous + 1:
            problems.append(f"heading h{level} after h{previous}")
        previous = level
    unlabelled = page.evaluate(UNLABELLED_INPUTS_JS)
    if unlabelled:
        problems.append(f"inputs without a label: {unlabelled}")
    silent = page.evaluate(CHARTS_WITHOUT_TEXT_JS)
    if silent:
        problems.append(f"images/charts without a text alternative: {silent}")
    if page.get_attribute("html", "lang") not in ("nl", "en"):
        problems.append("no lang on <html>")
    return problems


# Every kind of page a citizen reaches from the navigation, a search or an example.
A11Y_PAGES = {
    "home": "/",
    "home-en": "/?_lang=en",
    "charts": "/-/dashboards/drugbeleid",
    "examples": "/examples",
    "search": "/search?q=recidive",
    "documents": "/documents",
    "document": "/documents/{document_id}",
    "row": "/drugbeleid/statistics/{statistic_id}",
    "table": "/drugbeleid/caseload",
    "sql-editor": "/drugbeleid?sql=select+*+from+caseload",
    "canned-query": "/drugbeleid/caseload_by_year",
}


@pytest.mark.parametrize("kind", A11Y_PAGES)
def test_basic_accessibility(visitor: Visitor, kind: str):
    ((statistic_id,),) = sql("select id from statistics order by id limit 1")
    ((document_id,),) = sql("select id from documents order by id limit 1")
    path = A11Y_PAGES[kind].format(statistic_id=statistic_id, document_id=document_id)
    visitor.open(path, kind, ready=wait_for_charts if kind == "charts" else None)
    problems = a11y_basics(visitor.page)
    assert not problems, f"{path}: " + "; ".join(problems)


# ---------------------------------------------------------------------------------------------
# 375 px: a phone
# ---------------------------------------------------------------------------------------------


def test_pages_fit_a_375_px_screen(visitor: Visitor):
    """A phone: no page scrolls sideways (tables scroll inside their own box, as Datasette's do)."""
    ((statistic_id,),) = sql("select id from statistics order by id limit 1")
    ((document_id,),) = sql("select id from documents order by id limit 1")
    phone_pages = {
        "home": "/",
        "examples": "/examples",
        "charts": "/-/dashboards/drugbeleid",
        "search": "/search?q=recidive",
        "document": f"/documents/{document_id}",
        "row": f"/drugbeleid/statistics/{statistic_id}",
    }
    for label, path in phone_pages.items():
        visitor.open(
            path,
            f"phone-{label}",
            width=PHONE["width"],
            ready=wait_for_charts if label == "charts" else None,
            full_page=label in ("home", "charts"),
        )
        visitor.no_horizontal_scroll()
    # the home and chart pages at desktop width too, for the screenshots
    visitor.open("/", "desktop-home", width=1280, full_page=True)
    visitor.open("/-/dashboards/drugbeleid", "desktop-charts", width=1280, ready=wait_for_charts, full_page=True)


# ---------------------------------------------------------------------------------------------
# The harness itself: the checks every test relies on do catch what they claim to
# ---------------------------------------------------------------------------------------------


def test_the_harness_catches_cdn_requests_and_console_errors(visitor: Visitor):
    page = visitor.page
    visitor.open("/", "home")
    # on the site, a script from a CDN is refused by the Content Security Policy: a console error
    with page.expect_console_message(lambda m: m.type == "error" and "cdn.example.org" in m.text):
        page.evaluate("""() => {
            const script = document.createElement('script');
            script.src = 'https://cdn.example.org/library.js';
            document.head.appendChild(script);
        }""")
    with page.expect_console_message(lambda m: m.type == "error"):
        page.evaluate("console.error('an error a page logs')")
    try:
        visitor.assert_clean()
        raise RuntimeError("assert_clean let console errors pass")
    except AssertionError as caught:
        assert "cdn.example.org" in str(caught) and "an error a page logs" in str(caught)

    # without that policy (a blank page), the request itself is stopped before it leaves the machine
    page.goto("about:blank")
    with page.expect_event("requestfailed") as failed:
        page.set_content('<img src="https://cdn.example.org/logo.png" alt="">')
    assert failed.value.url == "https://cdn.example.org/logo.png"
    try:
        visitor.assert_clean()
        raise RuntimeError("assert_clean let a request to another host pass")
    except AssertionError as caught:
        assert "https://cdn.example.org/logo.png" in str(caught)
    visitor.last_snapped_url = page.url  # nothing to screenshot on a blank page


# ---------------------------------------------------------------------------------------------
# axe-core: WCAG 2.0 and 2.1, levels A and AA, on every kind of page, in both languages
# ---------------------------------------------------------------------------------------------

# axe-core from its npm package (tests/axe/package.json, exact version; `make test` installs it with
# npm ci). Playwright adds it to every page of the context as an init script: read from the local
# file, never fetched from a CDN or from the site under test.
AXE = ROOT / "tests" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN_JS = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(r => ({version: axe.version, violations: r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary.split('\\n').slice(1, 3).join(' '))}))}))"""

# Every kind of page: the site's own and Datasette's (table, row, database/SQL, canned query).
AXE_PAGES = {
    "home": "/",
    "charts": "/-/dashboards/drugbeleid",
    "examples": "/examples",
    "search": "/search?q=recidive",
    "documents": "/documents",
    "document": "/documents/vraag-69-2022",
    "database": "/drugbeleid",
    "table": "/drugbeleid/caseload",
    "table-facets": "/drugbeleid/events?_facet=kind&_facet=date_precision",
    # filters of several kinds, a search, an extra where clause, a next page
    "table-filters": "/drugbeleid/events?kind__in=law,decision&title_nl__notblank=1&_where=date+is+not+null"
    "&_search=wet&_size=2",
    # a date facet, on a column of full dates (one of years and months gets a 400: plugins/errors.py)
    "table-date-facet": "/drugbeleid/legal_references?_facet_date=gazette_date&date_precision=day",
    "row": "/drugbeleid/statistics/recidivism-dbk-group",
    "row-caseload": "/drugbeleid/caseload/antwerpen,2022",
    "row-passage": "/drugbeleid/passages/vraag-69-2022-016",
    "sql-editor": "/drugbeleid?sql=select+*+from+caseload",
    "canned-query": "/drugbeleid/caseload_by_year",
    "releases": "/releases",
    "release": "/releases/{version}/",
    "error": "/drugbeleid/nope",
}
EXPECTED_STATUS = {"error": 404}


def axe_violations(visitor: Visitor, path: str, label: str, status: int | None = None) -> tuple[str, list[dict]]:
    ready = wait_for_charts if label.startswith("charts") else None
    visitor.open(path, label, ready=ready, full_page=True, status=status)
    found = visitor.page.evaluate(AXE_RUN_JS, AXE_TAGS)
    return found["version"], found["violations"]


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("kind", AXE_PAGES)
def test_axe_finds_no_violation(visitor: Visitor, kind: str, lang: str):
    assert AXE.is_file(), f"{AXE} is missing: `make test` installs axe-core (npm ci in tests/axe)"
    visitor.page.context.add_init_script(path=str(AXE))
    newest_release = sorted(p.name for p in (ROOT / "releases").iterdir() if p.is_dir())[-1]
    path = AXE_PAGES[kind].format(version=newest_release)
    if lang == "en":
        path += ("&" if "?" in path else "?") + "_lang=en"
    version, violations = axe_violations(visitor, path, f"axe-{kind}-{lang}", EXPECTED_STATUS.get(kind))
    assert version == "4.14.1"
    assert not violations, (
        f"{path}: axe-core {version}, {sum(len(v['nodes']) for v in violations)} violating nodes:\n"
        + "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:8]) for v in violations
        )
    )


# ---------------------------------------------------------------------------------------------
# Dutch first, English too: each page shows the texts of its own language and not their twins
# ---------------------------------------------------------------------------------------------


def schema_of(table: str) -> dict:
    return json.loads((ROOT / "datasets" / "schemas" / f"{table}.json").read_text(encoding="utf-8"))


def twins_of(table: str) -> list[tuple[str, str, str]]:
    """(original, twin, twin language) of a table, from its schema (`twin_of`)."""
    schema = schema_of(table)
    return [(f["twin_of"], f["name"], f["language"]) for f in schema["fields"] if f.get("twin_of")]


# the source tables and the tables the build writes (data_quality: detail_nl)
TWIN_TABLES = [r["name"] for r in PACKAGE["resources"] + PACKAGE["generatedResources"] if twins_of(r["name"])]


def sample_rows(table: str) -> list[tuple[str, dict]]:
    """The first and the last row of a table (in its primary-key order) that have authored text in
    a language, with their texts, as the path of its row page and {column: text}. (A text with a
    twin can be NULL by design, as source_parts.no_facts_reason is for the parts that hold facts.)"""
    schema = schema_of(table)
    keys = schema.get("primaryKey") or ["rowid"]  # a table without one (data_quality): its rowid
    keys = keys if isinstance(keys, list) else [keys]
    columns = sorted({c for o, t, _ in twins_of(table) for c in (o, t)})
    order = ", ".join(f"[{k}]" for k in keys)
    authored = " or ".join(f"coalesce([{c}], '') != ''" for c in columns)
    rows = sql(
        f"select {order}, {', '.join(f'[{c}]' for c in columns)} from [{table}] where {authored} order by {order}"
    )
    picked = [rows[0], rows[-1]] if len(rows) > 1 else rows
    return [
        (
            "/drugbeleid/" + table + "/" + ",".join(str(v) for v in row[: len(keys)]),
            dict(zip(columns, row[len(keys) :])),
        )
        for row in picked
    ]


OWN_LANGUAGE_TEXT_JS = """lang => {
  const main = document.querySelector('main').cloneNode(true);
  main.querySelectorAll('[lang]').forEach(e => { if (e.getAttribute('lang') !== lang) e.remove(); });
  document.body.appendChild(main);
  const text = main.innerText;
  main.remove();
  return text;
}"""


@pytest.mark.parametrize("table", TWIN_TABLES)
def test_each_language_shows_its_own_texts_and_not_their_twins(visitor: Visitor, table: str):
    checked = 0
    for path, texts in sample_rows(table):
        for lang in ("nl", "en"):
            visitor.open(path + ("?_lang=en" if lang == "en" else ""), f"{table}-{lang}")
            assert visitor.page.get_attribute("html", "lang") == lang
            shown = normalise(visitor.page.locator("main").inner_text())
            # what the page says in its own language: without the parts marked as another language
            # (on an English page the Dutch quotes, which carry lang="nl")
            own_language = normalise(visitor.page.evaluate(OWN_LANGUAGE_TEXT_JS, lang))
            for original, twin, twin_lang in twins_of(table):
                own, other = (texts[twin], texts[original]) if twin_lang == lang else (texts[original], texts[twin])
                if not own:
                    continue
                assert normalise(own) in shown, f"{path} ({lang}) does not show its {lang} text {own!r}"
                # a twin may cite the source's own words ("By the end of 2016 ('Tegen eind 2016')")
                if normalise(other) not in normalise(own) and len(normalise(other)) > 12:
                    assert normalise(other) not in own_language, f"{path} ({lang}) shows the other language's {other!r}"
                checked += 1
    assert checked, f"no authored text checked in {table}"


def test_column_menus_by_keyboard(visitor: Visitor):
    """Datasette's column menus open from a named button, with Tab and Enter, in the page's language."""
    page = visitor.page
    visitor.open("/drugbeleid/caseload", "caseload-menus")
    icon = page.locator("th svg.dropdown-menu-icon").first
    assert icon.get_attribute("role") == "button" and icon.get_attribute("tabindex") == "0"
    assert icon.get_attribute("aria-label").startswith(i18n.gettext("Column menu", "nl"))
    icon.focus()
    page.keyboard.press("Enter")
    menu = page.locator("body > .dropdown-menu")
    assert menu.is_visible()
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == i18n.gettext("Sort ascending", "nl")
    visitor.snap("caseload-menu-open")
    page.keyboard.press("Escape")
    assert not menu.is_visible()
    assert page.evaluate("document.activeElement.getAttribute('role')") == "button"


# ---------------------------------------------------------------------------------------------
# Datasette's own words in the page's language: table, row, database, SQL and canned-query pages
# ---------------------------------------------------------------------------------------------

from .catalogue_words import operators, phrases, shown  # noqa: E402

# Pages that show as much of Datasette's chrome as this site can: filters of several kinds, search,
# a sort, an extra where clause, a date facet, a hidden column, a next page; a row; the database
# page; the SQL editor with a parameter, with its SQL hidden and with no result; canned queries.
CHROME_PAGES = {
    "table-filters": "/drugbeleid/events?kind__in=law,decision&title_nl__notblank=1&_where=date+is+not+null"
    "&_sort_desc=date&_nocol=end_date&_size=2",
    "table-date-facet": "/drugbeleid/legal_references?_facet_date=gazette_date&date_precision=day",
    "table-search": "/drugbeleid/passages?_search=recidive&document_id__contains=69&ordinal__gt=1",
    "table-facets": "/drugbeleid/caseload?justice_house_id=gent",
    "data-quality": "/drugbeleid/data_quality?status=warning",
    "row": "/drugbeleid/caseload/gent,2021",
    "row-statistic": "/drugbeleid/statistics/recidivism-dbk-group",
    "database": "/drugbeleid",
    "sql-parameter": "/drugbeleid?sql=select+*+from+caseload+where+year+%3D+%3Ayear&year=2021",
    "sql-hidden": "/drugbeleid?sql=select+*+from+caseload+where+year+%3D+%3Ayear&year=1900&_hide_sql=1",
    "canned-query": "/drugbeleid/caseload_by_year",
    "canned-query-hidden": "/drugbeleid/caseload_by_year?_hide_sql=1",
}

# What a person reads of Datasette's chrome: the visible text, the window title, the names and
# tooltips, the buttons and every choice of the selects. Data is left out (table cells, the record
# card's values, SQL, code), and so are the column names (in the filter and sort selects, the
# heading's description of the filters), which are the same in both languages.
CHROME_TEXT_JS = """() => {
  const data = 'td, dd, pre, code, textarea, .CodeMirror, script, style';
  const sql = document.querySelector('form.sql [name=sql], #sql-query');  // the SQL editor's page title is its SQL
  const query = sql ? (sql.value || sql.textContent) : '';
  const texts = [query ? document.title.split(/\\s+/).join(' ').replace(query.split(/\\s+/).join(' '), '') : document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(data) || parent.closest('option')) continue;
    if (!parent.checkVisibility() && !parent.closest('body > .dropdown-menu')) continue;
    if (node.textContent.trim()) texts.push(node.textContent.trim());
  }
  for (const e of document.querySelectorAll('[title], [aria-label], [placeholder], [alt], input[type=submit], input[type=button]')) {
    if (e.matches('a.not-underlined')) continue;  // its tooltip is the SQL
    for (const a of ['title', 'aria-label', 'placeholder', 'alt']) if (e.getAttribute(a)) texts.push(e.getAttribute(a));
    if (e.matches('input[type=submit], input[type=button]')) texts.push(e.value);
  }
  for (const o of document.querySelectorAll('select:not([name^="_filter_column"]) option')) texts.push(o.textContent.trim());
  return texts;
}"""


def column_names() -> list[str]:
    """Every table and column name of the database, longest first (cut out of the chrome's text)."""
    tables = [t for (t,) in sql("select name from sqlite_master where type = 'table'")]
    names = set(tables) | {c for t in tables for (c,) in sql(f"select name from pragma_table_info('{t}')")}
    return sorted(names, key=len, reverse=True)


def english_chrome(texts: list[str]) -> list[str]:
    names = re.compile(r"(?<![\w])(" + "|".join(re.escape(n) for n in column_names()) + r")(?![\w])")
    found = []
    for text in texts:
        text = names.sub("·", normalise(text))
        found += [f"{phrase!r} in {text[:100]!r}" for phrase in phrases() if shown(phrase, text)]
    return found


def open_column_menu(visitor: Visitor, column: str) -> None:
    """Open a column's menu as a person does with the keyboard (table.js writes its type line then)."""
    icon = visitor.page.locator(f"th[data-column='{column}'] svg.dropdown-menu-icon")
    icon.focus()
    visitor.page.keyboard.press("Enter")
    assert visitor.page.locator("body > .dropdown-menu").is_visible()


@pytest.mark.parametrize("kind", CHROME_PAGES)
def test_dutch_pages_show_none_of_datasettes_english(visitor: Visitor, kind: str):
    """Every English message of our templates and of the column menu (the messages of the catalogue,
    tests/catalogue_words.py) is Dutch on a Dutch page."""
    path = CHROME_PAGES[kind]
    visitor.open(path, f"chrome-{kind}-nl", full_page=True)
    page = visitor.page
    assert page.get_attribute("html", "lang") == "nl"
    if page.locator("th svg.dropdown-menu-icon").count():
        open_column_menu(
            visitor,
            page.locator("th[data-column-type='text'] svg.dropdown-menu-icon").first.evaluate(
                "icon => icon.closest('th').dataset.column"
            ),
        )
        visitor.snap(f"chrome-{kind}-nl-menu")
        assert (
            page.locator("body > .dropdown-menu .dropdown-column-type")
            .inner_text()
            .startswith(i18n.gettext("Type: {type}", "nl").split("{type}")[0])
        )
    found = english_chrome(page.evaluate(CHROME_TEXT_JS))
    assert not found, f"{path} (nl) shows Datasette's English:\n" + "\n".join(found)


FILTER_OPTIONS_JS = """() => [...document.querySelectorAll('select[name^="_filter_op"] option')]
  .map(o => [o.value.replace(/__1$/, ''), o.textContent.trim()])"""


def test_filter_choices_in_each_language_with_datasettes_values(visitor: Visitor):
    """The filter's comparisons are Dutch on a Dutch page and Datasette's English on an English one;
    their values, and so the URLs they make, are Datasette's in both, and a Dutch filter works."""
    page = visitor.page
    english_labels = operators()
    dutch_labels = {key: i18n.gettext(display, "nl") for key, display in english_labels.items()}
    for lang in ("nl", "en"):
        visitor.open("/drugbeleid/events" + ("?_lang=en" if lang == "en" else ""), f"filter-choices-{lang}")
        options = page.evaluate(FILTER_OPTIONS_JS)
        assert {key for key, _ in options} >= set(english_labels), "a filter of Datasette is missing"
        for key, text in options:
            if key in english_labels:
                expected = dutch_labels[key] if lang == "nl" else english_labels[key]
                assert text == expected, f"{lang}: the choice {key} reads {text!r}, not {expected!r}"
    # a person filters the Dutch page: "Titel bevat Gent", Apply
    visitor.open("/drugbeleid/events", "filter-nl")
    page.select_option("select[name='_filter_column']", "title_nl")
    page.select_option("select[name='_filter_op']", "contains")
    assert page.locator("select[name='_filter_op'] option:checked").inner_text() == dutch_labels["contains"]
    page.fill("input[name='_filter_value']", "Gent")
    with visitor.navigates("filter-nl-applied"):
        page.locator("form.filters input[type=submit]").click()
    assert "title_nl__contains=Gent" in page.url
    shown_titles = page.locator("td.col-title_nl").all_inner_texts()
    expected = sql("select count(*) from events where title_nl like '%Gent%'")[0][0]
    assert len(shown_titles) == expected > 0 and all("Gent" in t for t in shown_titles)
    heading = normalise(page.locator("main h2").first.inner_text())
    assert heading == f'{expected} rijen waarvoor geldt: title_nl bevat "Gent", gesorteerd op date', heading


def test_data_quality_in_the_page_language(visitor: Visitor):
    """The build's report reads in the page's language: detail_nl on Dutch pages, detail on English ones."""
    page = visitor.page
    rows = sql("select detail, detail_nl from data_quality order by rowid")
    assert rows and all(nl and nl != en for en, nl in rows)
    for lang, shown_column, hidden_column in (("nl", "detail_nl", "detail"), ("en", "detail", "detail_nl")):
        visitor.open(
            "/drugbeleid/data_quality?_size=max" + ("&_lang=en" if lang == "en" else ""), f"data-quality-{lang}"
        )
        cells = [normalise(t) for t in page.locator(f"td.col-{shown_column}").all_inner_texts()]
        index = 0 if shown_column == "detail" else 1
        assert cells == [normalise(r[index]) for r in rows]
        assert page.locator(f"td.col-{hidden_column}").count() == 0
        main = normalise(page.locator("main").inner_text())
        other = [r[1 - index] for r in rows if normalise(r[1 - index]) not in main]
        assert len(other) == len(rows), f"{lang}: the other language's detail is shown"
