"""`make soak`: 60 s at concurrency 64 over the public endpoint mix with hostile queries mixed in.

Starts the site as `make serve` does on 127.0.0.1, loads it with wrk (installed from Debian's
packages if missing), and prints throughput, p99, 5xx and connection errors, and the server's
resident memory at the start and the end. Stops the server by its PID.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench import ensure_wrk, free_port  # noqa: E402
from bench.hostile import CASES  # noqa: E402

HOSTILE_PATHS = ROOT / "build" / "soak-hostile-paths.txt"

DURATION = int(os.environ.get("SOAK_SECONDS", "60"))
CONCURRENCY = int(os.environ.get("SOAK_CONNECTIONS", "64"))


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return total / 1024


def server_pids(make_pid: int) -> list[int]:
    """The server's Python processes under make (granian's main process and its workers)."""
    out = subprocess.run(["pgrep", "-g", str(make_pid), "-f", "python"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def main() -> int:
    wrk = ensure_wrk()
    # the costly requests of the hostile suite join the mix (bench/soak.lua reads them)
    HOSTILE_PATHS.write_text("".join(path + "\n" for _, _, path, *_ in CASES), encoding="utf-8")
    environment = {**os.environ, "SOAK_HOSTILE_PATHS": str(HOSTILE_PATHS)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        ["make", "-s", "serve", f"PORT={port}", "HOST=127.0.0.1"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/drugbeleid/caseload.json", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        pids = server_pids(server.pid)
        # warm up every endpoint once so that the start figure is the steady state
        subprocess.run(
            [wrk, "-t2", "-c4", "-d3s", "-s", str(ROOT / "bench" / "soak.lua"), base],
            capture_output=True,
            env=environment,
        )
        start = rss_mb(pids)
        result = subprocess.run(
            [
                wrk,
                "-t2",
                f"-c{CONCURRENCY}",
                f"-d{DURATION}s",
                "--timeout",
                "10s",
                "-s",
                str(ROOT / "bench" / "soak.lua"),
                base,
            ],
            capture_output=True,
            text=True,
            timeout=DURATION + 60,
            env=environment,
        )
        end = rss_mb(pids)
        alive = urllib.request.urlopen(base + "/drugbeleid/caseload.json", timeout=5).status == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    line = next((text for text in result.stdout.splitlines() if text.startswith("SOAK ")), None)
    if line is None:
        print(result.stdout, result.stderr, file=sys.stderr)
        return 1
    figures = dict(item.split("=") for item in line.split()[1:])
    growth = (end - start) / start * 100 if start else float("nan")
    print(
        f"soak: {DURATION} s at concurrency {CONCURRENCY}, endpoint mix of bench/soak.lua (5 of 14 paths hostile) "
        f"and the {len(CASES)} costly requests of bench/hostile.py"
    )
    for key in (
        "requests",
        "rps",
        "p50_ms",
        "p99_ms",
        "status_2xx",
        "status_3xx",
        "status_4xx",
        "status_5xx",
        "connect_errors",
        "read_errors",
        "write_errors",
        "timeouts",
    ):
        print(f"  {key:15} {figures[key]}")
    print(
        f"  rss_start_mb    {start:.1f}\n  rss_end_mb      {end:.1f}\n  rss_growth_pct  {growth:.1f}\n  alive_after     {alive}"
    )
    ok = int(figures["status_5xx"]) == 0 and int(figures["connect_errors"]) == 0 and growth <= 20 and alive
    print("PASS" if ok else "FAIL: 5xx, connection errors, memory growth over 20 % or a dead server")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
