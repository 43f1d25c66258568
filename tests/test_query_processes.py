"""Visitor SQL runs in processes killed at its deadline (serve/query_processes.py): a call SQLite's
time limit cannot interrupt ends at the deadline, the process is replaced, the pages stay fast, and
every answer is the one Datasette's own threads give."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import sqlite3
import time
import urllib.parse

import pytest

from bench.hostile import built as built_text
from serve.query_processes import deadline_seconds

from .conftest import SETTINGS, built_metadata, in_process
from .servers import processes

# With the served length limit (1 MB), the longest single LIKE call takes about 1.3 s here, within
# its deadline. This site allows texts of 20 MB, so that one call, a LIKE of a 998-character pattern
# over a 10-million-character text, runs about 10-15 s: only killing its process ends it sooner.
LONG_TEXTS = {"SQLITE_LIMIT_LENGTH": 20_000_000}
TEN_MILLION = f"replace({built_text(1_000_000, 'y')}, 'yyyyyyyyyy', printf('%.100c', 'y'))"
STUCK = f"select {TEN_MILLION} like '%' || printf('%.998c', 'y') || 'q' as stuck"
DEADLINE = deadline_seconds(SETTINGS["sql_time_limit_ms"])
BOUND = 6.0  # generous: the deadline (2.25 s) on a noisy machine; the call alone takes 10-15 s


@pytest.fixture(scope="module")
def site(built):
    metadata = built_metadata(built)
    metadata["plugins"]["drugbeleid"]["sql_guard"].setdefault("limits", {}).update(LONG_TEXTS)
    return in_process(built, metadata=metadata)


@pytest.fixture(scope="module")
def served(built):
    return in_process(built)


def sql(query: str, extension: str = ".json", **more) -> str:
    return f"/drugbeleid{extension}?" + urllib.parse.urlencode({"sql": query, **more})


async def test_a_call_the_time_limit_cannot_interrupt_is_killed_at_its_deadline(site):
    started = time.monotonic()
    response = await site.client.get(sql(STUCK))
    elapsed = time.monotonic() - started
    assert response.status_code == 400 and "SQL query took too long" in response.json()["error"], response.text[:300]
    assert elapsed < BOUND, f"{elapsed:.1f} s: the call ran past its deadline of {DEADLINE} s"
    # the killed process was replaced: visitor SQL still answers, however many were killed
    for n in range(3):
        assert (await site.client.get(sql(f"select {n} as n", _shape="array"))).json() == [{"n": n}]


def query_processes() -> list[int]:
    """This process's children that run visitor SQL (the pool's spawned interpreters)."""
    return [
        pid for pid, (parent, _, cmdline) in processes().items() if parent == os.getpid() and "spawn_main" in cmdline
    ]


async def test_query_processes_that_end_while_idle_are_replaced(served):
    assert (await served.client.get(sql("select 1 as n", _shape="array"))).json() == [{"n": 1}]
    idle = query_processes()
    assert idle, "no query process to end"
    for pid in idle:  # as the out-of-memory killer would
        os.kill(pid, signal.SIGKILL)
    for n in range(3):
        response = await served.client.get(sql(f"select {n} as n", _shape="array"))
        assert response.status_code == 200 and response.json() == [{"n": n}], response.text[:300]
    assert query_processes() and not set(query_processes()) & set(idle)


async def test_a_table_request_stays_fast_while_four_stuck_queries_run(site):
    # once before: what is measured is the stuck queries' effect, not a first page's template compiling
    assert (await site.client.get("/drugbeleid/staffing")).status_code == 200

    async def stuck(n):
        return (await site.client.get(sql(STUCK, _=n))).status_code

    async def table_requests():
        await asyncio.sleep(0.5)  # the stuck queries have started
        timings = []
        for n in range(3):
            started = time.monotonic()
            assert (await site.client.get(f"/drugbeleid/staffing?_n={n}")).status_code == 200
            timings.append(time.monotonic() - started)
        return timings

    *statuses, timings = await asyncio.gather(*(stuck(n) for n in range(4)), table_requests())
    assert max(timings) < 0.5, timings
    assert set(statuses) <= {400, 429}, statuses  # stopped at the deadline, or refused by the gate


def direct(database, query: str, parameters=()) -> list[list]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return [list(row) for row in connection.execute(query, parameters)]
    finally:
        connection.close()


ANSWERED_AS_BEFORE = [
    "select * from caseload order by rowid",
    "select justice_house_id, sum(dossiers) as total from caseload group by 1 order by 1",
    'select 1 as "a""b", 2 as "", 3 as "a""b", null as n, 1.5 as f, x\'00ff\' as b',
    "select printf('%5.2f|%-8s|%d', 3.14159, 'drug', 42) as p",
    "select * from passages where text like '%drug%' order by id",
]


@pytest.mark.parametrize("query", ANSWERED_AS_BEFORE)
async def test_visitor_sql_answers_exactly_as_sqlite(served, built, query):
    response = await served.client.get(sql(query, _shape="arrays", _size="max"))
    assert response.status_code == 200, response.text[:300]
    data = response.json()
    expected = direct(built, query)
    if "x'00ff'" in query:  # a blob cell is written as Datasette writes every blob
        expected = [[*row[:-1], {"$base64": True, "encoded": "AP8="}] for row in expected]
    assert data["rows"] == expected
    assert data["columns"] == [d[0] for d in sqlite3.connect(built).execute(query).description]


async def test_the_processes_know_exactly_the_functions_of_the_workers_connections(served):
    """A function Datasette or a plugin registers on its connections (escape_fts for _search, the
    guarded printf) is there in the processes too, and nothing more."""
    query = "select distinct name, narg from pragma_function_list order by 1, 2"

    def listed(connection):
        return [list(row) for row in connection.execute(query)]

    in_the_worker = await served.get_database("drugbeleid").execute_fn(listed)
    response = await served.client.get(sql(query, _shape="arrays", _size="max"))
    assert response.status_code == 200 and len(in_the_worker) > 100
    assert response.json()["rows"] == in_the_worker


async def test_a_text_that_is_not_utf8_reads_as_datasette_reads_it(served):
    response = await served.client.get(sql("select cast(x'ff41' as text) as t", _shape="array"))
    assert response.json() == [{"t": "\ufffdA"}]


async def test_every_shape_and_format_of_a_visitor_query(served, built):
    query = "select justice_house_id, year, dossiers from caseload order by justice_house_id, year limit 5"
    rows = direct(built, query)
    assert (await served.client.get(sql(query, _shape="arrayfirst"))).json() == [row[0] for row in rows]
    objects = (await served.client.get(sql(query, _shape="array"))).json()
    assert objects == [dict(zip(["justice_house_id", "year", "dossiers"], row)) for row in rows]
    text = (await served.client.get(sql(query, ".csv"))).text
    assert list(csv.reader(io.StringIO(text)))[1:] == [[str(v) for v in row] for row in rows]
    page = await served.client.get(sql(query, ""))
    assert page.status_code == 200 and str(rows[0][2]) in page.text


async def test_the_row_limit_and_truncation_are_datasettes(served):
    limit = SETTINGS["max_returned_rows"]
    query = f"with recursive c(x) as (select 1 union all select x + 1 from c limit {limit + 5}) select x from c"
    data = (await served.client.get(sql(query, _shape="objects"))).json()
    assert data["truncated"] is True and len(data["rows"]) == limit


async def test_a_table_page_filtered_by_visitor_sql(served, built):
    searched = await served.client.get("/drugbeleid/events.json?_where=date+is+not+null&_search=wet&_shape=array")
    query = "select count(*) from events where date is not null and rowid in (select rowid from events_fts where events_fts match '\"wet\"')"
    assert searched.status_code == 200 and len(searched.json()) == direct(built, query)[0][0] > 0
    response = await served.client.get(
        "/drugbeleid/caseload.json?" + urllib.parse.urlencode({"_where": "year >= 2021", "_facet": "justice_house_id"})
    )
    data = response.json()
    assert response.status_code == 200
    assert len(data["rows"]) == direct(built, "select count(*) from caseload where year >= 2021")[0][0]
    facet = {v["value"]: v["count"] for v in data["facet_results"]["justice_house_id"]["results"]}
    query = "select justice_house_id, count(*) from caseload where year >= 2021 group by 1"
    assert facet == dict(map(tuple, direct(built, query)))


@pytest.mark.parametrize(
    "query,message",
    [
        ("select nosuch from caseload", "no such column: nosuch"),
        ("select printf('%.*c', 5000, 'x')", "printf/format: a width or precision above 1,000 is refused"),
        ("select randomblob(10)", "not authorized"),
        (f"select {built_text(500_000)} as t from caseload", "query result too large"),
    ],
)
async def test_errors_read_as_sqlite_and_the_guard_write_them(served, query, message):
    response = await served.client.get(sql(query))
    assert response.status_code == 400 and message in json.dumps(response.json()), response.text[:300]
