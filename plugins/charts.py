"""Text alternatives and links for the charts of datasette-dashboards (/-/dashboards/drugbeleid).

templates/dashboard_view.html shows, under each chart, its figures as a table, its query in the
SQL editor and its CSV. The table is computed here, on the server, by the chart's own query, so it
is there without JavaScript and always shows the same numbers as the chart. The charts themselves
are configured in metadata.yml (plugins.datasette-dashboards), each in both languages: `query` and
`display` in Dutch, `query_en` and `display_en` in English (category labels, axis titles, legends,
and the column names of the data table and the tooltips). `in_language` gives the chart of the
page's language, for the figures here and for the chart itself (templates/dashboard_view.html).
"""
from __future__ import annotations

from urllib.parse import urlencode

from datasette import hookimpl

from serve.shared import chart_in_language as in_language
from serve.shared import language_of

CHART_TEMPLATES = {"dashboard_view.html"}


async def chart_data(datasette, dashboard: dict, lang: str = "nl") -> dict:
    tables = {}
    for slug, chart in dashboard.get("charts", {}).items():
        chart = in_language(chart, lang)
        if not chart.get("query") or not chart.get("db"):
            continue
        result = await datasette.get_database(chart["db"]).execute(chart["query"])
        sql = urlencode({"sql": chart["query"]})
        tables[slug] = {
            "columns": result.columns,
            "rows": [list(row) for row in result.rows],
            "sql_url": f"/{chart['db']}?{sql}",
            "csv_url": f"/{chart['db']}.csv?{sql}&_size=max&_dl=1",  # _dl: served as text/csv, a download
        }
    return tables


@hookimpl
def extra_template_vars(template, request, datasette):
    if template not in CHART_TEMPLATES or request is None:
        return {}

    async def inner():
        config = datasette.plugin_config("datasette-dashboards") or {}
        dashboard = config.get(request.url_vars.get("slug", ""), {})
        lang = language_of(request)
        return {"chart_data": await chart_data(datasette, dashboard, lang),
                "charts_in_language": {slug: in_language(chart, lang) for slug, chart in dashboard.get("charts", {}).items()}}

    return inner
