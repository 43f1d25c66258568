"""Security policy for every response: CSP and friends, no cookies for anonymous visitors, no
off-site redirects, and introspection pages that reveal internals closed.

The site loads nothing from other origins (no CDN), so the policy only allows 'self'. Datasette's
own pages use small inline scripts and styles, hence 'unsafe-inline' for those two.
"""

from __future__ import annotations

import json
import re

from serve.headers import replaced, value_of, with_headers, without

HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# The chart pages of datasette-dashboards only: Vega compiles its expressions (filters, signals)
# with `new Function`, which CSP calls eval, and 0.8.0 ships no CSP-safe interpreter. Vega is served
# from this site (/-/static-plugins/), so this allows no other origin; every other page keeps the
# stricter policy.
CHART_PATHS = "/-/dashboards"
CHART_HEADERS = [
    (name, value.replace(b"script-src 'self' 'unsafe-inline'", b"script-src 'self' 'unsafe-inline' 'unsafe-eval'"))
    for name, value in HEADERS
]
# A chart's embed page (plugins/embeds.py), and only it, may be framed by any site: the chart
# policy without frame-ancestors 'none' and without X-Frame-Options.
EMBED_PATH = re.compile(r"^/-/dashboards/[^/]+/[^/]+/embed$")
EMBED_HEADERS = [
    (name, value.replace(b"frame-ancestors 'none'", b"frame-ancestors *"))
    for name, value in CHART_HEADERS
    if name != b"x-frame-options"
]
# Pages that show threads, file paths or internal messages to anyone who asks.
CLOSED = {"/-/threads", "/-/databases", "/-/messages"}


def headers_for(path: str) -> list:
    if EMBED_PATH.match(path):
        return EMBED_HEADERS
    return CHART_HEADERS if path.startswith(CHART_PATHS) else HEADERS


def closed(path: str) -> bool:
    return path.removesuffix(".json") in CLOSED


def off_site(path: str) -> bool:
    """A path that browsers would read as another host once redirected: //host or /\\host."""
    return path.startswith("//") or path.startswith("/\\")


def same_site_location(value: bytes) -> bool:
    text = value.decode("latin-1")
    return text.startswith("/") and not off_site(text) and "\\" not in text


async def send_json(send, status: int, message: str) -> None:
    body = json.dumps({"ok": False, "error": message, "status": status, "title": None}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"cache-control", b"no-store")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def security_headers(datasette):
    """In the stack (plugins/stack.py), outside every wrapper that answers by itself: the security
    headers on every response, and no Set-Cookie to an anonymous visitor."""

    def wrap(app):
        async def secured(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            policy = headers_for(scope.get("path", ""))
            anonymous = not any(k.lower() in (b"cookie", b"authorization") for k, _ in scope.get("headers", []))

            async def send_secured(event):
                if event["type"] == "http.response.start":
                    headers = without(event.get("headers", []), *(b"set-cookie",) * anonymous)
                    event = with_headers(event, replaced(headers, policy))
                await send(event)

            await app(scope, receive, send_secured)

        return secured

    return wrap


def refusals(datasette):
    """In the stack, inside the header wrappers (so these 404s carry every header): closed
    introspection pages, paths a browser would read as another host, and off-site redirects."""

    def wrap(app):
        async def refused_or_passed(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            path = scope.get("path", "")
            if closed(path) or off_site(path) or "\\" in path:
                return await send_json(send, 404, "Not found")
            replaced_response = False

            async def send_same_site(event):
                nonlocal replaced_response
                if replaced_response:
                    return  # the app's own response was replaced by the 404
                if event["type"] == "http.response.start":
                    location = value_of(event.get("headers", []), b"location")
                    if location is not None and not same_site_location(location):
                        replaced_response = True
                        return await send_json(send, 404, "Not found")
                await send(event)

            await app(scope, receive, send_same_site)

        return refused_or_passed

    return wrap
