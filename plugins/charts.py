"""Text alternatives and links for the charts of datasette-dashboards (/-/dashboards/drugbeleid).

templates/dashboard_view.html shows, under each chart, its figures as a table, its query in the
SQL editor and its CSV. The table is computed here, on the server, by the chart's own query, so it
is there without JavaScript and always shows the same numbers as the chart. The charts are written
in content/charts.yml and reach Datasette's configuration through the build (scripts/content.py):
one `query` for both languages, which returns a column of our words in English (`track`) and in
Dutch (`track_nl`); `display` in Dutch and `display_en` in English (axis titles, legends,
tooltips); `columns`, the labels of the data table's columns. `in_language` gives the chart of the
page's language, for the figures here and for the chart itself (templates/dashboard_view.html).
"""

from __future__ import annotations

from urllib.parse import urlencode

from datasette import hookimpl

from serve.shared import chart_in_language as in_language
from serve.shared import dashboards, language_of, text_in

CHART_TEMPLATES = {"dashboard_view.html"}


def shown_columns(columns: list[str], lang: str) -> list[int]:
    """The positions of the columns a page in `lang` shows: of a column and its Dutch twin
    (`track`, `track_nl`), the one of the page's language."""
    names = set(columns)
    if lang == "nl":
        return [i for i, c in enumerate(columns) if f"{c}_nl" not in names]
    return [i for i, c in enumerate(columns) if not (c.endswith("_nl") and c[:-3] in names)]


def column_heading(chart: dict, column: str, lang: str) -> str:
    """A column's label in `lang` from the chart's `columns`; a Dutch twin takes its original's."""
    base = column[:-3] if column.endswith("_nl") else column
    labels = (chart.get("columns") or {}).get(base)
    return (text_in(labels, "label", lang) if labels else None) or column


async def chart_data(datasette, dashboard: dict, lang: str = "nl") -> dict:
    tables = {}
    for slug, chart in dashboard.get("charts", {}).items():
        chart = in_language(chart, lang)
        if not chart.get("query") or not chart.get("db"):
            continue
        result = await datasette.get_database(chart["db"]).execute(chart["query"])
        shown = shown_columns(result.columns, lang)
        sql = urlencode({"sql": chart["query"]})
        tables[slug] = {
            "columns": [column_heading(chart, result.columns[i], lang) for i in shown],
            "rows": [[row[i] for i in shown] for row in result.rows],
            "sql_url": f"/{chart['db']}?{sql}",
            "csv_url": f"/{chart['db']}.csv?{sql}&_size=max&_dl=1",  # _dl: served as text/csv, a download
        }
    return tables


@hookimpl
def extra_template_vars(template, request, datasette):
    if template not in CHART_TEMPLATES or request is None:
        return {}

    async def inner():
        config = dashboards(datasette)
        dashboard = config.get(request.url_vars.get("slug", ""), {})
        lang = language_of(request)
        return {
            "chart_data": await chart_data(datasette, dashboard, lang),
            "charts_in_language": {
                slug: in_language(chart, lang) for slug, chart in dashboard.get("charts", {}).items()
            },
        }

    return inner
