"""The first request of a canonical page after a release, through `make serve-prod`, without and
with the cache warmed (serve/prod.py). Part of `make bench`; writes build/bench/warming.json.

A release (or a start) leaves nginx's cache without an entry for any unversioned URL: without
warming, the first visitor of each page waits for a worker; with it, the pages of the sitemap and
the charts' data are fetched before (the log says when it is done). Both runs sample the same
pages: the sitemap's first pages, a slice of its middle (row pages) and its last (release files),
in both languages.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
WARMING_SECONDS = 600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def wait_for(log: Path, text: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"serve-prod: no '{text}' within {seconds} s:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)


def sample(base: str) -> list[str]:
    _, _, body = fetch(base + "/sitemap.xml")
    locs = [urllib.parse.urlsplit(unescape(loc)) for loc in re.findall(r"<loc>([^<]+)</loc>", body.decode())]
    paths = [loc.path + (f"?{loc.query}" if loc.query else "") for loc in locs]
    return paths[:12] + paths[len(paths) // 2 : len(paths) // 2 + 6] + paths[-4:]


def first_requests(warm: bool) -> dict:
    with tempfile.TemporaryDirectory() as run:
        port = free_port()
        log = Path(run) / "serve-prod.log"
        command = [
            sys.executable,
            "-m",
            "serve.prod",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--run",
            str(Path(run) / "run"),
        ] + ([] if warm else ["--no-warm"])
        with open(log, "wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(log, "serving http", process, 60)
            if warm:
                wait_for(log, "cache warmed", process, WARMING_SECONDS)
            base = f"http://127.0.0.1:{port}"
            paths = sample(base)
            times, hits = [], 0
            for path in paths:
                began = time.monotonic()
                _, headers, _ = fetch(base + path)
                times.append((time.monotonic() - began) * 1000)
                hits += headers.get("x-cache-status") == "HIT"
            warmed = re.findall(r"cache warmed .*", log.read_text(errors="replace"))
        finally:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    return {
        "warm": warm,
        "pages": len(paths),
        "hits": hits,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "total_ms": round(sum(times)),
        "warming": warmed,
    }


def main() -> None:
    results = [first_requests(warm=False), first_requests(warm=True)]
    for result in results:
        print(
            f"first request after a release, cache {'warmed' if result['warm'] else 'not warmed'}: "
            f"{result['pages']} canonical pages, {result['hits']} hits, median {result['median_ms']} ms, "
            f"max {result['max_ms']} ms" + (f" ({result['warming'][0]})" if result["warming"] else "")
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "warming.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
