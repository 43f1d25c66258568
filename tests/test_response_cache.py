"""The response cache (plugins/response_cache.py): each rule of what is stored and replayed.

Most tests go through Datasette's own client; a few wrap a small stand-in app with the cache,
to make responses Datasette never gives (a public 500, a Set-Cookie, a body of a chosen size).
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request

import httpx
import pytest
from datasette.app import Datasette
from datasette.plugins import pm

from serve import shared

from .conftest import built_metadata, in_process, make_serve


def cache_module():
    return pm.get_plugin("response_cache.py")


def site(built, **cache_config) -> Datasette:
    """The site as the tests' `datasette` fixture builds it, with the cache configured."""
    metadata = built_metadata(built)
    config = metadata.setdefault("plugins", {}).setdefault("drugbeleid", {}).setdefault("response_cache", {})
    config.update(cache_config)
    return in_process(built, settings=None, metadata=metadata)


def without_x_cache(headers) -> list:
    return [(k, v) for k, v in headers.multi_items() if k.lower() != "x-cache"]


async def get(ds, path, method="GET", **headers):
    return await ds.client.request(method, path, headers=headers)


def sql(query: str) -> str:
    return "/drugbeleid.json?" + urllib.parse.urlencode({"sql": query})


@pytest.mark.parametrize(
    "path",
    [
        "/drugbeleid/caseload.json",
        "/drugbeleid/caseload.csv",  # Datasette sends CSV in several chunks
        "/drugbeleid/caseload",  # HTML
        "/drugbeleid/caseload.json?justice_house_id=gent",
        "/drugbeleid/statistics.json?_facet=topic",
        "/drugbeleid/passages.json?_search=drugbehandelingskamer",
        "/drugbeleid/caseload_by_year.csv",  # a feed
        sql("select count(*) from passages"),
        "/datapackage.json",
        "/-/static/app.css",
        "/-/dashboards",
    ],
)
async def test_a_repeated_get_is_a_hit_with_the_same_status_headers_and_body(built, path):
    ds = in_process(built)
    first, second = await get(ds, path), await get(ds, path)
    assert first.status_code == 200, first.text[:300]
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert second.status_code == first.status_code
    assert without_x_cache(second.headers) == without_x_cache(first.headers)
    assert second.content == first.content


async def test_with_and_without_the_cache_a_response_is_the_same(built):
    cached, uncached = site(built), site(built, max_bytes=0)
    for path in ["/drugbeleid/caseload.json", "/drugbeleid/caseload", "/-/static/app.css"]:
        await get(cached, path)
        hit, plain = await get(cached, path), await get(uncached, path)
        assert hit.headers["x-cache"] == "hit" and "x-cache" not in plain.headers
        assert without_x_cache(hit.headers) == without_x_cache(plain.headers)
        assert timing_removed(hit.content) == timing_removed(plain.content)


def timing_removed(body: bytes) -> bytes:
    """Datasette's JSON and HTML say how long the queries took, which differs from run to run."""
    return re.sub(rb'"query_ms": [0-9.e-]+|Queries took [0-9.,]+ ?ms|Query\'s duurden [0-9.,]+ ?ms', b"", body)


async def test_static_assets_and_dashboards_are_publicly_cacheable_with_an_etag(built):
    ds = in_process(built)
    for path in ["/-/static/app.css", "/-/dashboards"]:
        response = await get(ds, path)
        assert response.headers["cache-control"] == "public, max-age=86400", path
        assert response.headers["etag"], path
        assert (await get(ds, path, **{"If-None-Match": response.headers["etag"]})).status_code == 304


async def test_another_query_string_is_another_entry(built):
    ds = in_process(built)
    await get(ds, "/drugbeleid/caseload.json")
    other = await get(ds, "/drugbeleid/caseload.json?_size=5")
    assert other.headers["x-cache"] == "miss" and len(other.json()["rows"]) == 5


async def test_another_host_is_another_entry(built):
    """The data package carries absolute URLs made from the Host header."""
    ds = in_process(built)
    await get(ds, "/datapackage.json")
    other = await get(ds, "/datapackage.json", host="data.example.org")
    assert other.headers["x-cache"] == "miss"
    assert other.json()["resources"][0]["path"].startswith("http://data.example.org/")


async def test_a_new_data_version_is_a_miss(built, monkeypatch):
    ds = in_process(built)
    await get(ds, "/drugbeleid/caseload.json")
    assert (await get(ds, "/drugbeleid/caseload.json")).headers["x-cache"] == "hit"
    monkeypatch.setattr(shared, "content_version", lambda datasette, path: "2099-01-01-000000000000")
    assert (await get(ds, "/drugbeleid/caseload.json")).headers["x-cache"] == "miss"
    assert (await get(ds, "/drugbeleid/caseload.json")).headers["x-cache"] == "hit"


@pytest.mark.parametrize(
    "path,status",
    [
        ("/drugbeleid/nope.json", 404),
        ("/drugbeleid/caseload.json?_sort=nope", 400),
        (sql("select printf('%.*c', 2147483647, 'x')"), 400),
    ],
)
async def test_errors_are_never_cached(built, path, status):
    ds = in_process(built)
    first, second = await get(ds, path), await get(ds, path)
    assert (first.status_code, second.status_code) == (status, status)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "miss")


@pytest.mark.parametrize("header", ["Cookie", "Authorization"])
async def test_a_request_with_a_cookie_or_credentials_is_neither_served_from_nor_stored_in_the_cache(built, header):
    ds = in_process(built)
    path = "/drugbeleid/staffing.json"
    private = {header: "ds_actor=someone" if header == "Cookie" else "Bearer abc"}
    assert (await get(ds, path, **private)).headers["x-cache"] == "miss"
    assert (await get(ds, path)).headers["x-cache"] == "miss", "the private response was stored"
    assert (await get(ds, path)).headers["x-cache"] == "hit"
    assert (await get(ds, path, **private)).headers["x-cache"] == "miss", "served from the cache"


async def test_introspection_pages_are_not_cached(built):
    ds = in_process(built)
    for path in ["/-/versions.json", "/-/settings.json"]:
        assert [(await get(ds, path)).headers["x-cache"] for _ in range(2)] == ["miss", "miss"], path


async def test_streamed_csv_is_not_cached(built):
    ds = in_process(built)
    path = "/drugbeleid/passages.csv?_stream=1"
    first, second = await get(ds, path), await get(ds, path)
    assert first.status_code == 200 and first.text.startswith("id,")
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "miss")
    assert second.content == first.content


async def test_sql_asking_for_random_values_or_the_time_is_not_cached_other_sql_is(built):
    ds = in_process(built)
    for query in ["select random()", "select abs(random()) % 6", "select datetime('now')", "select current_timestamp"]:
        assert [(await get(ds, sql(query))).headers["x-cache"] for _ in range(2)] == ["miss", "miss"], query
    assert [(await get(ds, sql("select 6 * 7"))).headers["x-cache"] for _ in range(2)] == ["miss", "hit"]


async def test_head_is_answered_from_the_get_entry_without_a_body(built):
    ds = in_process(built)
    path = "/drugbeleid/justice_houses.json"
    head_first = await get(ds, path, method="HEAD")
    assert head_first.headers["x-cache"] == "miss" and head_first.content == b""
    assert (await get(ds, path)).headers["x-cache"] == "miss", "a HEAD must not store an empty body"
    full = await get(ds, path)
    head = await get(ds, path, method="HEAD")
    assert head.status_code == 200 and head.headers["x-cache"] == "hit" and head.content == b""
    assert without_x_cache(head.headers) == without_x_cache(full.headers)


async def test_if_none_match_on_a_cached_entry_is_answered_304_as_without_the_cache(built):
    cached, uncached = site(built), site(built, max_bytes=0)
    path = "/drugbeleid/caseload.json"
    await get(cached, path)
    hit = await get(cached, path)
    assert hit.headers["x-cache"] == "hit"
    revalidated = await get(cached, path, **{"If-None-Match": hit.headers["etag"]})
    plain = await get(uncached, path, **{"If-None-Match": hit.headers["etag"]})
    assert revalidated.status_code == plain.status_code == 304 and revalidated.content == b""
    assert without_x_cache(revalidated.headers) == without_x_cache(plain.headers)
    stale = await get(cached, path, **{"If-None-Match": '"an-old-etag"'})
    assert stale.status_code == 200 and timing_removed(stale.content) == timing_removed(hit.content)


async def test_no_cache_request_goes_to_datasette(built):
    ds = in_process(built)
    path = "/drugbeleid/staffing.json"
    await get(ds, path)
    assert (await get(ds, path, **{"Cache-Control": "no-cache"})).headers["x-cache"] == "miss"


async def test_the_configured_byte_bound_holds_over_the_whole_site(built):
    ds = site(built, max_bytes=30_000, max_entry_bytes=20_000)
    cache = ds.client.app.cache  # the app the client sends to: the outermost wrapper is the cache
    paths = [
        f"/drugbeleid/{table}.json"
        for table in ["caseload", "staffing", "documents", "justice_houses", "events", "glossary", "statistics"]
    ]
    for path in paths * 2:
        assert (await get(ds, path)).status_code == 200
        assert 0 < cache.bytes <= 30_000 and cache.bytes == sum(entry[2] for entry in cache.entries.values())
    assert 1 < len(cache.entries) < len(paths)


async def test_the_cache_can_be_disabled(built):
    ds = site(built, max_bytes=0)
    responses = [await get(ds, "/drugbeleid/caseload.json") for _ in range(2)]
    assert all("x-cache" not in r.headers and r.status_code == 200 for r in responses)


# A stand-in app behind the cache: responses Datasette does not give, marked public as
# http_headers marks data, so only the cache's own rules decide.
def stand_in(status=200, body_size=100, chunks=1, extra_headers=()):
    calls = []

    async def app(scope, receive, send):
        calls.append(scope["path"])
        query = urllib.parse.parse_qs(scope["query_string"].decode())
        size = int(query.get("size", [body_size])[0])
        await send(
            {
                "type": "http.response.start",
                "status": int(query.get("status", [status])[0]),
                "headers": [
                    (b"content-type", b"text/plain"),
                    (b"cache-control", b"public, max-age=86400"),
                    *extra_headers,
                ],
            }
        )
        body = b"x" * size
        step = max(1, -(-size // chunks))
        parts = [body[i : i + step] for i in range(0, size, step)] or [b""]
        for i, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": i < len(parts) - 1})

    return app, calls


def cached_client(built, app, **cache_config):
    wrapped = cache_module().cache_wrapper(site(built, **cache_config))(app)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://localhost")
    return client, wrapped.cache


@pytest.mark.parametrize("status", [201, 204, 301, 302, 304, 400, 404, 429, 500, 503])
async def test_no_status_but_200_is_stored_even_when_marked_public(built, status):
    app, calls = stand_in(status=status)
    client, cache = cached_client(built, app, max_bytes=100_000)
    async with client:
        for _ in range(2):
            assert (await client.get("/x")).headers["x-cache"] == "miss"
    assert len(calls) == 2 and not cache.entries


@pytest.mark.parametrize("header", [(b"set-cookie", b"session=1"), (b"vary", b"Accept-Language"), (b"vary", b"*")])
async def test_a_response_that_sets_a_cookie_or_varies_by_another_header_is_not_stored(built, header):
    app, calls = stand_in(extra_headers=[header])
    client, cache = cached_client(built, app, max_bytes=100_000)
    async with client:
        for _ in range(2):
            assert (await client.get("/x")).headers["x-cache"] == "miss"
    assert len(calls) == 2 and not cache.entries


async def test_a_response_varying_only_by_cookie_and_authorization_is_stored(built):
    """Datasette adds Vary: Cookie, Authorization to every page; requests with either never use the cache."""
    app, calls = stand_in(extra_headers=[(b"vary", b"Cookie, Authorization")])
    client, _ = cached_client(built, app, max_bytes=100_000)
    async with client:
        assert [(await client.get("/x")).headers["x-cache"] for _ in range(2)] == ["miss", "hit"]
    assert len(calls) == 1


async def test_an_entry_larger_than_max_entry_bytes_streams_through_and_is_not_stored(built):
    app, calls = stand_in(body_size=50_000, chunks=7)
    client, cache = cached_client(built, app, max_bytes=1_000_000, max_entry_bytes=10_000)
    async with client:
        for _ in range(2):
            response = await client.get("/big")
            assert response.headers["x-cache"] == "miss" and response.content == b"x" * 50_000
    assert len(calls) == 2 and not cache.entries


async def test_a_body_sent_in_chunks_is_replayed_whole(built):
    app, calls = stand_in(body_size=5_000, chunks=5)
    client, _ = cached_client(built, app, max_bytes=1_000_000)
    async with client:
        first, second = await client.get("/chunks"), await client.get("/chunks")
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert second.content == first.content == b"x" * 5_000 and len(calls) == 1


async def test_least_recently_used_entries_are_evicted_first_and_the_bound_holds(built):
    app, calls = stand_in()
    probe, probe_cache = cached_client(built, app, max_bytes=1_000_000)
    async with probe:
        await probe.get("/a?size=1000")
    one = probe_cache.bytes  # what an entry of a 1000-byte body counts, with its headers
    bound = int(2.5 * one)  # room for two such entries, not three
    client, cache = cached_client(built, app, max_bytes=bound, max_entry_bytes=int(1.5 * one))

    async def x_cache(path):
        response = await client.get(path)
        assert cache.bytes <= bound
        return response.headers["x-cache"]

    async with client:
        assert await x_cache("/a?size=1000") == "miss"
        assert await x_cache("/b?size=1000") == "miss"
        assert await x_cache("/a?size=1000") == "hit"  # a is now the most recently used
        assert await x_cache("/c?size=1000") == "miss"  # no room for three: b, the least recent, goes
        assert await x_cache("/a?size=1000") == "hit"
        assert await x_cache("/c?size=1000") == "hit"
        assert await x_cache("/b?size=1000") == "miss"
        huge = f"/huge?size={int(1.6 * one)}"  # over max_entry_bytes: not stored, nothing evicted
        assert await x_cache(huge) == "miss"
        assert await x_cache(huge) == "miss"
    assert len(cache.entries) == 2


def test_make_serve_answers_a_repeated_request_from_the_cache():
    with make_serve() as base:
        responses = []
        for _ in range(2):
            with urllib.request.urlopen(base + "/drugbeleid/caseload_by_year.json", timeout=10) as response:
                responses.append(
                    (
                        response.headers["X-Cache"],
                        response.read(),
                        [(k, v) for k, v in response.headers.items() if k.lower() not in ("x-cache", "date")],
                    )
                )
    (first_cache, first_body, first_headers), (second_cache, second_body, second_headers) = responses
    assert (first_cache, second_cache) == ("miss", "hit")
    assert second_body == first_body and second_headers == first_headers
