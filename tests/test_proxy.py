"""`make serve-prod`: nginx (deploy/nginx.conf) in front of the workers, tested on loopback.

Each test runs serve/prod.py (what `make serve-prod` runs) on a copy of build/ in a temporary
directory, on free ports; load comes from wrk (Debian's package, installed by .ci/run), bounded in
time and stopped by its PID, as is every process started here.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench.bench import parse_wrk
from scripts.build import build
from serve.prod import get, served_version, server_names

from .conftest import DATASETS, ROOT
from .servers import free_port, make_command, processes, start_server, start_worker, stop, wait_until

PYTHON = str(ROOT / ".venv" / "bin" / "python")
WRK = shutil.which("wrk")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def require_nginx_and_wrk() -> None:
    assert os.path.exists(NGINX), "nginx is not installed: apt-get install nginx (.ci/run does)"
    assert WRK, "wrk is not installed: apt-get install wrk (.ci/run does)"


# --- helpers ----------------------------------------------------------------------------------------


def fetch(url: str, headers: dict | None = None, timeout: float = 10) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers={"Connection": "close", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def direct(address: str, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """A worker's own answer ("unix:/path" or "host:port"), past the proxy."""
    status, got, body = get(address, path, headers, timeout=10)
    return status, {k.lower(): v for k, v in got.items()}, body


def copy_build(target: Path) -> Path:
    shutil.copytree(
        ROOT / "build", target, symlinks=True, ignore=shutil.ignore_patterns("serve-prod", "bench", "pint-cache")
    )
    return target


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for child, (parent, _, _) in processes().items():
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.add(pid)
    return left


class Prod:
    """serve/prod.py on free ports, with its own build copy and run directory."""

    def __init__(
        self, tmp: Path, workers: int = 2, upstreams: list[str] = (), build_dir: Path | None = None, warm: bool = False
    ):
        require_nginx_and_wrk()
        tmp.mkdir(parents=True, exist_ok=True)
        self.build = build_dir or copy_build(tmp / "build")
        self.run = tmp / "run"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "serve-prod.log"
        command = [
            PYTHON,
            "-m",
            "serve.prod",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--build",
            str(self.build),
            "--run",
            str(self.run),
        ]
        for upstream in upstreams:
            command += ["--upstream", upstream]
        if not warm:  # these tests count the cache's hits and misses themselves
            command.append("--no-warm")
        self.process = start_server(command, log=self.log)
        wait_until(
            lambda: "serving http" in self.log.read_text(errors="replace"),
            "serve-prod to start",
            process=self.process,
            log=self.log,
        )

    def upstreams(self) -> list[str]:
        return re.findall(r"server (\S+) max_fails", (self.run / "nginx.conf").read_text())

    def stop(self) -> None:
        pids = descendants(self.process.pid) | {self.process.pid}
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        finally:
            left = (
                wait_until(lambda: not alive(pids) or None, "every process to stop", seconds=15)
                if alive(pids)
                else None
            )
        assert not left


@contextlib.contextmanager
def serve_prod(tmp: Path, **kwargs):
    prod = Prod(tmp, **kwargs)
    try:
        yield prod
    finally:
        prod.stop()


@contextlib.contextmanager
def load(base: str, path: str, connections: int = 8, cookie: bool = True):
    """wrk against base+path for at most 60 s, until the block ends; yields a dict filled with the
    figures afterwards. A cookie makes every request bypass the cache, so the workers answer it."""
    figures: dict = {}
    command = [WRK, "-t2", f"-c{connections}", "-d60s", "--timeout", "10s", "--latency"]
    if cookie:
        command += ["-H", "Cookie: load=1"]
    process = subprocess.Popen(
        command + [base + path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        yield figures
    finally:
        alive_at_end = process.poll() is None
        process.send_signal(signal.SIGINT)  # wrk prints its summary on SIGINT
        out, _ = process.communicate(timeout=30)
    figures.update(parse_wrk(out))
    figures["output"] = out
    assert alive_at_end, "the load ended before the fault was over: the test proves nothing\n" + out


def served_requests(run: Path) -> int:
    """Requests the workers answered, as nginx logs them (its log is flushed every second)."""
    path = run / "access.log"
    return path.read_text(errors="replace").count("\n") if path.exists() else 0


def more_requests_logged(run: Path, count: int = 50) -> None:
    start = served_requests(run)
    wait_until(lambda: served_requests(run) >= start + count, f"{count} more requests in the access log", seconds=30)


def assert_no_failure(figures: dict) -> None:
    assert figures["requests"] > 0
    assert figures["non2xx"] == 0 and sum(figures["socket_errors"].values()) == 0, figures["output"]


# --- the proxy ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    with serve_prod(tmp_path_factory.mktemp("prod")) as running:
        yield running


URLS = {
    "json": "/drugbeleid/caseload.json?_shape=array",
    "csv": "/drugbeleid/caseload.csv",
    "html": "/drugbeleid/caseload",
    "turtle": "/catalog.ttl",
    "json-ld": "/catalog.jsonld",
}


@pytest.mark.parametrize("kind", URLS)
def test_the_proxy_caches_and_gzips_the_sites_exact_bytes(prod, kind):
    path = URLS[kind]
    first = fetch(prod.base + path)
    second = fetch(prod.base + path)
    assert first[0] == second[0] == 200
    assert first[1]["x-cache-status"] in ("MISS", "HIT") and second[1]["x-cache-status"] == "HIT"
    assert first[2] == second[2]
    # Each worker keeps the bytes it sent in its own response cache (HTML pages say how long their
    # queries took, so two workers' pages differ there): the proxy's copy is one of them, exactly.
    # The same Host as through the proxy: the site's absolute URLs follow it.
    worker_bytes = {}
    for upstream in prod.upstreams():
        status, direct_headers, body = direct(upstream, path, {"Host": f"127.0.0.1:{prod.port}"})
        assert status == 200 and direct_headers["x-data-version"] == second[1]["x-data-version"]
        assert direct_headers["etag"] == second[1]["etag"]
        worker_bytes[body] = upstream
    assert second[2] in worker_bytes
    direct_bytes = second[2]
    status, headers, compressed = fetch(prod.base + path, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("content-encoding") == "gzip", headers
    assert gzip.decompress(compressed) == direct_bytes
    assert len(compressed) < len(direct_bytes)


def test_revalidation_with_the_sites_etag_is_answered_304(prod):
    path = "/drugbeleid/statistics.json?_size=3"
    _, headers, _ = fetch(prod.base + path)
    status, again, body = fetch(prod.base + path, {"If-None-Match": headers["etag"]})
    assert status == 304 and body == b"" and again["x-data-version"] == headers["x-data-version"]


def test_requests_with_cookies_or_credentials_are_never_cached(prod):
    for n, private in enumerate(({"Cookie": "session=1"}, {"Authorization": "Basic dXNlcjpwdw=="})):
        path = f"/drugbeleid/caseload.json?_size=2&_private={n}"
        for _ in range(2):
            status, headers, _ = fetch(prod.base + path, private)
            assert status == 200 and headers["x-cache-status"] == "BYPASS"
            assert "set-cookie" not in headers
        # and what they got was not stored for anyone else
        assert fetch(prod.base + path)[1]["x-cache-status"] == "MISS"


def test_errors_and_no_store_responses_are_never_cached(prod):
    for path in ("/drugbeleid/no_such_table.json", "/drugbeleid/caseload.json?_sort=nope", "/-/settings.json"):
        statuses = []
        for _ in range(3):
            status, headers, _ = fetch(prod.base + path)
            statuses.append((status, headers["x-cache-status"], headers["cache-control"]))
        assert all(cache == "MISS" and "no-store" in control for _, cache, control in statuses), (path, statuses)


def test_visitor_sql_beyond_the_rate_limit_gets_the_sites_429(prod, tmp_path):
    # 5 a second per client, bursts of 20: 40 at once cannot all pass
    answers_ = [fetch(prod.base + f"/drugbeleid.json?sql=select+{n}") for n in range(40)]
    limited = [a for a in answers_ if a[0] == 429]
    assert limited and all(a[0] in (200, 429) for a in answers_)
    status, headers, body = limited[0]
    assert headers["content-type"].startswith("application/json") and headers["retry-after"]
    error = json.loads(body)
    assert (
        error["ok"] is False
        and error["status"] == 429
        and "SQL" in error["error"]
        and error["title"] == "Te veel query's"
    )
    # HTML in the page's language, in the site's template; _where= counts too; other pages are not limited
    status, headers, body = fetch(prod.base + "/drugbeleid?sql=select+1&_lang=en")
    assert status == 429 and headers["content-type"].startswith("text/html")
    page = body.decode()
    assert "<title>Too many queries</title>" in page and 'lang="en"' in page and "/-/static/app.css" in page
    status, _, body = fetch(prod.base + "/drugbeleid/caseload?_where=year>2000")
    assert status == 429 and "Te veel query" in body.decode()
    assert {fetch(prod.base + f"/drugbeleid/caseload.json?_size={n}")[0] for n in range(1, 31)} == {200}


def test_the_access_log_has_the_documented_fields(prod):
    fetch(prod.base + "/drugbeleid/documents.json?_log=1", {"User-Agent": "log-check"})
    pattern = re.compile(
        r'^127\.0\.0\.1 \[\S+\] "GET /drugbeleid/documents\.json\?_log=1 HTTP/1\.1" 200 \d+ [\d.]+ '
        r"cache=(MISS|HIT) upstream=unix:\S+\.sock upstream_status=200 upstream_time=[\d.]+ "
        r'version=\S+ "log-check"$',
        re.M,
    )
    wait_until(
        lambda: pattern.search((prod.run / "access.log").read_text(errors="replace")), "the access log line", seconds=10
    )


# --- faults under load --------------------------------------------------------------------------------


def worker_pids(prod: Prod) -> list[int]:
    """The granian worker processes (children of each worker's main process)."""
    mains = [
        pid
        for pid in descendants(prod.process.pid)
        if "serve.workers" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    ]
    return [
        pid
        for pid in mains
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] != str(prod.process.pid)
    ]


def test_one_worker_killed_under_load_no_request_fails(prod):
    before = prod.upstreams()
    with load(prod.base, "/drugbeleid/caseload.json?_size=5") as figures:
        more_requests_logged(prod.run)
        victim = worker_pids(prod)[0]
        os.kill(victim, signal.SIGKILL)
        # granian's main process starts its worker again (serve/workers.py), logged in workers.log
        wait_until(
            lambda: "starting it again" in (prod.run / "workers.log").read_text(errors="replace"), "a restart of it"
        )
        wait_until(lambda: all(served_version(a) for a in before), "both workers to answer again")
        more_requests_logged(prod.run)
    assert_no_failure(figures)


def test_workers_restarted_one_at_a_time_under_load_no_request_fails(prod):
    restarts = prod.log.read_text(errors="replace").count("restarted one at a time")
    with load(prod.base, "/drugbeleid/caseload.json?_size=7") as figures:
        more_requests_logged(prod.run)
        prod.process.send_signal(signal.SIGHUP)
        wait_until(
            lambda: prod.log.read_text(errors="replace").count("restarted one at a time") > restarts,
            "the rolling restart",
        )
        more_requests_logged(prod.run)
    assert_no_failure(figures)


# --- two instances, and the whole upstream down --------------------------------------------------------


def start_instance(host: str, build_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    process, base = start_worker(
        {**os.environ, "DRUGBELEID_DB": str(build_dir / "drugbeleid.db")}, host=host, log=log, python=PYTHON
    )
    return process, base.removeprefix("http://")


def test_two_instances_one_taken_down_under_load_then_the_whole_upstream(tmp_path):
    instances = [
        start_instance(host, copy_build(tmp_path / f"build-{host}"), tmp_path / f"{host}.log")
        for host in ("127.0.0.2", "127.0.0.3")
    ]
    try:
        with serve_prod(
            tmp_path / "proxy", upstreams=[a for _, a in instances], build_dir=tmp_path / "build-127.0.0.2"
        ) as prod:
            cached = "/drugbeleid/caseload.json?_size=4"
            assert fetch(prod.base + cached)[0] == 200 and fetch(prod.base + cached)[1]["x-cache-status"] == "HIT"
            with load(prod.base, "/drugbeleid/justice_houses.json") as figures:
                more_requests_logged(prod.run)
                stop(instances[0][0])
                more_requests_logged(prod.run, 100)
            assert_no_failure(figures)
            assert "upstream=127.0.0.3" in (prod.run / "access.log").read_text()

            stop(instances[1][0])  # no upstream left
            status, headers, body = fetch(prod.base + cached)
            assert status == 200 and headers["x-cache-status"] in ("HIT", "STALE") and json.loads(body)["rows"]
            status, headers, body = fetch(prod.base + "/drugbeleid/documents")
            assert status == 503 and headers["content-type"].startswith("text/html") and headers["retry-after"]
            assert "Tijdelijk niet beschikbaar" in body.decode() and 'lang="nl"' in body.decode()
            status, _, body = fetch(prod.base + "/drugbeleid/documents?_lang=en")
            assert status == 503 and "Temporarily unavailable" in body.decode() and 'lang="en"' in body.decode()
            for path, headers in (
                ("/drugbeleid/documents.json", {}),
                ("/drugbeleid/documents.csv", {}),
                ("/drugbeleid/documents", {"Accept": "application/json"}),
            ):
                status, got, body = fetch(prod.base + path, headers)
                assert status == 503 and got["content-type"].startswith("application/json"), (path, got)
                assert json.loads(body) == {
                    "ok": False,
                    "status": 503,
                    "title": "Tijdelijk niet beschikbaar",
                    "error": "De server antwoordt op dit moment niet. Probeer het over enkele ogenblikken opnieuw.",
                }
    finally:
        for process, _ in instances:
            stop(process)


# --- a new release --------------------------------------------------------------------------------------


def test_a_new_release_replaces_unversioned_answers_and_keeps_versioned_ones(tmp_path):
    with serve_prod(tmp_path) as prod:
        old = json.loads((prod.build / "release.json").read_text())["version"]
        versioned = f"/releases/{old}/datapackage.json"
        stable = ["/drugbeleid/caseload.json?_shape=array", "/drugbeleid/documents", "/catalog.ttl"]
        for path in [versioned, *stable]:
            fetch(prod.base + path)
            status, headers, _ = fetch(prod.base + path)
            assert status == 200 and headers["x-cache-status"] == "HIT" and headers["x-data-version"] == old
        kept = fetch(prod.base + versioned)[2]

        # Clients keep asking (cached URLs) while a new release is built and published.
        answers_seen: list[tuple[float, str]] = []  # (when the request was sent, the version it got)
        publishing = threading.Event()

        def ask():
            new_answers = 0
            deadline = None
            while new_answers < 50:  # until 50 answers of the new release, at most 60 s after publication
                if publishing.is_set():
                    deadline = deadline or time.monotonic() + 60
                    assert time.monotonic() < deadline, "the new release was not served"
                sent = time.monotonic()
                status, headers, _ = fetch(prod.base + stable[0])
                assert status == 200
                answers_seen.append((sent, headers["x-data-version"]))
                new_answers += headers["x-data-version"] != old

        site = tmp_path / "metadata.yml"  # a new release: the same data under a changed site title
        site.write_text(
            (ROOT / "metadata.yml").read_text(encoding="utf-8").replace("title:", "title: Nieuw -", 1), encoding="utf-8"
        )
        with ThreadPoolExecutor(2) as pool:
            clients = [pool.submit(ask) for _ in range(2)]
            new = build(DATASETS, prod.build / "drugbeleid.db", site, content_dir=ROOT / "content")["release"][
                "version"
            ]
            published = time.monotonic()  # build() returns right after the switch of build/current
            publishing.set()
            for client in clients:
                client.result(timeout=60)
        assert new != old
        stale = [sent - published for sent, version in answers_seen if version == old and sent > published]
        first_new = min(sent for sent, version in answers_seen if version == new)
        # once the nginx processes of the old configuration are gone, every unversioned URL is new
        wait_until(lambda: "previous configuration are gone" in prod.log.read_text(), "the old nginx workers to stop")
        for _ in range(5):
            for path in stable:
                status, headers, _ = fetch(prod.base + path)
                assert status == 200 and headers["x-data-version"] == new, (path, headers)
        # the versioned URL is still the cached entry, byte for byte, without asking a worker
        status, headers, body = fetch(prod.base + versioned)
        assert status == 200 and headers["x-cache-status"] == "HIT" and body == kept
        assert "now serving data version " + new in prod.log.read_text()
        # the 421 nginx answers itself carries the new release's version too (after its own reload)
        wait_until(
            lambda: fetch(prod.base + "/", {"Host": "elsewhere.example"})[1].get("x-data-version") == new,
            "the 421 to carry the new release's version",
            seconds=10,
        )
        print(
            f"release switch: old answers to requests sent up to {max(stale, default=0):.2f} s after publication; "
            f"first new answer to a request sent {first_new - published:.2f} s after it"
        )


# --- one unit -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_make_serve_prod_stops_every_process_it_started(tmp_path, stop_signal):
    port = free_port()
    log = tmp_path / "log"
    make = start_server(make_command("serve-prod", port), log=log)
    try:
        wait_until(lambda: "serving http" in log.read_text(errors="replace"), "make serve-prod", process=make, log=log)
        status, headers, _ = fetch(f"http://127.0.0.1:{port}/drugbeleid/caseload.json")
        assert status == 200 and "x-cache-status" in headers
        started = descendants(make.pid)
        assert sum("nginx" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace") for pid in started) >= 2
        assert sum("serve.workers" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace") for pid in started) >= 4
        os.killpg(make.pid, stop_signal)  # as Ctrl-C or `kill -TERM -PGID` would
        make.wait(timeout=30)
        wait_until(lambda: not alive(started), "every process of serve-prod to stop", seconds=15)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)


# --- host names -------------------------------------------------------------------------------------

SITE_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "x-data-version",
)


def test_only_the_configured_host_names_are_answered(prod):
    """127.0.0.1:PORT and localhost:PORT (the default names) get the site; any other Host header, a
    known name on another port included, gets 421 from the site's own page, with its headers."""
    _, site_headers, _ = fetch(prod.base + "/drugbeleid.json")
    for name in (f"127.0.0.1:{prod.port}", f"localhost:{prod.port}", f"LOCALHOST:{prod.port}"):
        status, _, body = fetch(prod.base + "/drugbeleid.json", {"Host": name})
        assert status == 200 and json.loads(body)["database"] == "drugbeleid", name
    hosts = [
        f"{secrets.token_hex(6)}.example",
        f"{secrets.token_hex(6)}.example:{prod.port}",
        f"localhost:{prod.port + 1}",
        "127.0.0.1",
        "data.example.org",
    ]
    for host in hosts:
        status, headers, body = fetch(prod.base + "/drugbeleid/caseload.json?_lang=en", {"Host": host})
        assert status == 421, host
        error = json.loads(body)
        assert error["ok"] is False and error["status"] == 421 and error["title"] == "Unknown host name", host
        assert {name: headers.get(name) for name in SITE_HEADERS} == {
            name: site_headers[name] for name in SITE_HEADERS
        }, host
        assert headers["cache-control"] == "no-store"
        status, headers, body = fetch(prod.base + "/", {"Host": host})
        assert (
            status == 421 and headers["content-type"].startswith("text/html") and "Onbekende hostnaam" in body.decode()
        )
        if "example" in host:
            assert host.split(":")[0].encode() not in body  # a visitor's Host is never written back


def test_server_names_are_configured_and_checked():
    assert server_names("127.0.0.1", 8001, [], None) == ["127.0.0.1:8001", "localhost:8001"]
    assert server_names("127.0.0.1", 8001, ["data.example.org", "Example.org:8443"], "https://data.example.org/") == [
        "127.0.0.1:8001",
        "localhost:8001",
        "data.example.org",
        "example.org:8443",
    ]
    for wrong in ("data example.org", "a;b", "x.org:port", '"x"', ""):
        with pytest.raises(ValueError, match="is not a host name"):
            server_names("127.0.0.1", 8001, [wrong], None)
