"""Shared fixtures: a database built by the real pipeline, served by Datasette's own client."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import sys

import jinja2
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The plugins import serve.shared and scripts/: the project root on sys.path, as serve/app.py puts it.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# ...and for a `datasette serve` the tests start as a subprocess
SUBPROCESS_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

import datasette.app  # noqa: E402
from datasette.app import Datasette  # noqa: E402

from scripts.build import build  # noqa: E402
from serve.app import create_datasette  # noqa: E402

from .servers import free_port, make_command, start_server, stop, wait_until_answers  # noqa: E402

# Datasette's settings as `make serve` has them (serve/settings.json)
SETTINGS = json.loads((ROOT / "serve" / "settings.json").read_text(encoding="utf-8"))
DATASETS = ROOT / "datasets"
PACKAGE = json.loads((DATASETS / "datapackage.json").read_text(encoding="utf-8"))
TABLES = [r["name"] for r in PACKAGE["resources"]] + [r["name"] for r in PACKAGE["generatedResources"]]


# The markers of pytest.ini: what a test needs beyond Python. `make test-fast` leaves these out.
MARKERS_BY_FILE = {
    "test_browser.py": "browser",
    "test_proxy.py": "proxy",
    "test_serve.py": "live",
    "test_workers.py": "live",
    "test_maintainer.py": "live",
    "test_build_safety.py": "live",
}
LIVE_FIXTURES = {"live", "live_server", "server"}  # fixtures that start the site on a port


def read_csv(name: str, root: Path = DATASETS) -> list[dict]:
    with open(root / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# The in-process tests that read the data as built, from whatever the data is: tests/test_new_source.py
# runs them (`pytest -m data`) in a fresh clone of a copy of the project to which a source was added.
# The build, the releases, provenance, the catalogue, the languages and the API: the rules a new source
# must keep; the others run on the committed data only, so that `make test` stays within its minutes.
DATA_TESTS = {
    "test_api",
    "test_build_checks",
    "test_catalog",
    "test_languages",
    "test_provenance",
    "test_releases",
}


# Where the browser tests save what each page looked like (tests/browser/harness.py).
SCREENSHOTS = ROOT / "build" / "test-artifacts" / "screenshots"


def pytest_sessionstart(session):
    # The screenshots of an earlier run are removed once, before any test: by the main process, not
    # by each worker of `make test` (pytest -n), which would remove the shots another has taken.
    if not hasattr(session.config, "workerinput"):
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)


# The files that take longest (half a minute to two minutes each on 2 cores) run first: `make test`
# hands whole files to its two workers in collection order, and a long file handed out last would
# run alone at the end while the other core has nothing left to do.
LONGEST_FIRST = (
    "test_new_source",
    "test_openapi",
    "test_browser",
    "test_build_safety",
    "test_cache_warming",
    "test_maintainer",
    "test_releases",
)


def pytest_collection_modifyitems(items):
    for item in items:
        if marker := MARKERS_BY_FILE.get(item.path.name):
            item.add_marker(marker)
        if LIVE_FIXTURES & set(item.fixturenames) or "make_serve" in item.name:
            item.add_marker("live")
        if item.path.stem in DATA_TESTS:
            item.add_marker(pytest.mark.data)
    rank = {stem: n for n, stem in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(LONGEST_FIRST)))  # stable: a file's order kept


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """Build once per session, from the committed datasets, into a temporary folder."""
    out = tmp_path_factory.mktemp("build") / "drugbeleid.db"
    build(DATASETS, out, ROOT / "metadata.yml")
    return out


def built_metadata(database: Path) -> dict:
    """The Datasette metadata the build wrote beside `database` (metadata.json)."""
    return json.loads((database.parent / "metadata.json").read_text(encoding="utf-8"))


class CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled templates, kept for the whole session: each in-process site would otherwise
    compile every template it renders again (about 0.2 s a site, hundreds of sites a run). Jinja
    compares each template's source with the one compiled (a checksum): a changed file is compiled anew."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()

# Every Datasette made in this process compiles and runs each file of plugins/ again, and pluggy then
# refuses the new module (a plugin of that name is registered): a served worker makes one site and
# runs each file once. The tests make hundreds: each file runs once per content, as in a worker.
plugin_from_path = datasette.app.module_from_path
plugins_run: dict[tuple, object] = {}


def plugin_run_once(path: str, name: str):
    stat = os.stat(path)
    key = (path, name, stat.st_mtime_ns, stat.st_size)
    if key not in plugins_run:
        plugins_run[key] = plugin_from_path(path, name)
    return plugins_run[key]


datasette.app.module_from_path = plugin_run_once


def in_process(
    database: Path, settings: dict | None = SETTINGS, metadata: dict | None = None, cache: bool = True
) -> Datasette:
    """The site in process, built as production builds it (serve/app.py): `database` with the
    metadata built beside it (or `metadata`), the served settings (or `settings`; None: Datasette's
    own), and the response cache (or none: every request runs Datasette)."""
    site = create_datasette(database, cache=cache, metadata=metadata, settings=settings)
    site.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return site


@pytest.fixture
def datasette(built) -> Datasette:
    return in_process(built)


# A synthetic sixth source, as the next answer of a minister would come: a written question with its
# answer and a figure for a new year. Each test ends it with the paragraph it needs.
NEW_ID = "vraag-123-2024"
QUOTE_2023 = "In 2023 waren er 40 dossiers bij het Justitiehuis Gent."


def new_source_text(last_paragraph: str) -> str:
    return (
        " Drugopvolgingskamers  -  Stand van zaken 2024\n"
        "\n"
        "ANTWOORD\n"
        "op vraag nr. 123 van 5 maart 2024\n"
        "van JAN JANSSENS\n"
        "\n"
        "In 2023 waren er 40 dossiers bij het\n"
        "Justitiehuis Gent.\n"
        "\n"
    ) + last_paragraph


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """The project as a fresh clone has it (no build/), in a temporary folder, using this checkout's .venv."""
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", ".hypothesis", ".pytest_cache", "__pycache__", "node_modules"
        ),
    )
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def run_make(project: Path, *args: str) -> subprocess.CompletedProcess:
    """`make -s ARGS` in project as a maintainer types it there: without the MAKE* variables of the
    `make test` that runs the tests, which would make it a sub-make of this checkout's make."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(["make", "-s", *args], cwd=project, capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture
def datasets_copy(tmp_path) -> Path:
    """A scratch copy of datasets/ (named datasets, so messages read as they do in the repo)."""
    copy = tmp_path / "datasets"
    shutil.copytree(DATASETS, copy)
    return copy


@contextlib.contextmanager
def make_serve(timeout: float = 60, root: Path = ROOT):
    """`make serve` as the README runs it (in `root`, this checkout by default), on a free
    127.0.0.1 port; yields the base URL. make and the server it starts are stopped together, by the
    process group's PID."""
    port = free_port()
    log = tempfile.TemporaryFile()
    process = start_server(make_command("serve", port), cwd=root, log=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(base + "/-/versions.json", process, log, seconds=timeout)
        yield base
    finally:
        stop(process, seconds=10)
        log.close()
