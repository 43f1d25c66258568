"""/examples: the example questions for citizens, each a canned query of metadata.yml, shown with
its plain-language explanation and SQL and links to run it: the SQL editor (ready to run and adapt),
the canned query's own page and its CSV. Which queries, in which order: content/examples.yml.
"""

from __future__ import annotations

from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

from serve.shared import DATABASE, language_of, plugin_config


def example(name: str, query: dict, lang: str) -> dict:
    """One example in the page's language. Its SQL is written once for both languages: a question
    that returns our texts returns both twins (title_nl and title), so every page runs the same query."""
    base = f"/{DATABASE}"
    sql = query["sql"]
    return {
        "name": name,
        "title": (query.get("title_en") if lang == "en" else None) or query.get("title", name),
        "description": query.get(f"description_{lang}") or query.get("description", ""),
        "sql": sql,
        "editor_url": f"{base}?{urlencode({'sql': sql})}",
        "query_url": f"{base}/{name}",
        "csv_url": f"{base}/{name}.csv?_dl=1",  # _dl: served as text/csv, a download
        "xlsx_url": f"{base}/{name}.xlsx",
    }


async def examples_page(datasette, request):
    lang = language_of(request)
    queries = await datasette.get_canned_queries(DATABASE, request.actor)
    names = plugin_config(datasette).get("examples", [])
    examples = [example(name, queries[name], lang) for name in names]
    return Response.html(await datasette.render_template("examples.html", {"examples": examples}, request=request))


@hookimpl
def register_routes():
    return [(r"^/examples$", examples_page)]
