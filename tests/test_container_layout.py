"""The site served from exactly the files deploy/Dockerfile copies: every route family answers, with
no error and no path of the server in any body.

The COPY lines are read from the Dockerfile itself, so a file the site needs at run time but the
container lacks (as the shapes under tests/ once were) fails here, not in production. The server is
the container's command (serve.workers with serve.app:create_app), run from the copy, with the
copy alone on its import path; the installed packages are the test environment's.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from pathlib import Path

import pytest

from .conftest import ROOT
from .servers import start_worker, stop

pytestmark = pytest.mark.live

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
COPY = re.compile(r"^COPY\s+(\S+)\s+(\S+)\s*$", re.M)
LINK = re.compile(r'href="(/[^"#]*)"')
MAX_PAGES = 150
# Routes no page links to, and answers that are errors on purpose (the error pages must not leak either).
UNLINKED = {
    "/-/mqa.json": 200,
    "/openapi.json": 200,
    "/catalog.ttl": 200,
    "/catalog.jsonld": 200,
    "/-/proxy-error/503": 503,
    "/-/proxy-error/429.json": 429,
    "/drugbeleid.json?sql=select+1": 200,
    "/drugbeleid.csv?sql=select+1": 200,
    "/drugbeleid.json?sql=select+nonsense": 400,
    "/no-such-page": 404,
    "/drugbeleid/no_such_table.json": 404,
    "/drugbeleid/caseload.json?_sort=no_such_column": 400,
}


def copied_paths() -> list[tuple[str, str]]:
    return COPY.findall(DOCKERFILE.read_text(encoding="utf-8"))


def regular_files_only(directory, names):
    """Sockets and other special files (a running serve-prod's, under build/) are not files to copy."""
    return [
        name
        for name in names
        if not (
            os.path.isdir(os.path.join(directory, name))
            or os.path.islink(os.path.join(directory, name))
            or stat.S_ISREG(os.lstat(os.path.join(directory, name)).st_mode)
        )
    ]


def container_copy(target: Path) -> Path:
    app = target / "app"
    app.mkdir(parents=True)
    for source, destination in copied_paths():
        origin = ROOT / source
        place = app / destination.rstrip("/") if destination not in (".", "./") else app / origin.name
        if origin.is_dir():
            shutil.copytree(origin, place, symlinks=True, ignore=regular_files_only)
        else:
            shutil.copy2(origin, place)
    return app


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


@pytest.fixture(scope="module")
def container(tmp_path_factory):
    assert (ROOT / "build" / "release.json").exists(), "run `make build` first (the Dockerfile copies build/)"
    app = container_copy(tmp_path_factory.mktemp("container"))
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "DRUGBELEID_DB")}
    with open(app.parent / "server.log", "w+b") as log:
        process, base = start_worker(env, cwd=app, log=log)
        try:
            yield base, app
        finally:
            stop(process)


def test_the_dockerfile_copies_the_code_the_data_and_the_build():
    copied = {source.rstrip("/") for source, _ in copied_paths()}
    assert {"plugins", "templates", "scripts", "serve", "data", "locale", "build", "requirements.txt"} <= copied
    assert "tests" not in copied and "requirements-dev.txt" not in copied


def test_every_route_family_answers_from_the_containers_files(container):
    base, app = container
    server_paths = {str(ROOT), str(app), str(app.parent), "/tmp/", "site-packages", ".venv"}
    seen, queue, answered = set(), deque(["/"]), {}
    while queue and len(answered) < MAX_PAGES:
        path = queue.popleft()
        status, content_type, body = fetch(base + path)
        answered[path] = status
        if content_type.startswith("text/html"):
            for link in LINK.findall(body.decode("utf-8", "replace")):
                link = link.replace("&amp;", "&")
                family = urllib.parse.urlsplit(link).path
                if family not in seen:
                    seen.add(family)
                    queue.append(link)
        leaks = [p for p in server_paths if p.encode() in body]
        assert not leaks, f"{path} names a path of the server: {leaks}"
    errors = {path: status for path, status in answered.items() if status >= 400}
    assert not errors, errors
    assert len(answered) >= 40, f"only {len(answered)} pages reached from /"
    for path, expected in UNLINKED.items():
        status, _, body = fetch(base + path)
        assert status == expected, (path, status, body[:300])
        leaks = [p for p in server_paths if p.encode() in body]
        assert not leaks, f"{path} names a path of the server: {leaks}"
