"""Response cache: a repeated anonymous GET is answered from memory, without running Datasette.

The data is immutable between releases, so a response is fully determined by the URL and the data
version. This wrapper is the OUTERMOST one of the stack (plugins/stack.py), so it stores the final bytes and
headers, after http_headers, security_headers and every other wrapper, and a hit replays them with
no other Python work.

What is stored is exactly what a shared proxy or CDN may store: a 200 that http_headers marked
`Cache-Control: public` (so no error, no redirect, no 304, no `/-/` introspection page), with no
Set-Cookie, varying by nothing but Cookie and Authorization. Requests carrying a cookie or
credentials are never served from, nor stored in, the cache; neither are `_stream` requests
(whole tables, unbounded). Visitor SQL whose answer changes per call is `no-store` (http_headers). A body larger
than max_entry_bytes passes through as it streams and is not kept. Every response says
`X-Cache: hit` or `X-Cache: miss`.

The key is (scheme, Host, raw path, query string, data version): absolute URLs in the data
package depend on the Host, and a new release can never be answered with an old response.
Requests with If-None-Match go to http_headers, which answers 304 without touching the database.

Bounded by bytes (plugins.drugbeleid.response_cache in metadata.yml), least recently used first
out. The LRU is an OrderedDict: cachetools' LRUCache(getsizeof=...) would do the same but is not a
dependency, ASGI cache libraries (asgi-caches) are unmaintained, and a reverse proxy alone would
not make `make serve` fast (docs/deploy.md). One event loop per worker: no locking is needed.
"""

from __future__ import annotations

from collections import OrderedDict

from serve import shared

MAX_BYTES = 32_000_000  # per worker; the whole site's distinct pages are a few MB
MAX_ENTRY_BYTES = 2_000_000  # the largest download, drugbeleid.db, is about 1.8 MB
ENTRY_OVERHEAD = 400  # bytes: key tuple, OrderedDict node, entry tuple
HEADER_OVERHEAD = 64  # bytes: one (name, value) tuple of two bytes objects
HIT = (b"x-cache", b"hit")
MISS = (b"x-cache", b"miss")
PRIVATE_REQUEST_HEADERS = (b"cookie", b"authorization")
# Vary values a stored response may carry: requests with these headers never use the cache.
HARMLESS_VARY = {b"cookie", b"authorization", b""}


class LruBytes:
    """Entries bounded by their total size in bytes; the least recently used go first."""

    def __init__(self, max_bytes: int, max_entry_bytes: int):
        self.max_bytes = max_bytes
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self.entries: OrderedDict = OrderedDict()
        self.bytes = 0

    def get(self, key):
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key, entry, size: int) -> None:
        if size > self.max_entry_bytes:
            return
        if key in self.entries:
            self.bytes -= self.entries.pop(key)[2]
        self.entries[key] = entry + (size,)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, evicted = self.entries.popitem(last=False)
            self.bytes -= evicted[2]


def entry_size(headers, body: bytes) -> int:
    """Bytes an entry holds, with Python's object overhead (the key, the header tuples: about
    0.8 KB per entry, measured with tracemalloc), so max_bytes bounds the memory really used."""
    return ENTRY_OVERHEAD + len(body) + sum(HEADER_OVERHEAD + len(k) + len(v) for k, v in headers)


def request_side(scope) -> tuple[bool, bytes | None, bool]:
    """(may use the cache, Host, must skip the lookup), in one pass over the request headers."""
    if scope["method"] not in ("GET", "HEAD"):
        return False, None, True
    query = scope["query_string"]
    if b"_stream" in query:
        return False, None, True
    host, skip_lookup = None, False
    for name, value in scope["headers"]:
        name = name.lower()  # lower case in ASGI already; this must hold whatever the server
        if name in PRIVATE_REQUEST_HEADERS:
            return False, None, True
        if name == b"host":
            host = value
        elif name == b"if-none-match" or (name == b"cache-control" and b"no-cache" in value):
            skip_lookup = True  # revalidation is http_headers' (304), no-cache asks for a fresh answer
    return True, host, skip_lookup


def storable_response(start) -> bool:
    if start["status"] != 200:
        return False
    public = False
    for name, value in start["headers"]:
        name = name.lower()
        if name == b"set-cookie":
            return False
        if name == b"cache-control":
            public = b"public" in value
        elif name == b"vary" and not {v.strip().lower() for v in value.split(b",")} <= HARMLESS_VARY:
            return False
    return public


def settings(datasette) -> tuple[int, int]:
    config = shared.plugin_config(datasette).get("response_cache") or {}
    return int(config.get("max_bytes", MAX_BYTES)), int(config.get("max_entry_bytes", MAX_ENTRY_BYTES))


def cache_wrapper(datasette):
    max_bytes, max_entry_bytes = settings(datasette)

    def wrap(app):
        if max_bytes <= 0:
            return app  # disabled: not even the X-Cache header
        cache = LruBytes(max_bytes, max_entry_bytes)

        async def cached(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            usable, host, skip_lookup = request_side(scope)
            if not usable:
                return await app(scope, receive, with_header(send, MISS))
            key = (
                scope.get("scheme"),
                host,
                scope.get("raw_path") or scope["path"].encode(),
                scope["query_string"],
                shared.content_version(datasette, scope["path"]),
            )
            entry = None if skip_lookup else cache.get(key)
            if entry is not None:
                headers, body, _ = entry
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})
                return
            if scope["method"] != "GET":
                return await app(scope, receive, with_header(send, MISS))
            await app(scope, receive, storing(send, cache, key))

        cached.cache = cache  # for tests and introspection
        return cached

    return wrap


def with_header(send, header):
    async def send_with_header(event):
        if event["type"] == "http.response.start":
            event = {**event, "headers": [*event.get("headers", []), header]}
        await send(event)

    return send_with_header


def storing(send, cache: LruBytes, key):
    """Pass the response through as it comes, keeping a copy while it stays small enough."""
    start = None
    chunks: list[bytes] | None = []
    size = 0

    async def send_and_keep(event):
        nonlocal start, chunks, size
        if event["type"] == "http.response.start":
            headers = list(event.get("headers", []))
            if storable_response({**event, "headers": headers}):
                start = headers
                size = entry_size(headers, b"")
            else:
                chunks = None
            event = {**event, "headers": headers + [MISS]}
        elif event["type"] == "http.response.body" and chunks is not None and start is not None:
            body = event.get("body", b"")
            size += len(body)
            if size > cache.max_entry_bytes:
                chunks = None  # too large to keep: it streams on, uncached
            else:
                chunks.append(body)
                if not event.get("more_body", False):
                    body = b"".join(chunks)
                    cache.put(key, (start + [HIT], body), size)
        await send(event)

    return send_and_keep
