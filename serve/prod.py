"""`make serve-prod`: nginx (deploy/nginx.conf) in front of WORKERS granian workers, as one unit.

    python -m serve.prod --host 127.0.0.1 --port 8001 --workers 2 [--build build] [--run DIR]
    python -m serve.prod --upstream 127.0.0.2:8101 --upstream 127.0.0.3:8102   # site instances run elsewhere

- **Workers.** Each worker is its own granian process (`python -m serve.workers --workers 1`, the
  same command as `make serve`) on a unix socket in the run directory, in its own process group,
  so one can be stopped, restarted or replaced while nginx sends its requests to the others. A
  worker that dies is started again.
- **nginx** (Debian's package) runs in the foreground (`daemon off`) with everything it writes in
  the run directory (default build/serve-prod/: the rendered nginx.conf, cache, temporary files,
  access.log, error.log, the error pages), listening on HOST:PORT only.
- **One unit.** SIGTERM or SIGINT (Ctrl-C) stops nginx gracefully (SIGQUIT, then SIGTERM after
  10 s), then every worker (SIGTERM to its process group, SIGKILL after 10 s), each by its PID.
  The signal handlers only set flags; the main loop acts on them (see serve/workers.py for why).
- **SIGHUP**: the workers are restarted one at a time (each waits for its successor to answer),
  e.g. after a code update; nginx keeps answering from the other workers and its cache.
- **A new release** (the identity of `serve.shared.published_pointer(build)` changes, checked every
  0.1 s): every worker is told to respawn (SIGHUP to granian): its main process forks a new worker,
  which opens the release published now, and stops the old one at once; requests wait in the
  socket's queue meanwhile (no refused connection, no old answer after the old worker stops).
  Then nginx is reloaded with the new data version in its cache key, so no entry cached from the
  old release answers an unversioned URL again; /releases/<version>/ URLs keep their entries
  (their key has no data version). docs/deploy.md states the bound.
- **The cache warmed.** At start and after each release switch, every page of the sitemap (both
  languages) and the data of every chart are fetched through nginx, under the public host name
  (--public-host: the Host visitors send, which is part of nginx's cache key), so no visitor meets a
  miss on a canonical page. It runs beside the supervisor (a stop or the next release ends it), with
  as many requests at once as there are workers, and logs the pages and seconds it took; --no-warm
  turns it off (tests that switch releases many times). docs/deploy.md gives the time it takes.
- **Error pages.** The proxy's own 429 (visitor SQL beyond the rate limit) and 503 (no worker
  answers) are rendered by the site (plugins/proxy_errors.py) at start, in Dutch and English, HTML
  and JSON, and served by nginx as files.
- **Host names.** nginx answers only the configured host names (`--server-name`, repeatable, or
  SERVER_NAMES in `make serve-prod`; always 127.0.0.1:PORT, localhost:PORT and the host of
  PUBLIC_BASE_URL): any other Host header gets 421 Misdirected Request, the site's own 421 page
  with the headers the site sends on it (security headers, X-Data-Version; re-read at each release).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

from serve.shared import published_pointer

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf"
PYTHON = sys.executable
POLL_SECONDS = 0.1
START_SECONDS = 60  # a worker that does not answer within this is a failed start
STOP_SECONDS = 10
ERROR_STATUSES = (421, 429, 503)
LANGUAGES = ("nl", "en")
# host, or host:port; an IPv6 address in brackets
HOST_NAME = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?$")
# The site's headers that are not about one response's body or connection: copied onto the 421
# nginx answers itself, so that it carries what every response of the site carries.
NOT_COPIED = {
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "date",
    "server",
    "etag",
    "last-modified",
    "vary",
    "cache-control",
    "retry-after",
    "x-cache",
}


def server_names(host: str, port: int, extra: list[str], public_base_url: str | None) -> list[str]:
    """The Host headers nginx answers: loopback on the port, the public base URL's, and `extra`;
    a ValueError names one that is not a host name."""
    names = [f"127.0.0.1:{port}", f"localhost:{port}"]
    if host not in ("127.0.0.1", "localhost", "0.0.0.0", "::"):
        names.append(f"{host}:{port}")
    if public_base_url:
        names.append(urlsplit(public_base_url).netloc)
    for name in [*names, *extra]:
        if not HOST_NAME.match(name):
            raise ValueError(f"server name {name!r} is not a host name or host:port")
    return list(dict.fromkeys(name.lower() for name in [*names, *extra]))


def nginx_string(value: str) -> str:
    """`value` as a double-quoted nginx string (no variables: a "$" is refused, never interpreted)."""
    if "$" in value:
        raise RuntimeError(f"a header value with '$' cannot be copied into nginx's configuration: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def add_header_lines(headers: list[tuple[str, str]]) -> str:
    """`headers` as nginx add_header directives (on every status), one a line, in a location's indent."""
    return "\n".join(f"            add_header {name} {nginx_string(value)} always;" for name, value in headers)


def log(message: str) -> None:
    print(f"serve-prod: {message}", file=sys.stderr, flush=True)


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def get(
    address: str, path: str, headers: dict | None = None, timeout: float = 2
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """GET `path` from `address`: "host:port", or "unix:/path/to.sock" as nginx writes it."""
    if address.startswith("unix:"):
        connection = UnixConnection(address.removeprefix("unix:"), timeout)
    else:
        host, port = address.rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def served_version(address: str, path: str = "/-/versions.json") -> str | None:
    """The data version a site answers with, or None while it does not answer. nginx answers
    /-/versions.json with 404 (deploy/nginx.conf): through it, ask for another no-store path."""
    try:
        status, headers, _ = get(address, path, timeout=1)
    except (OSError, http.client.HTTPException):
        return None
    return headers.get("X-Data-Version") if status == 200 else None


def pointer_identity(pointer: Path):
    """What changes with every publication: the file the pointer resolves to (a replaced file, or
    links through build/current to another release directory) and where it is."""
    try:
        stat = os.stat(pointer)
    except FileNotFoundError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size, os.path.realpath(pointer))


def release_key(identity) -> str:
    """Part of nginx's cache key for unversioned URLs: new with every publication (a digest of the
    published pointer's identity), so nothing cached before a release answers after it."""
    return hashlib.sha256(repr(identity).encode()).hexdigest()[:16]


# The site's headers every response carries (plugins/stack.py): nginx adds them to its own error pages.
SITE_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
    "cross-origin-opener-policy",
    "x-data-version",
    "x-data-semver",
)


def error_page_headers(headers: http.client.HTTPMessage) -> list[tuple[str, str]]:
    """The site's headers (SITE_HEADERS) on its rendered error page; every one must be there."""
    found = [(name, headers[name]) for name in SITE_HEADERS if headers[name] is not None]
    if len(found) != len(SITE_HEADERS):
        raise RuntimeError(f"the site's error page lacks {sorted(set(SITE_HEADERS) - {n for n, _ in found})}")
    return found


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stop_group(process: subprocess.Popen, first: int = signal.SIGTERM, seconds: float = STOP_SECONDS) -> None:
    """Signal the process group led by `process`; SIGKILL whatever is left after `seconds`."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, first)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (process.poll() is None or group_alive(process.pid)):
        time.sleep(0.02)
    if process.poll() is None or group_alive(process.pid):
        log(f"pid {process.pid} still running {seconds:.0f} s after signal {first}: killing its process group")
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def worker_command(*options: str, python: str = PYTHON) -> list[str]:
    """A worker of the site: serve/app.py's factory under granian with one worker process, started
    through serve.workers (granian's command line with safe signal handling), as `make serve` runs
    it; `options` are granian's others (where it listens: --uds PATH, or --host H --port P)."""
    return [
        python,
        "-m",
        "serve.workers",
        "--interface",
        "asgi",
        "--factory",
        "serve.app:create_app",
        "--workers",
        "1",
        *options,
        "--log-level",
        "warning",
    ]


class Worker:
    """One granian process (serve.workers --workers 1) on a unix socket, in its own process group.

    granian's main process holds the listening socket; its worker process serves on it. On SIGHUP
    granian forks a new worker (which reads the release published now) and stops the old one at
    once (--respawn-interval 0): connections wait in the socket's queue meanwhile instead of being
    refused, and no old answer is given after the old worker stops. (On TCP, granian's workers
    listen with SO_REUSEPORT each, and a stopping worker's queued connections are reset.)"""

    def __init__(self, socket_path: Path, database: Path, log_file):
        self.socket_path = socket_path
        self.address = f"unix:{socket_path}"
        self.database = database
        self.log_file = log_file
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> None:
        self.socket_path.unlink(missing_ok=True)  # left by a main process that was killed
        self.started = time.monotonic()
        command = worker_command(
            "--uds",
            str(self.socket_path),
            "--respawn-interval",
            "0",
            "--respawn-failed-workers",
            "--workers-kill-timeout",
            "5",
        )
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "DRUGBELEID_DB": str(self.database)},
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=self.log_file,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def serving_processes(self) -> set[int]:
        """granian's worker processes: the children of this worker's main process."""
        return children_of(self.process.pid) if self.alive() else set()

    def respawn(self) -> None:
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)


class Supervisor:
    def __init__(self, args):
        self.host, self.port = args.host, args.port
        self.build = Path(args.build).resolve()
        self.run_dir = Path(args.run).resolve() if args.run else self.build / "serve-prod"
        self.worker_count = args.workers
        self.external = list(args.upstream or [])
        self.nginx_binary = args.nginx
        self.nginx_workers = args.nginx_workers
        self.cache_max_size = args.cache_max_size
        # the workers' public base URL (serve/app.py): this server's own address unless one is given
        os.environ.setdefault("PUBLIC_BASE_URL", f"http://{args.host}:{args.port}/")
        self.server_names = server_names(args.host, args.port, args.server_name or [], os.environ["PUBLIC_BASE_URL"])
        self.database = self.build / "drugbeleid.db"
        self.pointer = published_pointer(self.build)
        self.workers: list[Worker] = []
        self.nginx: subprocess.Popen | None = None
        self.version = ""
        self.release_key = ""
        self.draining: set[int] = set()  # nginx workers of an earlier configuration, finishing
        self.stop_requested = False
        self.restart_requested = False
        self.worker_log = None
        # the site's headers nginx adds to its own 421, and to its 429 and 503 (fetch_error_pages)
        self.misdirected_headers: list[tuple[str, str]] = []
        self.proxy_error_headers: list[tuple[str, str]] = []
        # the Host visitors send, nginx's cache key: by default the public base URL's own
        self.public_host = args.public_host or urlsplit(os.environ["PUBLIC_BASE_URL"]).netloc
        self.warm_enabled = args.warm
        self.warm_token = secrets.token_hex(16)
        self.warming_stop = threading.Event()  # set to end the warming under way
        self.warming: threading.Thread | None = None

    # --- signals: flags only ------------------------------------------------------------------
    def on_stop(self, *args) -> None:
        self.stop_requested = True

    def on_restart(self, *args) -> None:
        self.restart_requested = True

    # --- workers --------------------------------------------------------------------------------
    def upstreams(self) -> list[str]:
        return self.external or [w.address for w in self.workers]

    def new_workers(self) -> list[Worker]:
        sockets = self.run_dir / "workers"
        sockets.mkdir(exist_ok=True)
        workers = [
            Worker(sockets / f"{number}.sock", self.database, self.worker_log) for number in range(self.worker_count)
        ]
        for worker in workers:
            worker.start()
        return workers

    def wait_ready(self, addresses: list[str], workers: list[Worker] = ()) -> str:
        """Wait until every address answers; the data version they serve (they must agree)."""
        deadline = time.monotonic() + START_SECONDS
        versions: dict[str, str] = {}
        while len(versions) < len(addresses):
            if self.stop_requested:
                raise InterruptedError
            for worker in workers:
                if not worker.alive():
                    raise RuntimeError(
                        f"worker on {worker.address} exited with {worker.process.returncode} "
                        f"(see {self.run_dir / 'workers.log'})"
                    )
            for address in addresses:
                if address not in versions and (version := served_version(address)):
                    versions[address] = version
            if time.monotonic() > deadline:
                missing = [a for a in addresses if a not in versions]
                raise RuntimeError(f"no answer within {START_SECONDS} s from {', '.join(missing)}")
            if len(versions) < len(addresses):
                time.sleep(0.05)
        found = set(versions.values())
        if len(found) != 1:
            raise RuntimeError(f"the upstreams serve different data versions: {versions}")
        return found.pop()

    # --- nginx ----------------------------------------------------------------------------------
    def render(self) -> None:
        # max_fails=0: a worker that fails is never taken out of the rotation for a while (a
        # restarted worker would then be skipped while the next one restarts); each request simply
        # goes on to the next worker (proxy_next_upstream)
        servers = "\n".join(f"        server {address} max_fails=0;" for address in self.upstreams())
        values = {
            "USER": "user root;  # the master runs as root here: workers must read the run directory"
            if os.geteuid() == 0
            else "",
            "NGINX_WORKERS": str(self.nginx_workers),
            "RUN": str(self.run_dir),
            "CACHE_MAX_SIZE": self.cache_max_size,
            "RELEASE_KEY": self.release_key,
            "UPSTREAM_SERVERS": servers,
            "LISTEN": f"{self.host}:{self.port}",
            # server_name takes host names (nginx matches the Host header without its port); the
            # map of known hosts compares the whole Host header, port included
            "SERVER_NAMES": " ".join(dict.fromkeys(re.sub(r":[0-9]+$", "", name) for name in self.server_names)),
            "KNOWN_HOSTS": "\n".join(f'        "{name}"  0;' for name in self.server_names),
            "WARM_TOKEN": self.warm_token,
            "MISDIRECTED_HEADERS": add_header_lines(self.misdirected_headers),
            "PROXY_ERROR_HEADERS": add_header_lines(self.proxy_error_headers),
        }
        text = TEMPLATE.read_text(encoding="utf-8")
        for name, value in values.items():
            text = text.replace(f"@@{name}@@", value)
        if left := re.findall(r"@@[A-Z_]+@@", text):
            raise RuntimeError(f"{TEMPLATE}: placeholders left unreplaced: {', '.join(left)}")
        config = self.run_dir / "nginx.conf"
        (self.run_dir / "nginx.conf.next").write_text(text, encoding="utf-8")
        os.replace(self.run_dir / "nginx.conf.next", config)

    def fetch_error_pages(self) -> None:
        """The site renders the proxy's error pages once; nginx serves them even with no worker up,
        with the headers the site sent on them (render() writes them into the configuration): on
        the 421 nginx answers itself, those of the site's 421 page; on the 429 and 503, the site's
        own (SITE_HEADERS). Fetched again at each release, for its words and X-Data-Version."""
        pages = self.run_dir / "errors"
        pages.mkdir(exist_ok=True)
        address = self.upstreams()[0]
        headers = None
        for status in ERROR_STATUSES:
            for lang in LANGUAGES:
                for fmt, suffix in (("html", ""), ("json", ".json")):
                    code, received, body = get(address, f"/-/proxy-error/{status}{suffix}?_lang={lang}", timeout=10)
                    if code != status:
                        raise RuntimeError(f"the site answered {code} for its {status} page ({lang}, {fmt})")
                    (pages / f"{status}.{lang}.{fmt}").write_bytes(body)
                    if status == 421 and headers is None:
                        headers = received
        self.misdirected_headers = [(name, value) for name, value in headers.items() if name.lower() not in NOT_COPIED]
        self.proxy_error_headers = error_page_headers(received)

    def nginx_command(self, *extra: str) -> list[str]:
        return [
            self.nginx_binary,
            "-p",
            str(self.run_dir),
            "-c",
            str(self.run_dir / "nginx.conf"),
            "-e",
            "stderr",
            *extra,
        ]

    def start_nginx(self) -> None:
        check = subprocess.run(self.nginx_command("-t", "-q"), capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused {self.run_dir / 'nginx.conf'}:\n{check.stderr}")
        out = open(self.run_dir / "nginx.out", "ab")
        self.nginx = subprocess.Popen(
            self.nginx_command(), stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
        deadline = time.monotonic() + START_SECONDS
        while served_version(f"{self.host}:{self.port}", "/-/settings.json") is None:
            if self.nginx.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.nginx.returncode} (see {self.run_dir / 'nginx.out'})")
            if time.monotonic() > deadline or self.stop_requested:
                raise RuntimeError("nginx did not answer")
            time.sleep(0.05)

    def reload_nginx(self) -> None:
        """Reload with the rendered configuration; return once new nginx workers run it. The old
        ones only finish the requests they hold (answered by the workers now serving) and exit."""
        old = children_of(self.nginx.pid)
        self.nginx.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while not (children_of(self.nginx.pid) - old) and time.monotonic() < deadline:
            time.sleep(0.005)
        self.draining |= old

    # --- the unit -------------------------------------------------------------------------------
    def start(self) -> None:
        if not (os.path.isfile(self.nginx_binary) and os.access(self.nginx_binary, os.X_OK)):
            raise RuntimeError(
                f"no nginx at {self.nginx_binary}: install it (Debian: sudo apt-get install nginx) "
                "or name it with --nginx"
            )
        if self.run_dir.exists():
            shutil.rmtree(self.run_dir)
        (self.run_dir / "tmp").mkdir(parents=True)
        self.worker_log = open(self.run_dir / "workers.log", "ab")
        if not self.external:
            self.workers = self.new_workers()
        self.release_key = release_key(pointer_identity(self.pointer))
        self.version = self.wait_ready(self.upstreams(), self.workers)
        self.fetch_error_pages()
        self.render()
        self.start_nginx()
        log(
            f"serving http://{self.host}:{self.port}/ through nginx (pid {self.nginx.pid}), upstream "
            f"{', '.join(self.upstreams())}, data version {self.version}; run directory {self.run_dir}"
        )
        self.warm()

    def switch_release(self, identity) -> None:
        """Every worker forks its successor, which opens the release published now, and its old
        worker stops at once. As soon as no old worker is left (nothing can answer with the old
        release any more), nginx is reloaded with the new data version in its cache key; requests
        wait in the workers' sockets until the new workers answer."""
        began = time.monotonic()
        before = {worker: worker.serving_processes() for worker in self.workers}
        for worker in self.workers:
            worker.respawn()
        deadline = time.monotonic() + START_SECONDS
        while any(before[w] & w.serving_processes() for w in self.workers):
            if time.monotonic() > deadline:
                raise RuntimeError("the old workers did not stop for the new release")
            time.sleep(0.005)
        replaced = time.monotonic()
        self.release_key = release_key(identity)
        self.render()
        self.reload_nginx()
        reloaded = time.monotonic()
        self.version = self.wait_ready(self.upstreams(), self.workers)
        self.fetch_error_pages()  # in the new release's words, with its X-Data-Version
        self.render()
        self.reload_nginx()
        log(
            f"now serving data version {self.version} ({reloaded - began:.2f} s after the release was noticed: "
            f"old workers gone {replaced - began:.2f} s, nginx reloaded {reloaded - began:.2f} s, "
            f"new workers answering {time.monotonic() - began:.2f} s)"
        )
        self.warm()

    def follow_external_release(self) -> None:
        """Site instances elsewhere switch releases themselves: once every instance that answers
        serves one new version, nginx is reloaded with a cache key for it."""
        versions = {v for v in map(served_version, self.external) if v}
        if len(versions) == 1 and (version := versions.pop()) != self.version:
            self.version, self.release_key = version, release_key(version)
            self.fetch_error_pages()
            self.render()
            self.reload_nginx()
            log(f"the upstream instances now serve data version {version}: nginx reloaded with a new cache key")

    # --- the cache, warmed at each release ----------------------------------------------------------
    def warm(self) -> None:
        """Start warming the cache for the release served now, ending any warming still under way."""
        if not self.warm_enabled:
            return
        if self.warming is not None:
            self.warming_stop.set()
            self.warming.join()
        self.warming_stop = threading.Event()
        self.warming = threading.Thread(
            target=self.warm_pages, args=(self.version, self.warming_stop), name="cache-warming", daemon=True
        )
        self.warming.start()

    def warm_paths(self, fetch) -> list[str]:
        """The sitemap's pages, and for each chart page the data its charts fetch (as
        datasette-dashboards' dashboards.js builds the URL: the page's query string, then _shape)."""
        status, body = fetch("/sitemap.xml")
        if status != 200:
            raise RuntimeError(f"the sitemap answered {status}")
        paths = []
        for loc in re.findall(r"<loc>([^<]+)</loc>", body.decode("utf-8")):
            parts = urllib.parse.urlsplit(unescape(loc))
            paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        metadata = json.loads((self.database.resolve().parent / "metadata.json").read_text(encoding="utf-8"))
        dashboards = (metadata.get("plugins") or {}).get("datasette-dashboards") or {}
        for path in list(paths):
            page, _, query_string = path.partition("?")
            if not page.startswith("/-/dashboards/"):
                continue
            slug, _, chart_slug = page.removeprefix("/-/dashboards/").partition("/")
            charts = (dashboards.get(slug) or {}).get("charts") or {}
            for name, chart in charts.items():
                if chart_slug in ("", name) and chart.get("query") and chart.get("db"):
                    query = urllib.parse.quote(chart["query"], safe="-_.!~*'()")
                    paths.append(f"/{chart['db']}.json?sql={query}&{query_string}&_shape=objects")
        return list(dict.fromkeys(paths))

    def warm_pages(self, version: str, stop: threading.Event) -> None:
        began = time.monotonic()
        address = f"{self.host}:{self.port}"
        headers = {"Host": self.public_host, "X-Cache-Warming": self.warm_token}

        def fetch(path: str) -> tuple[int, bytes]:
            if stop.is_set():
                return 0, b""
            try:
                status, _, body = get(address, path, headers=headers, timeout=30)
            except OSError:
                return -1, b""
            return status, body

        try:
            paths = self.warm_paths(fetch)
        except (OSError, RuntimeError, ValueError) as error:
            log(f"cache warming for {version}: no list of pages ({error})")
            return
        with ThreadPoolExecutor(max(1, len(self.upstreams()))) as pool:
            statuses = list(pool.map(lambda path: fetch(path)[0], paths))
        if stop.is_set():
            return
        failed = [path for path, status in zip(paths, statuses) if status != 200]
        log(
            f"cache warmed for data version {version}: {len(paths) - len(failed)} of {len(paths)} pages in "
            f"{time.monotonic() - began:.1f} s" + (f"; not 200: {', '.join(failed[:5])}" if failed else "")
        )

    def rolling_restart(self) -> None:
        for worker in self.workers:
            worker.stop()
            worker.start()
            self.wait_ready([worker.address], [worker])
        log("workers restarted one at a time")

    def watch(self) -> int:
        seen = pointer_identity(self.pointer)
        while not self.stop_requested:
            time.sleep(POLL_SECONDS)
            if self.nginx.poll() is not None:
                log(f"nginx exited with {self.nginx.returncode}: stopping")
                return 1
            try:
                if self.restart_requested and not self.external:
                    self.restart_requested = False
                    self.rolling_restart()
                now = pointer_identity(self.pointer)
                if now != seen and now is not None and not self.external:
                    seen = now
                    log("a new release was published: starting workers for it")
                    self.switch_release(now)
            except RuntimeError as error:  # the workers that failed are started again below
                log(f"error: {error}")
            if self.external:
                self.follow_external_release()
            if self.draining and not (self.draining & children_of(self.nginx.pid)):
                self.draining.clear()
                log("the nginx workers of the previous configuration are gone")
            for worker in self.workers:
                # at most one start a second: a worker that cannot start (a refused database) must not spin
                if not worker.alive() and not self.stop_requested and time.monotonic() - worker.started > 1:
                    log(f"worker on {worker.address} exited with {worker.process.returncode}: starting it again")
                    worker.stop()  # whatever is left of its process group
                    worker.start()
        return 0

    def stop(self) -> None:
        self.warming_stop.set()
        if self.nginx is not None:
            if self.nginx.poll() is None:
                self.nginx.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
                try:
                    self.nginx.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    pass
            stop_group(self.nginx)
        for worker in self.workers:
            worker.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--run", help="nginx's run directory (default: BUILD/serve-prod)")
    parser.add_argument(
        "--upstream", action="append", help="host:port of a site instance to proxy to (no workers started)"
    )
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    parser.add_argument("--nginx-workers", type=int, default=2)
    parser.add_argument("--cache-max-size", default="256m")
    parser.add_argument(
        "--server-name",
        action="append",
        help="a Host header to answer (host or host:port), besides 127.0.0.1:PORT, localhost:PORT "
        "and the host of PUBLIC_BASE_URL; others get 421",
    )
    parser.add_argument(
        "--public-host", help="the Host visitors send (nginx's cache key); default the host of PUBLIC_BASE_URL"
    )
    parser.add_argument("--no-warm", dest="warm", action="store_false", help="do not warm the cache at each release")
    args = parser.parse_args(argv)
    try:
        supervisor = Supervisor(args)
    except ValueError as wrong:
        log(f"error: {wrong}")
        return 2
    signal.signal(signal.SIGTERM, supervisor.on_stop)
    signal.signal(signal.SIGINT, supervisor.on_stop)
    signal.signal(signal.SIGHUP, supervisor.on_restart)
    code = 1
    try:
        supervisor.start()
        code = supervisor.watch()
    except InterruptedError:
        code = 0
    except RuntimeError as error:
        log(f"error: {error}")
    finally:
        supervisor.stop()
    log("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
