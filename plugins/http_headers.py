"""Header policy for immutable data: X-Data-Version, ETag with 304 answers, Cache-Control, CORS.

The data only changes with a new release, and a release restarts the server, so a response is
fully determined by the data version and the URL. The ETag is therefore derived from those two
alone, and a matching If-None-Match is answered with 304 before Datasette does any work.
Responses to requests carrying a cookie or credentials are never marked cacheable.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache

from datasette import hookimpl

from serve import shared

CACHEABLE = "public, max-age=86400"       # one day; revalidate with the ETag after a release
IMMUTABLE = "public, max-age=31536000, immutable"   # /releases/<version>/...: content never changes
NOT_CACHEABLE = "no-store"
UNCACHED_PREFIXES = ("/-/",)              # introspection and settings: not data
# ...except Datasette's and plugins' static assets (the charts load ~800 KB of Vega per page) and
# the dashboards, HTML built from the immutable data. Asset URLs carry no version, so their ETag
# comes from the installed software's versions instead of the data version.
STATIC_PREFIXES = ("/-/static/", "/-/static-plugins/")
CACHED_UNDER_UNCACHED = STATIC_PREFIXES + ("/-/dashboards",)


def header(scope, name: bytes) -> bytes | None:
    return next((v for k, v in scope.get("headers", []) if k.lower() == name), None)


def cacheable_request(scope) -> bool:
    return (
        scope["method"] in ("GET", "HEAD")
        and header(scope, b"cookie") is None
        and header(scope, b"authorization") is None
        and not (scope["path"].startswith(UNCACHED_PREFIXES) and not scope["path"].startswith(CACHED_UNDER_UNCACHED))
    )


@lru_cache(maxsize=None)
def software_version() -> str:
    from datasette.plugins import get_plugins
    from datasette.version import __version__

    return __version__ + " " + " ".join(sorted(f"{p['name']}={p.get('version')}" for p in get_plugins()))


def etag_for(version: str, scope) -> bytes:
    key = f"{version} {scope['path']}?{scope.get('query_string', b'').decode('latin-1')}"
    return f'"{hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]}"'.encode()


def matches(if_none_match: bytes | None, etag: bytes) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix(b"W/") for t in if_none_match.split(b",")]
    return etag in tags or b"*" in tags


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def with_headers(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            release = shared.current_release(datasette)
            version = release["version"]
            common = [(b"x-data-version", version.encode()), (b"x-data-semver", release["semver"].encode())]
            if scope["method"] in ("GET", "HEAD", "OPTIONS"):
                common.append((b"access-control-allow-origin", b"*"))
            immutable = shared.versioned_file(scope["path"]) is not None
            etag_version = (software_version() if scope["path"].startswith(STATIC_PREFIXES)
                            else shared.content_version(datasette, scope["path"]))
            etag = etag_for(etag_version, scope) if cacheable_request(scope) else None
            if etag and matches(header(scope, b"if-none-match"), etag):
                policy = IMMUTABLE if immutable else CACHEABLE
                await send({"type": "http.response.start", "status": 304,
                            "headers": common + [(b"etag", etag), (b"cache-control", policy.encode())]})
                await send({"type": "http.response.body", "body": b""})
                return

            async def send_with_headers(event):
                if event["type"] == "http.response.start":
                    # Transfer-Encoding is the server's (ASGI): Datasette sends it beside Content-Length
                    # on database downloads, and granian then drops the response.
                    headers = [(k, v) for k, v in event.get("headers", [])
                               if k.lower() not in (b"etag", b"access-control-allow-origin", b"transfer-encoding")]
                    headers += common
                    sets_cookie = any(k.lower() == b"set-cookie" for k, _ in headers)
                    has_cache_control = any(k.lower() == b"cache-control" for k, _ in headers)
                    if etag and event["status"] == 200 and not sets_cookie:
                        policy = IMMUTABLE if immutable else CACHEABLE
                        headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                        headers += [(b"etag", etag), (b"cache-control", policy.encode())]
                    elif not has_cache_control or event["status"] >= 400 or sets_cookie:
                        headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                        headers.append((b"cache-control", NOT_CACHEABLE.encode()))
                    event = {**event, "headers": headers}
                await send(event)

            await app(scope, receive, send_with_headers)

        return with_headers

    return wrap
