"""/examples: the example questions for citizens, each a canned query of metadata.yml, shown with
its plain-language explanation and SQL and links to run it: the SQL editor (ready to run and adapt),
the canned query's own page and its CSV. Which queries, in which order: plugins.drugbeleid.examples.
"""
from __future__ import annotations

from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

from serve.shared import language_of

DATABASE = "drugbeleid"


def example(name: str, query: dict, lang: str) -> dict:
    base = f"/{DATABASE}"
    return {
        "name": name,
        "title": query.get("title", name),
        "description": query.get(f"description_{lang}") or query.get("description", ""),
        "sql": query["sql"],
        "editor_url": f"{base}?{urlencode({'sql': query['sql']})}",
        "query_url": f"{base}/{name}",
        "csv_url": f"{base}/{name}.csv?_dl=1",  # _dl: served as text/csv, a download
    }


async def examples_page(datasette, request):
    lang = language_of(request)
    queries = await datasette.get_canned_queries(DATABASE, request.actor)
    names = (datasette.plugin_config("drugbeleid") or {}).get("examples", [])
    examples = [example(name, queries[name], lang) for name in names]
    return Response.html(await datasette.render_template("examples.html", {"examples": examples}, request=request))


@hookimpl
def register_routes():
    return [(r"^/examples$", examples_page)]
