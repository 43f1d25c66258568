"""Visitor SQL whose answer can change from one call to the next is never cached; the rest is.

Volatile: random, every date and time function (whatever its arguments), current_date, current_time
and current_timestamp, in any spelling, case or nesting, in ?sql= and in _where=. Such an answer is
`Cache-Control: no-store`, has no ETag, gets no 304, and is never stored by the response cache or
nginx. Checked in process, through `make serve` and through `make serve-prod`.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request

import pytest

from serve.app import create_datasette

from .conftest import make_serve

VOLATILE_SQL = [
    "select random()",
    "select RANDOM ()",
    "select date('now')",
    "select strftime('%s','now')",
    "select julianday('now')",
    "select current_timestamp",
    "select CURRENT_DATE, Current_Time",
    "select datetime()",
    "select julianday()",
    "select unixepoch()",
    "select time('12:00')",
    "select (select abs(random()) % 10) as nested",
    "with r(x) as (select random()) select x from r",
    "select * from (select date() as today)",
    "select count(*) from caseload where year < strftime('%Y')",
]
VOLATILE_WHERE = ["random() % 100 > 50", "year < 0 + strftime('%Y', 'now')", "date() > '2000'"]
STABLE_SQL = [
    "select 1",
    "select upper('random now current_date') as words",  # the words in a string call nothing
    "select count(*) as n from caseload",
]
STABLE_WHERE = ["year > 2015"]


def urls() -> list[tuple[str, bool]]:
    """(path and query, volatile), in JSON, CSV and HTML."""
    found = []
    for sql_list, volatile in ((VOLATILE_SQL, True), (STABLE_SQL, False)):
        for sql in sql_list:
            for suffix in (".json", ".csv", ""):
                found.append((f"/drugbeleid{suffix}?" + urllib.parse.urlencode({"sql": sql}), volatile))
    for where_list, volatile in ((VOLATILE_WHERE, True), (STABLE_WHERE, False)):
        for where in where_list:
            found.append(("/drugbeleid/caseload.json?" + urllib.parse.urlencode({"_where": where}), volatile))
    return found


URLS = urls()


def assert_cache_policy(url: str, volatile: bool, status: int, headers) -> None:
    assert status == 200, url
    if volatile:
        assert headers.get("cache-control") == "no-store", url
        assert headers.get("etag") is None, url
    else:
        assert headers.get("cache-control", "").startswith("public"), url
        assert headers.get("etag"), url


async def test_in_process_volatile_sql_is_never_cached_and_stable_sql_is(built):
    site = create_datasette(built)
    for url, volatile in URLS:
        first = await site.client.get(url)
        assert_cache_policy(url, volatile, first.status_code, first.headers)
        second = await site.client.get(url, headers={"if-none-match": "*"})
        if volatile:
            # no 304 however asked, and never an answer from the response cache
            assert second.status_code == 200 and second.headers["x-cache"] == "miss", url
        else:
            assert second.status_code == 304, url
            third = await site.client.get(url)
            assert third.headers["x-cache"] == "hit", url


def fetch(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.mark.live
def test_through_make_serve_volatile_sql_is_never_cached():
    with make_serve() as base:
        for url, volatile in URLS:
            status, headers, _ = fetch(base + url)
            assert_cache_policy(url, volatile, status, headers)
            status, headers, _ = fetch(base + url)
            assert headers["x-cache"] == ("miss" if volatile else "hit"), url


# nginx lets one client address run 5 visitor queries a second (deploy/nginx.conf): each URL is asked
# from an address of its own on the loopback (127.0.0.N), twice, so no client comes near the limit.
def fetch_from(address: str, url: str):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20, source_address=(address, 0))
    try:
        connection.request("GET", parts.path + "?" + parts.query)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@pytest.mark.proxy
def test_through_make_serve_prod_volatile_sql_is_never_cached(tmp_path):
    from .test_proxy import serve_prod

    with serve_prod(tmp_path) as prod:
        json_urls = [(url, volatile) for url, volatile in URLS if ".json?" in url]
        for number, (url, volatile) in enumerate(json_urls, start=10):
            client = f"127.0.0.{number}"
            status, headers, _ = fetch_from(client, prod.base + url)
            assert_cache_policy(url, volatile, status, headers)
            status, headers, _ = fetch_from(client, prod.base + url)
            assert status == 200, url
            assert headers["x-cache-status"] != "HIT" if volatile else headers["x-cache-status"] == "HIT", url
