"""The CPU an uncached HTML table page costs, in process: the site against stock Datasette 0.65.5.

    python -m bench.html_cpu [N] [ROUNDS]        (default 30 requests, 40 rounds)

`make bench-html` measures through granian and wrk, where the neighbours of a shared machine move
requests/s by ±40 %. This asks the pages of Datasette's own in-process client, one target per
process (the site as serve/app.py builds it with its response cache off, and stock Datasette as
bench/baselines/stock_app.py builds it), and counts the CPU time of each process (user + system)
over N requests of /drugbeleid/caseload (or HTML_CPU_PAGE), the Dutch and the English page in turn. The rounds are
interleaved (the order rotates), and the report gives each target's median CPU ms per request and
the median of the per-round ratios with their quartiles. BASE_ROOT=/path/to/another/checkout adds
that checkout's site as a third target (an earlier commit, unpacked with `git archive`), so a
change is measured against what it replaces in the same run. It also counts the Python function
calls of one page per target (cProfile), a figure the machine's load does not move.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = Path(os.environ.get("BENCH_DB", ROOT / "build" / "drugbeleid.db")).resolve()
# The page measured, its Dutch and its English version: the table page, or another (the row page:
# HTML_CPU_PAGE=/drugbeleid/statistics/bleave-project-age).
PAGE = os.environ.get("HTML_CPU_PAGE", "/drugbeleid/caseload")
PATHS = [PAGE, PAGE + ("&" if "?" in PAGE else "?") + "_lang=en"]


def target(root: Path, kind: str):
    """Datasette for `kind` ("site": `root`'s serve/app.py, response cache off; "stock")."""
    if kind == "stock":
        sys._called_from_test = True  # before datasette.plugins is imported: no entry-point plugins
        from datasette.app import Datasette

        return Datasette(
            immutables=[str(DB)],
            metadata=json.loads((DB.parent / "metadata.json").read_text(encoding="utf-8")),
            inspect_data=json.loads((DB.parent / "inspect.json").read_text(encoding="utf-8")),
            settings=json.loads((ROOT / "serve" / "settings.json").read_text(encoding="utf-8")),
        )
    sys.path.insert(0, str(root))
    os.chdir(root)
    from serve.app import create_datasette

    return create_datasette(DB, cache=False, public_base_url="http://127.0.0.1:8001/")


def worker(root: Path, kind: str) -> None:
    """Answer each N read from stdin with the CPU ms per request of N pages (and calls per page)."""
    import asyncio
    import cProfile
    import pstats

    datasette = target(root, kind)
    loop = asyncio.new_event_loop()

    async def run(n: int) -> None:
        for i in range(n):
            response = await datasette.client.get(PATHS[i % 2])
            assert response.status_code == 200, (kind, response.status_code)

    loop.run_until_complete(run(20))
    profile = cProfile.Profile()
    profile.enable()
    loop.run_until_complete(run(len(PATHS)))
    profile.disable()
    print(json.dumps({"calls": pstats.Stats(profile).total_calls / len(PATHS)}), flush=True)
    for line in sys.stdin:
        n = int(line)
        before = time.process_time()
        loop.run_until_complete(run(n))
        print(json.dumps({"cpu": (time.process_time() - before) * 1000 / n}), flush=True)


def main(n: int = 30, rounds: int = 40) -> int:
    targets = {"site": (ROOT, "site"), "stock": (ROOT, "stock")}
    if os.environ.get("BASE_ROOT"):
        targets["base"] = (Path(os.environ["BASE_ROOT"]).resolve(), "site")
    processes, calls = {}, {}
    try:
        for name, (root, kind) in targets.items():
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "bench.html_cpu", "--worker", str(root), kind],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            calls[name] = json.loads(processes[name].stdout.readline())["calls"]
        cpu = {name: [] for name in targets}
        names = list(targets)
        for round_ in range(rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                processes[name].stdin.write(f"{n}\n")
                processes[name].stdin.flush()
                cpu[name].append(json.loads(processes[name].stdout.readline())["cpu"])
    finally:
        for process in processes.values():
            process.stdin.close()
            process.wait(timeout=60)
    print(f"uncached {' and '.join(PATHS)} in process, {rounds} interleaved rounds of {n} requests")
    for name, found in cpu.items():
        print(
            f"{name:6} CPU {statistics.median(found):6.2f} ms/request (median; rounds {min(found):.2f}-{max(found):.2f}),"
            f" {calls[name]:,.0f} Python calls/page"
        )
    for name in names[1:]:
        ratios = [a / b for a, b in zip(cpu["site"], cpu[name])]
        low, _, high = statistics.quantiles(ratios, n=4)
        print(
            f"site/{name}: CPU ratio {statistics.median(ratios):.3f} (median of the rounds; quartiles {low:.3f}-{high:.3f})"
        )
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(Path(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(main(*(int(a) for a in sys.argv[1:3])))
