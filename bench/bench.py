"""`make bench`: the site against its baselines, in one interleaved run on 127.0.0.1.

Targets, all started here and stopped by their process group's PID:
  floor        bare ASGI app returning the site's own response bytes, fetched once (bench/baselines/floor.py)
  sql          bare ASGI app running the page's main SQL with sqlite3 (bench/baselines/sql.py)
  site         the site exactly as `make serve` runs it (response cache on)
  site_nocache the same with the response cache off: every request is a miss
  stock        stock Datasette 0.65.5: same database, metadata and settings, default plugins only
  site_w2      WORKERS=2, cache off (only for the both-cores check)
  proxy        `make serve-prod`: nginx (deploy/nginx.conf) with its cache in front of 2 workers
  static       the static-file limit: the same nginx configuration, its `location /` replaced by
               files holding the site's response bytes (bench/bench.py: static_config)
  proxy_miss   serve-prod with 1 worker, its response cache off, loaded with URLs no cache has seen
               (bench/miss.lua), against site_nocache loaded the same way
The baselines run under the same server and options as the site (granian, see baseline_command);
stock Datasette runs as `datasette serve` does (uvicorn), as people run it.

For every endpoint and concurrency the targets are loaded one after the other with
`wrk --latency` (absolute figures drift by up to 1.8x between passes on this machine, so ratios are
taken within one pass; BENCH_PASSES > 1 repeats the whole mix and reports medians). It prints
requests/s, p50, p99, non-2xx and socket errors and the ratio to the floor, then PASS/GAP per speed
target, and writes everything as JSON to build/bench/.

Environment: BENCH_SECONDS (3), BENCH_PASSES (1), BENCH_CONCURRENCY (1,16,64), BENCH_ENDPOINTS
(names, comma-separated; default all).
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a file (make bench): the project's modules from its root
from scripts.project import read_release  # noqa: E402

OUT = ROOT / "build" / "bench"
DB = ROOT / "build" / "drugbeleid.db"
SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
PASSES = int(os.environ.get("BENCH_PASSES", "1"))
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1,16,64").split(",")]
WORKERS_SECONDS = 5
HIT_CONCURRENCY = 16
COLD_STARTS = 3

# How the site is started in each mode: `make serve` with these make variables
# (from the cache/workers helper, see docs/performance.md).
SITE_MODES = {
    "site": {},
    "site_nocache": {"CACHE": "off"},
    "site_w2": {"CACHE": "off", "WORKERS": "2"},
}

# ---------------------------------------------------------------------------------------------
# The endpoint mix, with the main SQL each page needs (for the SQL baseline).
# ---------------------------------------------------------------------------------------------
ROW_ID = "bleave-project-age"
ADHOC_SQL = "select year, sum(dossiers) from caseload group by year"


def facet_sql(table: str, column: str, where: str = "") -> str:
    return (
        f"select {column} as value, count(*) as count from {table} where {column} is not null"
        f"{' and ' + where if where else ''} group by {column} order by count desc, value limit 31"
    )


def table_queries(table: str, order: str, facets: list[str], where: str = "", params: list | None = None) -> dict:
    """Rows, count and the configured facets: the SQL a Datasette table page runs for its content."""
    params = params or []
    clause = f" where {where}" if where else ""
    queries = {
        "rows": [f"select * from {table}{clause} order by {order} limit 101", params],
        "count": [f"select count(*) as count from {table}{clause}", params],
    }
    queries.update({f"facet_{c}": [facet_sql(table, c, where), params] for c in facets})
    return queries


def canned_sql(name: str) -> str:
    import yaml

    site = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    return site["databases"]["drugbeleid"]["queries"][name]["sql"]


@dataclass
class Endpoint:
    name: str
    path: str
    format: str = "json"  # of the SQL baseline's answer
    queries: dict | None = None  # SQL baseline; None: no SQL behind it
    concurrency: list[int] = field(default_factory=lambda: list(CONCURRENCY))
    mix: bool = True  # part of the cache-miss mix
    stock: bool = True  # stock Datasette serves the same page at this URL


def endpoints() -> list[Endpoint]:
    caseload = dict(
        table="caseload", order="year, justice_house_id", facets=["justice_house_id", "year", "period_complete"]
    )
    statistics_facets = dict(table="statistics", order="id", facets=["topic", "unit"])
    by_year = canned_sql("caseload_by_year")
    found = [
        Endpoint("table_json", "/drugbeleid/caseload.json", "json", table_queries(**caseload)),
        Endpoint("table_csv", "/drugbeleid/caseload.csv", "csv", table_queries(**caseload)),
        Endpoint(
            "filtered",
            "/drugbeleid/caseload.json?justice_house_id=gent",
            "json",
            table_queries(**caseload, where="justice_house_id = ?", params=["gent"]),
        ),
        Endpoint("facet", "/drugbeleid/statistics.json?_facet=topic", "json", table_queries(**statistics_facets)),
        Endpoint(
            "search",
            "/drugbeleid/passages.json?_search=recidive",
            "json",
            table_queries(
                "passages",
                "id",
                [],
                "rowid in (select rowid from passages_fts where passages_fts match ?)",
                ['"recidive"'],
            ),
        ),
        Endpoint(
            "row",
            f"/drugbeleid/statistics/{ROW_ID}.json",
            "json",
            {"rows": ["select * from statistics where id = ?", [ROW_ID]]},
        ),
        Endpoint("canned", "/drugbeleid/caseload_by_year.json", "json", {"rows": [by_year, []]}),
        Endpoint(
            "adhoc_sql",
            "/drugbeleid.json?sql=" + urllib.parse.quote(ADHOC_SQL, safe=""),
            "json",
            {"rows": [ADHOC_SQL, []]},
        ),
        Endpoint("html_table", "/drugbeleid/caseload", "html", table_queries(**caseload)),
        # repeat-request targets only (part 2): measured at c=16
        Endpoint(
            "feed_csv", "/drugbeleid/caseload_by_year.csv", "csv", {"rows": [by_year, []]}, [HIT_CONCURRENCY], False
        ),
        Endpoint(
            "row_html",
            f"/drugbeleid/statistics/{ROW_ID}",
            "html",
            {"rows": ["select * from statistics where id = ?", [ROW_ID]]},
            [HIT_CONCURRENCY],
            False,
        ),
        Endpoint("catalog_ttl", "/catalog.ttl", concurrency=[HIT_CONCURRENCY], mix=False),
        Endpoint("openapi", "/openapi.json", concurrency=[HIT_CONCURRENCY], mix=False),
        Endpoint("home", "/", concurrency=[HIT_CONCURRENCY], mix=False, stock=False),  # stock's / is another page
    ]
    wanted = os.environ.get("BENCH_ENDPOINTS")
    return [e for e in found if not wanted or e.name in wanted.split(",")]


# Visitor SQL is rate limited per client by the proxy (5/s, bursts of 20, then 429): one wrk client
# cannot measure its repeat requests through the proxy, by design.
NOT_THROUGH_PROXY = {"adhoc_sql"}
PROXY_CONCURRENCY = (HIT_CONCURRENCY, 64)


def targets_for(endpoint: Endpoint, concurrency: int, available: dict[str, set[str]]) -> list[str]:
    """Floor, SQL baseline and the cached site everywhere; the miss comparison (stock Datasette and
    the site without cache) at c=1 and c=16 only, to keep the run within ~10 minutes; the proxy and
    the static-file limit at c=16 and c=64."""
    names = ["floor", "sql", "site"]
    if concurrency in (1, HIT_CONCURRENCY):
        names += ["stock", "site_nocache"]
    if concurrency in PROXY_CONCURRENCY and endpoint.name not in NOT_THROUGH_PROXY:
        names += ["proxy", "static"]
    return [n for n in names if endpoint.name in available.get(n, set())]


# ---------------------------------------------------------------------------------------------
# wrk: run and parse (pure functions, tested in tests/test_bench_parsing.py)
# ---------------------------------------------------------------------------------------------
TIME_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def milliseconds(text: str) -> float:
    """wrk's latency '812.00us', '4.21ms', '1.02s', '1.50m' in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * TIME_UNITS[match.group(2)]


def parse_wrk(output: str) -> dict:
    """The figures of one `wrk --latency` run: requests, requests/s, p50/p90/p99 in ms, non-2xx/3xx
    responses and socket errors (connect, read, write, timeout)."""
    requests = re.search(r"^\s*(\d+) requests in ([\d.]+\w+),", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not (requests and rps):
        raise ValueError("no wrk summary in the output:\n" + output)
    percentiles = {int(p): milliseconds(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", output, re.M)}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": int(requests.group(1)),
        "duration_ms": milliseconds(requests.group(2)),
        "rps": float(rps.group(1)),
        "p50_ms": percentiles.get(50),
        "p90_ms": percentiles.get(90),
        "p99_ms": percentiles.get(99),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": dict(zip(("connect", "read", "write", "timeout"), map(int, errors.groups())))
        if errors
        else {"connect": 0, "read": 0, "write": 0, "timeout": 0},
    }


def ensure_wrk() -> str:
    """wrk from Debian's packages, installed if missing (as make soak does)."""
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "update", "-qq"], check=False, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk")


def wrk_command(
    url: str, concurrency: int, seconds: int, script: Path | None = None, args: list[str] = ()
) -> list[str]:
    command = ["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    if script:
        command += ["-s", str(script)]
    return command + [url] + (["--", *args] if args else [])


def run_wrk(url: str, concurrency: int, seconds: int, script: Path | None = None, args: list[str] = ()) -> dict:
    result = subprocess.run(
        wrk_command(url, concurrency, seconds, script, args), capture_output=True, text=True, timeout=seconds + 30
    )
    figures = parse_wrk(result.stdout)
    figures["errors"] = sum(figures["socket_errors"].values())
    if figures["p50_ms"] is None:  # no latency distribution: keep what wrk said
        figures["wrk_output"] = result.stdout + result.stderr
    return figures


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    base: str
    cold_start_s: float | None = None

    def workers(self) -> list[int]:
        """The processes of this server's group that serve requests: granian's worker processes
        (children of its main process), or the one Python process of a single-process server."""
        python = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if int(fields[2]) == self.process.pid and "python" in Path(cmdline).name:
                python[int(stat.parent.name)] = int(fields[1])
        children = [pid for pid, parent in python.items() if parent in python]
        return sorted(children or python)

    def rss_mb(self) -> dict[int, float]:
        sizes = {}
        for pid in self.workers():
            try:
                match = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
            except OSError:
                continue
            if match:
                sizes[pid] = int(match.group(1)) / 1024
        return sizes

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)  # serve-prod stops its nginx and workers first
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start(
    name: str,
    command: list[str],
    env: dict | None = None,
    probe: str = "/",
    timeout: float = 60,
    port: int | None = None,
) -> Server:
    """Start a server in its own process group and wait for the first 200 on probe; the time from
    the start of the command to that answer is its cold start."""
    port = port or free_port()
    command = [part.replace("{port}", str(port)) for part in command]
    log = open(OUT / f"{name}.log", "wb")
    began = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    server = Server(name, process, f"http://127.0.0.1:{port}")
    while True:
        try:
            with urllib.request.urlopen(server.base + probe, timeout=2) as response:
                if response.status == 200:
                    server.cold_start_s = time.monotonic() - began
                    return server
        except (OSError, urllib.error.HTTPError):
            pass
        if process.poll() is not None or time.monotonic() - began > timeout:
            server.stop()
            raise RuntimeError(f"{name} did not start: {' '.join(command)} (see {log.name})")
        time.sleep(0.01)


def make_serve_line(variables: dict) -> list[str]:
    """The command `make serve` runs, as make prints it with -n (to start the baselines alike)."""
    out = subprocess.run(
        ["make", "-n", "-s", "serve", "PORT={port}", "HOST=127.0.0.1", *(f"{k}={v}" for k, v in variables.items())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # the last logical line is serve's own recipe (make may first print an out-of-date build's)
    return shlex.split(out.replace("\\\n", " ").strip().splitlines()[-1])


def baseline_command(module: str) -> list[str]:
    """A baseline runs under the server the site runs under, with the same options and one worker:
    `make serve`'s granian command with the baseline app in place of the site's factory."""
    line = make_serve_line({"WORKERS": "1"})
    # granian itself, or `python -m serve.workers` (granian's command line with safe signal handling)
    server = next((i for i, part in enumerate(line) if Path(part).name == "granian" or part == "serve.workers"), None)
    if server is None or "--factory" not in line:
        raise RuntimeError(f"make serve no longer runs granian with a factory; adapt baseline_command: {line}")
    options = line[server + 1 :]
    factory = options.index("--factory")
    del options[factory : factory + 2]
    program = (
        [str(ROOT / ".venv" / "bin" / "granian")]
        if Path(line[server]).name == "granian"
        else [str(ROOT / ".venv" / "bin" / "python"), "-m", "serve.workers"]
    )
    return [*program, *options, f"bench.baselines.{module}:app"]


def stock_command() -> list[str]:
    """Stock Datasette as its documentation runs it: `datasette serve -i` with the site's database,
    inspect file, metadata and settings (serve/settings.json), neither the project's plugins nor
    its templates, and only Datasette's default plugins (bench/baselines/stock_datasette.py)."""
    settings = json.loads((ROOT / "serve" / "settings.json").read_text(encoding="utf-8"))
    args = []
    for name, value in settings.items():
        args += ["--setting", name, ("on" if value else "off") if isinstance(value, bool) else str(value)]
    return [
        sys.executable,
        "bench/baselines/stock_datasette.py",
        "serve",
        "-i",
        str(DB),
        "--inspect-file",
        str(DB.parent / "inspect.json"),
        "--metadata",
        str(DB.parent / "metadata.json"),
        *args,
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
    ]


def proxy_command(workers: int, run_dir: Path) -> list[str]:
    """`make serve-prod`'s command (serve/prod.py) on a free port, with its own run directory."""
    return [
        str(ROOT / ".venv" / "bin" / "python"),
        "-m",
        "serve.prod",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--workers",
        str(workers),
        "--run",
        str(run_dir),
    ]


STATIC_TYPES = {"json": "application/json", "csv": "text/plain", "html": "text/html", "ttl": "text/turtle"}


def static_config(proxy_config: str, files: dict[str, str], root: Path, run_dir: Path, port_placeholder: str) -> str:
    """The proxy's rendered nginx.conf with its `location /` replaced by static files: the same
    worker processes, events, logging, limits, gzip and headers module settings, no proxy."""
    begin = proxy_config.index("        location / {")
    end = proxy_config.index("        location /-/proxy-error/")
    entries = "\n".join(f'        "{uri}" /{name};' for uri, name in files.items())
    location = f"""        location / {{
            root {root};
            try_files $static_file =404;
            add_header X-Cache-Status STATIC always;
        }}

"""
    text = proxy_config[:begin] + location + proxy_config[end:]
    text = text.replace("http {\n", "http {\n    map_hash_bucket_size 512;  # the long URLs of the mix\n", 1)
    text = re.sub(r"listen \S+;", f"listen 127.0.0.1:{port_placeholder};", text)
    text = text.replace(str(proxy_run_dir_marker(proxy_config)), str(run_dir))
    types = "\n".join(f"        {t} {ext};" for ext, t in STATIC_TYPES.items())
    text = re.sub(r"    types \{.*?\n    \}", "    types {\n" + types + "\n    }", text, count=1, flags=re.S)
    return text.replace(
        "    gzip on;",
        f"    map $request_uri $static_file {{\n{entries}\n        default /missing;\n    }}\n\n    gzip on;",
        1,
    )


def proxy_run_dir_marker(config: str) -> str:
    return re.search(r"^pid (\S+)/nginx\.pid;", config, re.M).group(1)


def site_command(variables: dict) -> list[str]:
    return ["make", "-s", "serve", "PORT={port}", "HOST=127.0.0.1", *(f"{k}={v}" for k, v in variables.items())]


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------
def fetch(url: str) -> tuple[int, str, bytes, dict]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("content-type", ""), response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read(), dict(error.headers)


def machine() -> dict:
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    memory = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu.group(1) if cpu else platform.processor(),
        "ram_gib": round(int(memory.group(1)) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "loadavg_start": os.getloadavg(),
    }


def versions() -> dict:
    import datasette
    import h11
    import uvicorn

    found = {
        "python": platform.python_version(),
        "datasette": datasette.__version__,
        "sqlite": sqlite3.sqlite_version,
        "uvicorn": uvicorn.__version__,
        "h11": h11.__version__,
    }
    try:
        import granian

        found["granian"] = granian.__version__
    except ImportError:
        found["granian"] = None
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    found["wrk"] = (wrk.stdout + wrk.stderr).split("Copyright")[0].strip().removeprefix("wrk ")
    return found


def git_commit() -> str | None:
    """HEAD read from .git without running git (the lead owns git)."""
    git = ROOT / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        if (git / ref).exists():
            return (git / ref).read_text().strip()
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        return None
    return None


def median(values: list[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(samples: list[dict]) -> dict:
    return {
        "rps": median([s["rps"] for s in samples]),
        "p50_ms": median([s["p50_ms"] for s in samples]),
        "p99_ms": median([s["p99_ms"] for s in samples]),
        "non2xx": sum(s["non2xx"] for s in samples),
        "errors": sum(s["errors"] for s in samples),
        "passes": len(samples),
        **(
            {"wrk_output": [s["wrk_output"] for s in samples if "wrk_output" in s]}
            if any("wrk_output" in s for s in samples)
            else {}
        ),
    }


def number(value: float | None, decimals: int = 2) -> str:
    return "-" if value is None else f"{value:.{decimals}f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "GAP "


def main() -> int:
    ensure_wrk()
    OUT.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    subprocess.run(["make", "-s", "build"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    mix = endpoints()
    report = {
        "date": started_at,
        "command": " ".join(
            [
                f"{k}={os.environ[k]}"
                for k in ("BENCH_SECONDS", "BENCH_PASSES", "BENCH_CONCURRENCY", "BENCH_ENDPOINTS")
                if k in os.environ
            ]
            + ["make bench"]
        ),
        "commit": git_commit(),
        "machine": machine(),
        "versions": versions(),
        "data_version": read_release(ROOT / "build")["version"],
        "seconds_per_load": SECONDS,
        "passes": PASSES,
    }
    servers: dict[str, Server] = {}
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        # the site first, alone, so that its cold start is measured without load: median of 3 starts
        cold = {}
        for name, variables in SITE_MODES.items():
            for _ in range(COLD_STARTS):
                if name in servers:
                    servers.pop(name).stop()
                servers[name] = start(name, site_command(variables), probe="/drugbeleid/caseload.json")
                cold.setdefault(name, []).append(servers[name].cold_start_s)
            print(
                f"started {name:13} {servers[name].base}  cold starts "
                + ", ".join(f"{t:.2f}" for t in cold[name])
                + " s",
                flush=True,
            )
        site = servers["site"]
        floor, routes, cache_headers = {}, {}, {}
        for e in mix:
            status, content_type, body, _ = fetch(site.base + e.path)
            if status != 200:
                raise RuntimeError(f"{e.path} answers {status} on the site; pick a URL that exists")
            floor[e.path] = {"content_type": content_type, "body_b64": base64.b64encode(body).decode()}
            cache_headers[e.name] = fetch(site.base + e.path)[3].get("x-cache")  # the second request
            if e.queries:
                routes[e.path] = {"format": e.format, "queries": e.queries}
        (workdir / "floor.json").write_text(json.dumps(floor))
        (workdir / "routes.json").write_text(json.dumps(routes))
        env = {
            "BENCH_FLOOR_RESPONSES": str(workdir / "floor.json"),
            "BENCH_SQL_ROUTES": str(workdir / "routes.json"),
            "BENCH_DB": str(DB),
            "PYTHONPATH": str(ROOT),
        }
        servers["floor"] = start("floor", baseline_command("floor"), env, probe=mix[0].path)
        servers["sql"] = start("sql", baseline_command("sql"), env, probe=mix[0].path)
        servers["stock"] = start("stock", stock_command(), probe="/drugbeleid/caseload.json")
        servers["proxy"] = start("proxy", proxy_command(2, OUT / "proxy-run"), probe="/drugbeleid/caseload.json")
        servers["proxy_miss"] = start(
            "proxy_miss",
            proxy_command(1, OUT / "proxy-miss-run"),
            {"RESPONSE_CACHE": "off"},
            probe="/drugbeleid/caseload.json",
        )
        # the static-file limit: the response bytes the proxy sends, as files, behind the same nginx configuration
        static_root, static_run = workdir / "static", workdir / "static-run"
        (static_run / "tmp").mkdir(parents=True)
        static_root.mkdir()
        files = {}
        for number_, e in enumerate(mix):
            status, content_type, body, _ = fetch(servers["proxy"].base + e.path)
            extension = next((ext for ext, t in STATIC_TYPES.items() if content_type.startswith(t)), "json")
            files[e.path] = f"{number_}.{extension}"
            (static_root / files[e.path]).write_bytes(body)
        proxy_config = (OUT / "proxy-run" / "nginx.conf").read_text()
        static_port = free_port()
        (static_run / "nginx.conf").write_text(
            static_config(proxy_config, files, static_root, static_run, str(static_port))
        )
        servers["static"] = start(
            "static",
            [
                shutil.which("nginx") or "/usr/sbin/nginx",
                "-p",
                str(static_run),
                "-c",
                str(static_run / "nginx.conf"),
                "-e",
                "stderr",
            ],
            probe=mix[0].path,
            port=static_port,
        )
        for name in ("floor", "sql", "stock", "proxy", "proxy_miss", "static"):
            print(f"started {name:13} {servers[name].base}", flush=True)
        # CSV on the wire through the proxy, with and without gzip
        report["csv_bytes"] = {}
        for e in mix:
            if e.path.endswith(".csv"):
                plain = len(fetch(servers["proxy"].base + e.path)[2])
                request = urllib.request.Request(servers["proxy"].base + e.path, headers={"Accept-Encoding": "gzip"})
                with urllib.request.urlopen(request, timeout=30) as response:
                    report["csv_bytes"][e.path] = {
                        "identity": plain,
                        "gzip": len(response.read()),
                        "encoding": response.headers.get("content-encoding"),
                    }

        # which target serves which endpoint (stock Datasette has no /catalog.ttl, the SQL baseline no
        # catalogue): warm each once, and keep those that answer 200
        available: dict[str, set[str]] = {}
        for name, server in servers.items():
            available[name] = {
                e.name
                for e in mix
                if fetch(server.base + e.path)[0] == 200
                and (name != "sql" or e.queries)
                and (name != "stock" or e.stock)
            }
        report["x_cache_on_second_request"] = cache_headers
        report["cold_start_s"] = {name: statistics.median(times) for name, times in cold.items()}
        report["cold_starts_s"] = cold

        runs = sum(len(targets_for(e, c, available)) for e in mix for c in e.concurrency) * PASSES
        print(
            f"{runs} loads of {SECONDS} s, then the workers check: about {(runs * (SECONDS + 0.3) + 4 * PASSES * (WORKERS_SECONDS + 0.3)) / 60:.1f} min",
            flush=True,
        )
        samples: dict[tuple[str, int, str], list[dict]] = {}
        for number in range(PASSES):
            for e in mix:
                for c in e.concurrency:
                    names = targets_for(e, c, available)
                    shift = number % len(names)  # rotate the order between passes
                    for name in names[shift:] + names[:shift]:
                        figures = run_wrk(servers[name].base + e.path, c, SECONDS)
                        samples.setdefault((e.name, c, name), []).append(figures)
                print(f"pass {number + 1}: {e.name} done", flush=True)

        # both cores: cache-miss traffic (cache off) over the mix, WORKERS=1 against WORKERS=2
        miss_paths = [e.path for e in mix if e.mix]
        workers = {}
        for number in range(PASSES):
            for c in (HIT_CONCURRENCY, 64):
                for name in ("site_nocache", "site_w2") if number % 2 == 0 else ("site_w2", "site_nocache"):
                    workers.setdefault((name, c), []).append(
                        run_wrk(servers[name].base, c, WORKERS_SECONDS, ROOT / "bench" / "mix.lua", miss_paths)
                    )
        # cache misses: through the proxy (1 worker, no response cache) against the site direct alike
        proxy_miss = {}
        for number in range(PASSES):
            for e in mix:
                if not e.mix or e.name in NOT_THROUGH_PROXY:
                    continue
                for name in ("site_nocache", "proxy_miss") if number % 2 == 0 else ("proxy_miss", "site_nocache"):
                    proxy_miss.setdefault((e.name, name), []).append(
                        run_wrk(servers[name].base, HIT_CONCURRENCY, SECONDS, ROOT / "bench" / "miss.lua", [e.path])
                    )
        rss = {name: servers[name].rss_mb() for name in SITE_MODES}
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    results = {f"{e}|{c}|{t}": summarise(s) for (e, c, t), s in samples.items()}
    report["results"] = results
    report["workers"] = {f"{n}|{c}": summarise(s) for (n, c), s in workers.items()}
    report["proxy_miss"] = {f"{e}|{n}": summarise(s) for (e, n), s in proxy_miss.items()}
    report["rss_mb"] = {name: {str(pid): round(mb, 1) for pid, mb in sizes.items()} for name, sizes in rss.items()}
    report["machine"]["loadavg_end"] = os.getloadavg()
    report["total_s"] = round(time.monotonic() - began, 1)
    stamp = started_at.replace(":", "").replace("+0000", "Z")
    (OUT / "latest.json").write_text(json.dumps(report, indent=2))  # before anything that could fail
    report["checks"] = checks(report, mix)
    for path in (OUT / f"bench-{stamp}.json", OUT / "latest.json"):
        path.write_text(json.dumps(report, indent=2))
    print_report(report, mix)
    print(f"\nresults: {OUT / 'latest.json'} ({report['total_s']:.0f} s)")
    return 0


def cell(report: dict, endpoint: str, concurrency: int, target: str) -> dict | None:
    return report["results"].get(f"{endpoint}|{concurrency}|{target}")


def checks(report: dict, mix: list[Endpoint]) -> list[dict]:
    """The speed targets as PASS/GAP lines, each with its figures."""
    found = []
    c = HIT_CONCURRENCY
    for e in mix:
        site, floor = cell(report, e.name, c, "site"), cell(report, e.name, c, "floor")
        if site and floor and site["p99_ms"] and floor["p99_ms"]:
            ratio, p99_ratio = site["rps"] / floor["rps"], site["p99_ms"] / floor["p99_ms"]
            found.append(
                {
                    "target": "repeat request >= 80% floor req/s, p99 <= 2x floor",
                    "endpoint": e.name,
                    "ok": ratio >= 0.8 and p99_ratio <= 2 and site["non2xx"] == 0,
                    "detail": f"{ratio:.0%} of floor req/s, p99 {site['p99_ms']:.1f} ms = {p99_ratio:.1f}x floor's, "
                    f"X-Cache {report['x_cache_on_second_request'].get(e.name)}",
                }
            )
    for e in mix:
        if not e.mix:
            continue
        for concurrency in PROXY_CONCURRENCY:
            proxy, static = cell(report, e.name, concurrency, "proxy"), cell(report, e.name, concurrency, "static")
            if e.name in NOT_THROUGH_PROXY:
                found.append(
                    {
                        "target": "proxy repeat >= 80% static req/s, p99 <= 1.5x static",
                        "endpoint": f"{e.name} c={concurrency}",
                        "ok": False,
                        "detail": "not measured: visitor SQL is rate limited per client through the proxy "
                        "(5/s, bursts of 20, then 429), so one load generator gets 429s by design",
                    }
                )
            elif proxy and static and proxy["p99_ms"] and static["p99_ms"]:
                ratio, p99_ratio = proxy["rps"] / static["rps"], proxy["p99_ms"] / static["p99_ms"]
                found.append(
                    {
                        "target": "proxy repeat >= 80% static req/s, p99 <= 1.5x static",
                        "endpoint": f"{e.name} c={concurrency}",
                        "ok": ratio >= 0.8 and p99_ratio <= 1.5 and proxy["non2xx"] == 0 and proxy["errors"] == 0,
                        "detail": f"{proxy['rps']:.0f} vs {static['rps']:.0f} req/s = {ratio:.0%}, p99 {proxy['p99_ms']:.2f} vs "
                        f"{static['p99_ms']:.2f} ms = {p99_ratio:.2f}x",
                    }
                )
    for e in mix:
        direct, proxied = (
            report.get("proxy_miss", {}).get(f"{e.name}|site_nocache"),
            report.get("proxy_miss", {}).get(f"{e.name}|proxy_miss"),
        )
        if direct and proxied:
            found.append(
                {
                    "target": "proxy miss >= 0.9x site direct miss at c=16",
                    "endpoint": e.name,
                    "ok": proxied["rps"] >= 0.9 * direct["rps"] and proxied["non2xx"] == 0,
                    "detail": f"{proxied['rps']:.0f} vs {direct['rps']:.0f} req/s ({proxied['rps'] / direct['rps']:.2f}x), "
                    f"p50 {number(proxied['p50_ms'], 1)} vs {number(direct['p50_ms'], 1)} ms",
                }
            )
    for path, sizes in report.get("csv_bytes", {}).items():
        found.append(
            {
                "target": "CSV bytes on the wire with gzip",
                "endpoint": path,
                "ok": sizes["encoding"] == "gzip",
                "detail": f"{sizes['gzip']:,} bytes gzip vs {sizes['identity']:,} identity ({sizes['gzip'] / sizes['identity']:.0%})",
            }
        )
    for e in mix:
        miss, stock = cell(report, e.name, c, "site_nocache"), cell(report, e.name, c, "stock")
        if miss and stock:
            # "no slower": within 10 %, the spread of back-to-back loads of one target on this machine
            found.append(
                {
                    "target": "miss no slower than stock Datasette at c=16",
                    "endpoint": e.name,
                    "ok": miss["rps"] >= 0.9 * stock["rps"] and miss["non2xx"] == 0,
                    "detail": f"{miss['rps']:.0f} vs stock {stock['rps']:.0f} req/s ({miss['rps'] / stock['rps']:.2f}x), "
                    f"p50 {number(miss['p50_ms'], 1)} vs {number(stock['p50_ms'], 1)} ms",
                }
            )
    for e in mix:
        miss, stock = cell(report, e.name, c, "site_nocache"), cell(report, e.name, c, "stock") or {}
        if miss:
            found.append(
                {
                    "target": "miss p99 <= 100 ms at c=16",
                    "endpoint": e.name,
                    "ok": miss["p99_ms"] is not None and miss["p99_ms"] <= 100,
                    "detail": f"p99 {number(miss['p99_ms'], 1)} ms (stock Datasette {number(stock.get('p99_ms'), 1)} ms)",
                }
            )
    for c in (HIT_CONCURRENCY, 64):
        one, two = report["workers"].get(f"site_nocache|{c}"), report["workers"].get(f"site_w2|{c}")
        if one and two:
            found.append(
                {
                    "target": "WORKERS=2 >= 1.7x WORKERS=1 on cache misses",
                    "endpoint": f"mix c={c}",
                    "ok": two["rps"] >= 1.7 * one["rps"] and two["non2xx"] == 0,
                    "detail": f"{two['rps']:.0f} vs {one['rps']:.0f} req/s = {two['rps'] / one['rps']:.2f}x",
                }
            )
    for name, seconds in report["cold_start_s"].items():
        found.append(
            {
                "target": "cold start to first 200 <= 1 s",
                "endpoint": name,
                "ok": seconds <= 1,
                "detail": f"{seconds:.2f} s from `make serve` to the first 200 (median of "
                f"{', '.join(f'{t:.2f}' for t in report.get('cold_starts_s', {}).get(name, [seconds]))})",
            }
        )
    for name, sizes in report["rss_mb"].items():
        top = max(sizes.values(), default=0)
        found.append(
            {
                "target": "RSS per worker <= 200 MB after the run",
                "endpoint": name,
                "ok": bool(sizes) and top <= 200,
                "detail": ", ".join(f"pid {pid}: {mb:.0f} MB" for pid, mb in sizes.items()) or "no process found",
            }
        )
    return found


def print_report(report: dict, mix: list[Endpoint]) -> None:
    m, v = report["machine"], report["versions"]
    print(f"\n{report['command']}  {report['date']}  commit {report['commit']}  data {report['data_version']}")
    print(f"machine: {m['nproc']} cores {m['cpu']}, {m['ram_gib']} GiB, load {m['loadavg_start'][0]:.2f}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in v.items()))
    print(
        f"wrk -t2 -cN -d{SECONDS}s --latency (-t1 at c=1); medians of {PASSES} pass(es); x floor = req/s / floor req/s"
    )
    for e in mix:
        print(f"\n{e.name}  {e.path}")
        print(
            f"  {'c':>3} {'target':13} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non2xx':>7} {'errors':>6} {'x floor':>8}"
        )
        for c in e.concurrency:
            floor = cell(report, e.name, c, "floor")
            for target in ("floor", "sql", "site", "site_nocache", "stock", "proxy", "static"):
                r = cell(report, e.name, c, target)
                if r:
                    ratio = f"{r['rps'] / floor['rps']:.2f}" if floor else "-"
                    print(
                        f"  {c:>3} {target:13} {r['rps']:8.0f} {number(r['p50_ms']):>8} {number(r['p99_ms']):>8} {r['non2xx']:7} {r['errors']:6} {ratio:>8}"
                    )
    print("\ncache misses at c=16 (every URL new, bench/miss.lua): site direct (cache off) vs through the proxy")
    for key, r in report.get("proxy_miss", {}).items():
        print(
            f"  {key:28} {r['rps']:8.0f} req/s  p50 {number(r['p50_ms'])} ms  p99 {number(r['p99_ms'])} ms  non2xx {r['non2xx']}"
        )
    print("\nworkers (cache off, mix of", sum(e.mix for e in mix), "URLs)")
    for key, r in report["workers"].items():
        print(
            f"  {key:18} {r['rps']:8.0f} req/s  p50 {number(r['p50_ms'])} ms  p99 {number(r['p99_ms'])} ms  non2xx {r['non2xx']}"
        )
    print()
    for check in report["checks"]:
        print(f"{verdict(check['ok'])} {check['target']}: {check['endpoint']}: {check['detail']}")


def markdown(report: dict, mix: list[Endpoint]) -> str:
    """The tables of BENCHMARKS.md from a saved report: `python bench/bench.py --markdown [json]`."""
    m, v = report["machine"], report["versions"]
    lines = [
        f"`{report['command']}`, {report['date']}, commit {(report['commit'] or '?')[:7]}, data version "
        f"{report['data_version']}; {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB, load average "
        f"{m['loadavg_start'][0]:.1f} at the start and {m['loadavg_end'][0]:.1f} at the end; "
        + ", ".join(f"{k} {val}" for k, val in v.items())
        + f"; {report['passes']} pass(es) of {report['seconds_per_load']} s "
        f"per load, total {report['total_s'] / 60:.1f} min.",
        "",
    ]
    concurrencies = sorted({int(k.split("|")[1]) for k in report["results"]})
    for c in concurrencies:
        lines += [
            f"**c={c}** (req/s, p50/p99 ms, x floor = req/s over the floor's; non-2xx and socket errors only where not 0)",
            "",
            "| endpoint | floor | SQL baseline | site (cache) | site, cache off | stock Datasette | proxy (nginx cache) | static-file limit |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for e in mix:
            floor = cell(report, e.name, c, "floor")
            if not floor:
                continue
            cells = []
            for target in ("floor", "sql", "site", "site_nocache", "stock", "proxy", "static"):
                r = cell(report, e.name, c, target)
                if not r:
                    cells.append("–")
                    continue
                text = f"{r['rps']:,.0f} ({number(r['p50_ms'], 1)}/{number(r['p99_ms'], 1)})"
                if target != "floor":
                    text += f" **{r['rps'] / floor['rps']:.2f}×**"
                if r["non2xx"] or r["errors"]:
                    text += f" ⚠ {r['non2xx']} non-2xx, {r['errors']} errors"
                cells.append(text)
            lines.append(f"| {e.name} `{e.path[:60]}` | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["| cache misses, c=16, every URL new | req/s | p50 ms | p99 ms | non-2xx |", "|---|---|---|---|---|"]
    for key, r in report.get("proxy_miss", {}).items():
        endpoint, target = key.split("|")
        label = "site direct, cache off" if target == "site_nocache" else "through the proxy (1 worker, cache off)"
        lines.append(
            f"| {endpoint}: {label} | {r['rps']:,.0f} | {number(r['p50_ms'], 1)} | {number(r['p99_ms'], 1)} | {r['non2xx']} |"
        )
    lines += ["", "| workers (cache off, URL mix) | req/s | p50 ms | p99 ms | non-2xx |", "|---|---|---|---|---|"]
    for key, r in report["workers"].items():
        lines.append(
            f"| {key.replace('|', ', c=')} | {r['rps']:,.0f} | {number(r['p50_ms'], 1)} | {number(r['p99_ms'], 1)} | {r['non2xx']} |"
        )
    return "\n".join(lines + checks_markdown(report["checks"]))


def checks_markdown(checks: list[dict]) -> list[str]:
    """The PASS/GAP table that ends both benchmark reports in BENCHMARKS.md."""
    lines = ["", "| target | where | result | figures |", "|---|---|---|---|"]
    for check in checks:
        lines.append(
            f"| {check['target']} | {check['endpoint']} | {'PASS' if check['ok'] else '**GAP**'} | {check['detail']} |"
        )
    return lines


if __name__ == "__main__":
    if sys.argv[1:2] == ["--markdown"]:
        saved = Path(sys.argv[2]) if len(sys.argv) > 2 else OUT / "latest.json"
        print(markdown(json.loads(saved.read_text()), endpoints()))
        sys.exit(0)
    sys.exit(main())
