"""Costly anonymous requests, per route family: the cases of the hostile suite (tests/test_hostile.py),
the extra mix of `make soak`, and a short before/after measurement for docs/security.md.

    .venv/bin/python bench/hostile.py [BASELINE_COMMIT]

starts this checkout and, when a commit is given, that commit (exported to a temporary folder)
with `make serve` on free 127.0.0.1 ports, one after the other, and prints for each case the
status, bytes and seconds of both, as a Markdown table. A request is given at most CAP seconds;
a server left busy by a request that ran out of time is restarted before the next case.
About two minutes against a baseline without the bounds. Every process is stopped by its PID.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench import free_port  # noqa: E402

CAP = 15.0


def sql(query: str, fmt: str = ".json", database: str = "/drugbeleid") -> str:
    return f"{database}{fmt}?" + urllib.parse.urlencode({"sql": query})


# A string of n characters built at run time (no literal in the SQL), from printf's bounded widths.
def built(n: int, char: str = "x") -> str:
    thousands, rest = divmod(n, 1000)
    parts = [f"replace(printf('%.{thousands}c','x'),'x',printf('%.1000c','{char}'))"] if thousands else []
    return "||".join(parts + ([f"printf('%.{rest}c','{char}')"] if rest else []))


# search_index faceted by each of its nine columns at the largest facet size, in a URL padded to
# 4 KB: the largest facet body, as JSON or as a page (`table` with or without .json).
def every_facet_at_size_max(table: str) -> str:
    columns = [
        "id",
        "table_name",
        "row_key",
        "row_path",
        "column_name",
        "document_id",
        "passage_id",
        "text",
        "text_normalised",
    ]
    facets = "&".join(f"_facet={c}" for c in columns)
    return f"{table}?{facets}&_facet_size=max&_size=max&_pad=" + "x" * 3_700


# (route family, case, path, expected statuses after the bounds, most bytes after, generous seconds after)
CASES = [
    (
        "table JSON",
        "100 x the same facet, facet size max, _size=0",
        "/drugbeleid/search_index.json?" + "&".join(["_facet=text"] * 100) + "&_facet_size=max&_size=0",
        {200},
        200_000,
        10,
    ),
    (
        "table JSON",
        "1,000 x _facet=year (12 KB URL)",
        "/drugbeleid/caseload.json?" + "&".join(["_facet=year"] * 1000),
        {414},
        2_000,
        10,
    ),
    (
        "table JSON",
        "300 x _facet=year (3.6 KB URL)",
        "/drugbeleid/caseload.json?" + "&".join(["_facet=year"] * 300),
        {200},
        200_000,
        10,
    ),
    (
        "table JSON",
        "11 different facets",
        "/drugbeleid/search_index.json?"
        + "&".join(f"_facet={c}" for c in ["text", "kind", "table_name", "title", "a", "b", "c", "d", "e", "f", "g"]),
        {400},
        2_000,
        10,
    ),
    (
        "table JSON",
        "9 facets x facet size max, 4 KB URL (the largest facet body)",
        every_facet_at_size_max("/drugbeleid/search_index.json"),
        {200},
        5_000_000,
        15,
    ),
    (
        "table HTML",
        "9 facets x facet size max, 4 KB URL, as a page",
        every_facet_at_size_max("/drugbeleid/search_index"),
        {200},
        8_000_000,
        20,
    ),
    (
        "table HTML",
        "4,000 digits in a parameter, Dutch page",
        "/drugbeleid/caseload?_x=" + "1" * 4000,
        {200},
        1_000_000,
        10,
    ),
    (
        "table HTML",
        "10,000 digits in a parameter, Dutch page",
        "/drugbeleid/caseload?_x=" + "1" * 10000,
        {414},
        100_000,
        10,
    ),
    ("table HTML", "_size=max on the largest table", "/drugbeleid/search_index?_size=max", {200}, 5_000_000, 15),
    ("table JSON", "_through={}", "/drugbeleid/caseload.json?_through=%7B%7D", {400}, 2_000, 10),
    ("table JSON", "_through=[]", "/drugbeleid/caseload.json?_through=%5B%5D", {400}, 2_000, 10),
    ("table CSV", "the largest table, whole", "/drugbeleid/search_index.csv?_size=max", {200}, 5_000_000, 15),
    (
        "query HTML",
        "a *_markdown column of 8,000 [",
        sql(f"select {built(1000, '[')} as a_markdown", ""),
        {200},
        1_000_000,
        10,
    ),
    (
        "query Atom",
        "visitor SQL as an Atom feed with 1 MB of atom_content_html",
        sql(
            f"select 1 as atom_id, 'x' as atom_title, '2020-01-01T00:00:00Z' as atom_updated, {built(1_000_000, '<')} as atom_content_html",
            ".atom",
        ),
        {400},
        2_000,
        10,
    ),
    (
        "query JSON",
        "printf %n shifting a width past the guard",
        sql("select length(printf('%n%.*c', 1001, 'x'))"),
        {400},
        2_000,
        10,
    ),
    (
        "query JSON",
        "printf %n with a width of 2^31-1 over three rows",
        sql("select length(printf('%n%.*c', 2147483647, column1)) from (values ('a'),('b'),('c'))"),
        {400},
        2_000,
        10,
    ),
    (
        "query JSON",
        "result at the cell budget (the largest query body)",
        sql("select " + ", ".join(["a.text"] * 10) + " from passages a, (select 1 from passages limit 8) b"),
        {200},
        6_000_000,
        15,
    ),
    (
        "query HTML",
        "result at the cell budget, as a page",
        sql("select " + ", ".join(["a.text"] * 10) + " from passages a, (select 1 from passages limit 8) b", ""),
        {200},
        6_000_000,
        20,
    ),
    (
        "query JSON",
        "result of escaped characters at the cell budget",
        sql("select " + ", ".join([built(450_000, '"')] * 11)),
        {200, 400},
        8_000_000,
        15,
    ),
    (
        "query HTML",
        "cells of 200 quotes (each written &#34;) x 2,000 rows, as a page",
        sql("select " + ", ".join([built(200, '"')] * 11) + " from passages a, (select 1 from passages limit 9) b", ""),
        {400},
        100_000,
        20,
    ),
    (
        "query HTML",
        "190 columns of small numbers x 2,000 rows, as a page",
        sql(
            "select "
            + ", ".join(f"a.ordinal as c{i}" for i in range(190))
            + " from passages a, (select 1 from passages limit 9) b",
            "",
        ),
        {400},
        100_000,
        20,
    ),
]

# A single call SQLite cannot interrupt: its cost is the product of its arguments' lengths (each
# character of the text is looked for among the characters to trim, found only at their end).
STUCK_CALL = sql(f"select length(ltrim({built(20_000, 'y')}, {built(19_999, 'z')} || 'y'))")  # 5 s unguarded here


def request(port: int, path: str, timeout: float = CAP) -> tuple[int | str, int, float]:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        size = 0
        while chunk := response.read(1 << 16):
            size += len(chunk)
            if time.monotonic() - started > timeout:
                raise TimeoutError
        return response.status, size, time.monotonic() - started
    except (TimeoutError, OSError):
        return "timeout", 0, time.monotonic() - started
    finally:
        connection.close()


class Server:
    """`make serve` in `root` on a free port; stopped (and restarted) by its process group."""

    def __init__(self, root: Path):
        self.root = root
        self.process = None
        self.port = 0

    def start(self) -> Server:
        self.port = free_port()
        self.process = subprocess.Popen(
            ["make", "-s", "serve", f"PORT={self.port}", "HOST=127.0.0.1"],
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while request(self.port, "/drugbeleid/caseload.json", timeout=2)[0] != 200:
            assert self.process.poll() is None and time.monotonic() < deadline, f"{self.root}: the server did not start"
            time.sleep(0.3)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


def benign_under_stuck_calls(server: Server, calls: int = 4) -> tuple[float, list]:
    """The slowest of three table requests while `calls` stuck calls run, and the calls' answers."""
    answers: list = []
    threads = [
        threading.Thread(target=lambda i=i: answers.append(request(server.port, STUCK_CALL + f"&_={i}")))
        for i in range(calls)
    ]
    [t.start() for t in threads]
    time.sleep(0.3)
    slowest = 0.0
    for n in range(3):
        status, _, seconds = request(server.port, f"/drugbeleid/staffing.json?_n={n}")
        slowest = max(slowest, seconds if status == 200 else float("inf"))
    [t.join(CAP + 5) for t in threads]
    return slowest, answers


def measure(server: Server) -> dict[str, tuple]:
    results = {}
    for _family, name, path, *_ in CASES:
        results[name] = request(server.port, path)
        if results[name][0] == "timeout":
            server.restart()
    results["stuck call: ltrim of 20,000 x 20,000 characters"] = request(server.port, STUCK_CALL)
    server.restart()
    slowest, _ = benign_under_stuck_calls(server)
    results["a table request while 4 stuck calls run"] = (200 if slowest != float("inf") else "error", 0, slowest)
    return results


def exported(commit: str, into: Path) -> Path:
    """The commit's tree in a temporary folder, with this checkout's virtualenv."""
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    (into / ".venv").symlink_to((ROOT / ".venv").resolve())
    return into


def cell(result) -> str:
    status, size, seconds = result
    shown = f">{CAP:.0f} s (stopped)" if status == "timeout" else f"{seconds:.2f} s"
    return f"{status} · {size:,} B · {shown}"


def main(argv: list[str]) -> int:
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("after", ROOT)]
        if argv:
            trees.insert(0, ("before", exported(argv[0], Path(tmp))))
        for label, root in trees:
            server = Server(root).start()
            try:
                runs[label] = measure(server)
            finally:
                server.stop()
    labels = list(runs)
    print("| route family | case | " + " | ".join(labels) + " |")
    print("|---|---|" + "---|" * len(labels))
    families = {name: family for family, name, *_ in CASES}
    for name in runs["after"]:
        print(
            f"| {families.get(name, 'query JSON')} | {name} | "
            + " | ".join(cell(runs[label][name]) for label in labels)
            + " |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
