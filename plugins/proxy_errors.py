"""The proxy's error pages, rendered by the site: /-/proxy-error/<status>[.json]?_lang=en.

nginx (deploy/nginx.conf) answers some requests itself: a Host header that is not one of the site's
names (421), a visitor's SQL beyond the per-client rate limit (429), and any page while no worker
answers (503). Those answers must look like the site's
own errors: Datasette's error page in the site's template and the page's language, or the site's
JSON error object on JSON (and CSV) URLs. `make serve-prod` (serve/prod.py) fetches these pages from
a worker when it starts and nginx serves them as files, so they are there even when every worker
is down. The wording is in metadata.yml (plugins.drugbeleid.ui, proxy_*).
"""
from __future__ import annotations

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from serve.shared import language_of, ui_strings

MESSAGES = {421: "proxy_misdirected", 429: "proxy_rate_limited", 503: "proxy_unavailable"}


async def proxy_error(datasette, request):
    status = int(request.url_vars["status"])
    if status not in MESSAGES:
        raise NotFound(f"No proxy error page for status {status}")
    strings = ui_strings(datasette, language_of(request))
    title, message = strings[MESSAGES[status] + "_title"], strings[MESSAGES[status]]
    headers = {"Cache-Control": "no-store"}
    if request.url_vars.get("format") == "json":
        return Response.json({"ok": False, "error": message, "status": status, "title": title}, status=status, headers=headers)
    html = await datasette.render_template("error.html", {"ok": False, "error": message, "status": status, "title": title,
                                                          "in_page_language": True}, request=request)
    return Response.html(html, status=status, headers=headers)


@hookimpl
def register_routes():
    return [(r"^/-/proxy-error/(?P<status>\d{3})(\.(?P<format>json))?$", proxy_error)]
