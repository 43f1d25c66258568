"""The proxy's error pages, rendered by the site: /-/proxy-error/<status>[.json]?_lang=en.

nginx (deploy/nginx.conf) answers some requests itself: a Host header that is not one of the site's
names (421), a visitor's SQL beyond the per-client rate limit (429), and any page while no worker
answers (503). Those answers must look like the site's
own errors: Datasette's error page in the site's template and the page's language, or the site's
JSON error object on JSON (and CSV) URLs. `make serve-prod` (serve/prod.py) fetches these pages from
a worker when it starts and nginx serves them as files, so they are there even when every worker
is down. The wording is in the message catalogues (locale/).
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from serve.i18n import gettext
from serve.shared import language_of


def messages(status: int, lang: str) -> tuple[str, str] | None:
    """(title, message) of a status nginx answers itself, in `lang` (locale/)."""
    if status == 421:
        return (
            gettext("Unknown host name", lang),
            gettext("This server does not answer requests for this host name. Use the site's own address.", lang),
        )
    if status == 429:
        return (
            gettext("Too many queries", lang),
            gettext(
                "You sent too many SQL queries (?sql= or _where=) in a short time. Wait a few seconds and try again.",
                lang,
            ),
        )
    if status == 503:
        return (
            gettext("Temporarily unavailable", lang),
            gettext("The server is not answering at this moment. Try again in a few moments.", lang),
        )
    return None


async def proxy_error(datasette, request):
    status = int(request.url_vars["status"])
    found = messages(status, language_of(request))
    if found is None:
        raise NotFound(f"No proxy error page for status {status}")
    title, message = found
    headers = {"Cache-Control": "no-store"}
    if request.url_vars.get("format") == "json":
        return Response.json(
            {"ok": False, "error": message, "status": status, "title": title}, status=status, headers=headers
        )
    html = await datasette.render_template(
        "error.html",
        {"ok": False, "error": message, "status": status, "title": title, "in_page_language": True},
        request=request,
    )
    return Response.html(html, status=status, headers=headers)


@hookimpl
def register_routes():
    return [(r"^/-/proxy-error/(?P<status>\d{3})(\.(?P<format>json))?$", proxy_error)]
