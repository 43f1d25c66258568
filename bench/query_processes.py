"""What running visitor SQL in killable processes (serve/query_processes.py) costs and buys, in process
on the current build, side by side with Datasette's own threads in the same run. About a minute.

    make bench-sql-processes        (= .venv/bin/python bench/query_processes.py)

1. The cost per query: the same queries through Database.execute in a thread (as every page's
   queries run) and in the pool (as visitor SQL runs), interleaved rounds, the median per query.
2. What it buys: a single call SQLite's time limit cannot interrupt (a LIKE over a 10-million-
   character text; the site is configured here to allow such texts, as tests/test_query_processes.py
   does) answered through the pool, against the same call run in a thread with the site's time limit.
3. A table page while four such calls run through the pool: its median and slowest time.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.hostile import built  # noqa: E402
from serve import query_processes  # noqa: E402
from serve.app import create_datasette  # noqa: E402
from serve.sql_limits import guard_connection, query_timelimit  # noqa: E402

DATABASE = (ROOT / "build" / "drugbeleid.db").resolve()
QUERIES = {
    "select 1": "select 1",
    "a small table (caseload, every row)": "select * from caseload",
    "the largest text table (passages, every row)": "select * from passages",
}
ROUNDS, CALLS = 5, 40
LONG_TEXTS = {"SQLITE_LIMIT_LENGTH": 20_000_000}
STUCK = (
    f"select replace({built(1_000_000, 'y')}, 'yyyyyyyyyy', printf('%.100c', 'y'))"
    " like '%' || printf('%.998c', 'y') || 'q' as stuck"
)


async def per_query_cost(db) -> list[str]:
    lines = ["| query | rows | thread (ms) | process (ms) | process / thread |", "|---|---:|---:|---:|---:|"]
    for name, sql in QUERIES.items():
        timings: dict[str, list[float]] = {"thread": [], "process": []}
        for _ in range(ROUNDS):
            for mode in timings:
                started = time.perf_counter()
                for _ in range(CALLS):
                    if mode == "process":
                        with query_processes.visitor_queries():
                            results = await db.execute(sql, truncate=True)
                    else:
                        results = await db.execute(sql, truncate=True)
                timings[mode].append((time.perf_counter() - started) / CALLS * 1000)
        thread, process = statistics.median(timings["thread"]), statistics.median(timings["process"])
        lines.append(f"| {name} | {len(results.rows)} | {thread:.2f} | {process:.2f} | {process / thread:.2f}x |")
    return lines


def in_a_thread(limit_ms: int) -> float:
    """The stuck call on a guarded connection in a thread, with the site's time limit, as before."""
    import sqlite3

    connection = sqlite3.connect(f"file:{DATABASE}?mode=ro", uri=True, check_same_thread=False)
    guard_connection(connection, {"limits": LONG_TEXTS})
    took = []

    def run():
        started = time.perf_counter()
        with query_timelimit(connection, limit_ms):
            try:
                connection.execute(STUCK).fetchall()
            except sqlite3.OperationalError:
                pass
        took.append(time.perf_counter() - started)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return took[0]


async def main() -> None:
    metadata = json.loads((DATABASE.parent / "metadata.json").read_text(encoding="utf-8"))
    metadata["plugins"]["drugbeleid"]["sql_guard"].setdefault("limits", {}).update(LONG_TEXTS)
    site = create_datasette(DATABASE, cache=False, metadata=metadata)
    await site.invoke_startup()
    query_processes.start(site)
    db = site.get_database("drugbeleid")
    await site.client.get("/drugbeleid.json?sql=select+1")  # the pool's processes have started
    print("## Cost per query (median of", ROUNDS, "rounds of", CALLS, "calls)\n")
    print("\n".join(await per_query_cost(db)))

    limit = site.setting("sql_time_limit_ms")
    path = "/drugbeleid.json?" + urllib.parse.urlencode({"sql": STUCK})
    started = time.perf_counter()
    status = (await site.client.get(path)).status_code
    through_pool = time.perf_counter() - started
    thread = in_a_thread(limit)
    print(f"\n## One call the time limit cannot interrupt (limit {limit} ms)\n")
    print("| run in | answer | seconds |\n|---|---|---:|")
    print(f"| a thread (before) | the call's end | {thread:.2f} |")
    print(
        f"| the pool (now) | {status}, killed at the deadline of {query_processes.deadline_seconds(limit)} s "
        f"| {through_pool:.2f} |"
    )

    await site.client.get("/drugbeleid/staffing")
    quiet = []
    for n in range(10):
        started = time.perf_counter()
        await site.client.get(f"/drugbeleid/staffing?_n={n}")
        quiet.append(time.perf_counter() - started)

    async def table_requests():
        await asyncio.sleep(0.5)
        timings = []
        for n in range(10):
            started = time.perf_counter()
            await site.client.get(f"/drugbeleid/staffing?_m={n}")
            timings.append(time.perf_counter() - started)
        return timings

    stuck = [site.client.get(path + f"&_={n}") for n in range(4)]
    *_, busy = await asyncio.gather(*stuck, table_requests())
    print("\n## A table page (uncached, in process), alone and while four stuck calls run\n")
    print("| | median (ms) | slowest (ms) |\n|---|---:|---:|")
    print(f"| alone | {statistics.median(quiet) * 1000:.1f} | {max(quiet) * 1000:.1f} |")
    print(f"| with 4 stuck calls | {statistics.median(busy) * 1000:.1f} | {max(busy) * 1000:.1f} |")


if __name__ == "__main__":
    asyncio.run(main())
