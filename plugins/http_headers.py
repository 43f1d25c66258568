"""Header policy for immutable data: X-Data-Version, ETag with 304 answers, Cache-Control, CORS.

The data only changes with a new release, and a release restarts the server, so a response is
fully determined by the data version and the URL. The ETag is therefore derived from those two
alone. If-None-Match is compared with the ETag the response carries, and `*` matches only a
resource that exists: once this process has sent that ETag with a 200, a match is answered with 304
before Datasette does any work; before that, the response is made and its 200 turned into a 304.
Responses to requests carrying a cookie or credentials are never marked cacheable, nor are answers
to visitor SQL that may change from call to call (serve/volatile.py): those are `no-store`, with
no ETag, so neither the response cache nor a proxy keeps them.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from functools import cache

from serve import shared
from serve.headers import has, replaced, request_header, with_headers, without
from serve.volatile import volatile_request

CACHEABLE = "public, max-age=86400"  # one day; revalidate with the ETag after a release
IMMUTABLE = "public, max-age=31536000, immutable"  # /releases/<version>/...: content never changes
NOT_CACHEABLE = "no-store"
UNCACHED_PREFIXES = ("/-/",)  # introspection and settings: not data
# ...except Datasette's and plugins' static assets (the charts load ~800 KB of Vega per page) and
# the dashboards, HTML built from the immutable data. Asset URLs carry no version, so their ETag
# comes from the installed software's versions instead of the data version.
STATIC_PREFIXES = ("/-/static/", "/-/static-plugins/")
CACHED_UNDER_UNCACHED = STATIC_PREFIXES + ("/-/dashboards",)


def cacheable_request(scope) -> bool:
    return (
        scope["method"] in ("GET", "HEAD")
        and request_header(scope, b"cookie") is None
        and request_header(scope, b"authorization") is None
        and not (scope["path"].startswith(UNCACHED_PREFIXES) and not scope["path"].startswith(CACHED_UNDER_UNCACHED))
    )


@cache
def software_version() -> str:
    from datasette.plugins import get_plugins
    from datasette.version import __version__

    return __version__ + " " + " ".join(sorted(f"{p['name']}={p.get('version')}" for p in get_plugins()))


def etag_for(version: str, scope) -> bytes:
    key = f"{version} {scope['path']}?{scope.get('query_string', b'').decode('latin-1')}"
    return f'"{hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]}"'.encode()


def matches(if_none_match: bytes | None, etag: bytes, exists: bool) -> bool:
    """If-None-Match against the ETag of the response; `*` only for a resource that exists."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix(b"W/") for t in if_none_match.split(b",")]
    return etag in tags or (exists and b"*" in tags)


# What a 304 repeats of the 200 it stands for (RFC 9110, 15.4.5), and the site's own headers.
NOT_MODIFIED_HEADERS = {
    b"cache-control",
    b"content-location",
    b"etag",
    b"expires",
    b"vary",
    b"x-data-version",
    b"x-data-semver",
    b"access-control-allow-origin",
}


def not_modified_headers(headers) -> list:
    return [(k, v) for k, v in headers if k.lower() in NOT_MODIFIED_HEADERS]


SENT_REMEMBERED = 65536  # ETags this process sent with a 200; a few MB at most


def http_headers(datasette):
    """In the stack (plugins/stack.py), outside every wrapper that answers by itself."""
    sent: OrderedDict = OrderedDict()  # ETags sent with a 200: the resource exists, a 304 may skip the work

    def wrap(app):
        async def with_http_headers(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            release = shared.current_release(datasette)
            common = [(b"x-data-version", release["version"].encode()), (b"x-data-semver", release["semver"].encode())]
            if scope["method"] in ("GET", "HEAD", "OPTIONS"):
                common.append((b"access-control-allow-origin", b"*"))
            immutable = shared.versioned_file(scope["path"]) is not None
            policy = (IMMUTABLE if immutable else CACHEABLE).encode()
            # Decided before any ETag: an answer that may change per call has none, and is never stored.
            volatile = cacheable_request(scope) and volatile_request(datasette, scope)
            etag = None
            if cacheable_request(scope) and not volatile:
                etag_version = (
                    software_version()
                    if scope["path"].startswith(STATIC_PREFIXES)
                    else shared.content_version(datasette, scope["path"])
                )
                etag = etag_for(etag_version, scope)
            if_none_match = request_header(scope, b"if-none-match")
            if etag and etag in sent and matches(if_none_match, etag, exists=True):
                sent.move_to_end(etag)
                await send({"type": "http.response.start", "status": 304, "headers": sent[etag]})
                await send({"type": "http.response.body", "body": b""})
                return
            not_modified = False

            async def send_with_headers(event):
                nonlocal not_modified
                if not_modified:
                    return  # the body of a response answered with 304
                if event["type"] == "http.response.start":
                    # Transfer-Encoding is the server's (ASGI): Datasette sends it beside Content-Length
                    # on database downloads, and granian then drops the response.
                    headers = (
                        without(event.get("headers", []), b"etag", b"access-control-allow-origin", b"transfer-encoding")
                        + common
                    )
                    sets_cookie = has(headers, b"set-cookie")
                    status = event["status"]
                    if etag and status == 200 and not sets_cookie:
                        headers = replaced(headers, [(b"etag", etag), (b"cache-control", policy)])
                        shared.remember(sent, etag, not_modified_headers(headers), SENT_REMEMBERED)
                        if matches(if_none_match, etag, exists=True):
                            not_modified = True
                            await send({"type": "http.response.start", "status": 304, "headers": sent[etag]})
                            return await send({"type": "http.response.body", "body": b""})
                    elif volatile or not has(headers, b"cache-control") or status >= 400 or sets_cookie:
                        headers = replaced(headers, [(b"cache-control", NOT_CACHEABLE.encode())])
                    event = with_headers(event, headers)
                await send(event)

            await app(scope, receive, send_with_headers)

        return with_http_headers

    return wrap
