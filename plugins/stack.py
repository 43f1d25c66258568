"""The middleware stack: every ASGI wrapper of the site, in one order written down here.

This is the only `asgi_wrapper` hook of the project. The wrappers themselves are plain functions
`name(datasette) -> (app -> app)` in the plugin that owns their concern; STACK lists them from the
OUTERMOST (the first to see a request and the last to see its response) to the innermost (right
around Datasette). Datasette would otherwise nest the hooks in the order pluggy calls them, which
follows the order the files of plugins/ happen to be listed in: nothing would say which wrapper sees
which response.

Two rules fix the order:
- A wrapper that adds headers to every response (security headers, X-Data-Version, Cache-Control)
  sits OUTSIDE every wrapper that answers a request by itself (304, 404 for closed pages, 405, 429,
  400 for refused SQL, 500 for a fault), so those answers get the headers too.
- The response cache is outermost, so it stores the final bytes and a hit runs nothing else.

Adding a wrapper is one line in STACK, at the place the rules give it. Datasette's internal client
(`datasette.client`) builds its app with `datasette.app()` too, so its requests go through this
same stack (an instance of its own: its own response cache and SQL gate).
"""

from __future__ import annotations

import json
import sys

from datasette import hookimpl
from datasette.plugins import pm

# (plugin file, wrapper function), outermost first.
STACK = (
    # Replays a stored 200 with its final headers; stores only what http_headers marked public.
    ("response_cache.py", "cache_wrapper"),
    # Content-Security-Policy, X-Frame-Options, nosniff...; no cookie for anonymous visitors.
    ("security_headers.py", "security_headers"),
    # X-Data-Version, CORS, Cache-Control, ETag; answers If-None-Match with 304 (through the above).
    ("http_headers.py", "http_headers"),
    # An exception below this line, before the response started, becomes a 500 with every header above.
    ("stack.py", "faults_as_500"),
    # Repeated parameters once, at most 10 facets, a bounded facet size and query string (400, 414).
    ("request_bounds.py", "request_bounds"),
    # 404 for introspection pages, off-site paths and redirects.
    ("security_headers.py", "refusals"),
    # 405 for methods a read-only site does not take; 400 for a ?_shape= Datasette answers with 200.
    ("errors.py", "read_only"),
    # In the browser's SQL editor, sql_guard's JSON 429 becomes a page (outside sql_guard: it reads its answer).
    ("friendly_errors.py", "busy_page"),
    # Visitor SQL: at most N at once (429), printf bound (400), a failed CSV query as 400.
    ("sql_guard.py", "sql_gate"),
    # The page's language (?_lang) for what Python writes without the request (serve/i18n.py).
    ("language.py", "page_language"),
)


def wrappers(datasette) -> list:
    """The wrappers of STACK made for this Datasette, outermost first."""
    return [getattr(pm.get_plugin(plugin), function)(datasette) for plugin, function in STACK]


def compose(datasette, app):
    """`app` wrapped by every wrapper of STACK: the last of the list wraps `app` first."""
    for wrap in reversed(wrappers(datasette)):
        app = wrap(app)
    return app


@hookimpl(trylast=True)
def asgi_wrapper(datasette):
    # trylast: Datasette applies the hook results in list order, each wrapping the ones before, so
    # the last one is outermost: any wrapper an installed plugin adds sits inside this whole stack.
    return lambda app: compose(datasette, app)


FAULT = {"ok": False, "error": "Internal server error", "status": 500, "title": "Internal server error"}


def faults_as_500(datasette):
    """An exception that escapes a wrapper before any response was sent would reach the ASGI
    server, which answers a bare 500 without the site's headers. It is answered here instead, as
    Datasette answers a fault: JSON, with nothing about the server in it. (Datasette's own views
    catch their exceptions and render their own 500, which passes through unchanged.)"""

    def wrap(app):
        async def guarded(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            started = False

            async def watched(event):
                nonlocal started
                started = started or event["type"] == "http.response.start"
                await send(event)

            try:
                await app(scope, receive, watched)
            except Exception as fault:
                if started:
                    raise
                print(
                    f"error: {scope['method']} {scope['path']}: {type(fault).__name__}: {str(fault)[:200]!r}",
                    file=sys.stderr,
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"application/json; charset=utf-8")],
                    }
                )
                await send({"type": "http.response.body", "body": json.dumps(FAULT).encode()})

        return guarded

    return wrap
