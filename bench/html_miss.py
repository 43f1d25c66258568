"""`make bench-html`: uncached HTML table and row pages, the site against stock Datasette 0.65.5, in a
few minutes.

Both are served by the same granian command (`make serve`'s, one worker; the site with its response
cache off, so that every request is a miss; stock Datasette from bench/baselines/stock_app.py with
the same database, metadata and settings). For each of RUNS runs, each page is loaded on one target
then the other (the order alternates between runs) with wrk, CONNECTIONS connections for SECONDS
seconds. The report gives each run's requests/s, the median of the runs, the ratio site/stock of the
medians and the spread of the per-run ratios, and writes build/bench/html_miss.json. On a shared
machine requests/s follow the neighbours' load, so it also gives the CPU time each target's worker
spent per request (user + system, from /proc), which they disturb far less.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

from bench.bench import (
    DB,
    OUT,
    ROW_ID,
    baseline_command,
    make_serve_line,
    run_wrk,
    start,
)

PAGES = {"table": "/drugbeleid/caseload", "row": f"/drugbeleid/statistics/{ROW_ID}"}
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server) -> float:
    """User + system CPU time of a server's worker processes so far."""
    total = 0
    for pid in server.workers():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    site_line = make_serve_line({"WORKERS": "1", "CACHE": "off"})
    env = {"BENCH_DB": str(DB), "DRUGBELEID_DB": str(DB), "RESPONSE_CACHE": "off"}
    servers = {}
    try:
        # `make serve`'s own command (its variables given through the environment above)
        command = site_line[site_line.index("exec") + 1 :]
        servers["site"] = start("site_html", command, env=env, probe="/drugbeleid/caseload")
        servers["stock"] = start("stock_html", baseline_command("stock_app"), env=env, probe="/drugbeleid/caseload")
        results = {page: {"site": [], "stock": []} for page in PAGES}
        cpu = {page: {"site": [], "stock": []} for page in PAGES}
        for run in range(RUNS):
            order = ["site", "stock"] if run % 2 == 0 else ["stock", "site"]
            for page, path in PAGES.items():
                for name in order:
                    before = cpu_seconds(servers[name])
                    measured = run_wrk(servers[name].base + path, CONNECTIONS, SECONDS)
                    if measured.get("non2xx") or measured.get("errors"):
                        raise RuntimeError(f"{name} {path}: {measured}")
                    results[page][name].append(measured["rps"])
                    cpu[page][name].append((cpu_seconds(servers[name]) - before) * 1000 / measured["requests"])
    finally:
        for server in servers.values():
            server.stop()
    report = {"connections": CONNECTIONS, "seconds": SECONDS, "runs": RUNS, "pages": {}}
    print(f"uncached HTML, {CONNECTIONS} connections, {SECONDS} s per load, {RUNS} interleaved runs (requests/s)")
    print(f"{'page':6} {'site runs':>24} {'stock runs':>24} {'site':>7} {'stock':>7} {'ratio':>6} {'run ratios':>18}")
    for page, found in results.items():
        site, stock = statistics.median(found["site"]), statistics.median(found["stock"])
        ratios = [a / b for a, b in zip(found["site"], found["stock"])]
        report["pages"][page] = {
            "path": PAGES[page],
            "site_rps": found["site"],
            "stock_rps": found["stock"],
            "site_median": site,
            "stock_median": stock,
            "ratio": site / stock,
            "run_ratios": ratios,
        }
        print(
            f"{page:6} {' '.join(f'{v:7.1f}' for v in found['site']):>24} {' '.join(f'{v:7.1f}' for v in found['stock']):>24}"
            f" {site:7.1f} {stock:7.1f} {site / stock:6.2f} {min(ratios):8.2f}-{max(ratios):.2f}"
        )
    print(f"CPU time of the worker per request (ms), median of {RUNS} runs")
    for page, found in cpu.items():
        site, stock = statistics.median(found["site"]), statistics.median(found["stock"])
        ratios = [b / a for a, b in zip(found["site"], found["stock"])]
        report["pages"][page].update(
            {
                "site_cpu_ms": found["site"],
                "stock_cpu_ms": found["stock"],
                "cpu_ratio": stock / site,
                "cpu_run_ratios": ratios,
            }
        )
        print(
            f"{page:6} site {site:6.2f} ms  stock {stock:6.2f} ms  speed ratio (stock CPU / site CPU) {stock / site:.2f}"
            f"  runs {min(ratios):.2f}-{max(ratios):.2f}"
        )
    (OUT / "html_miss.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
