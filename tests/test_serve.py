"""`make serve` as the README runs it: a live server on 127.0.0.1, stopped by its PID."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from .conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server():
    port = free_port()
    process = subprocess.Popen(
        ["make", "-s", "serve", f"PORT={port}", "HOST=127.0.0.1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=2)
                break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode()
                time.sleep(0.2)
        else:
            pytest.fail("the server did not answer within 60 s")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # make and the datasette it started
        process.wait(timeout=10)


def get(url: str, binary: bool = False):
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()
        return response.status, response.headers, body if binary else body.decode("utf-8")


def test_make_serve_serves_every_table_immutably(live_server):
    import json

    status, _, body = get(live_server + "/drugbeleid.json")
    assert status == 200
    tables = {t["name"] for t in json.loads(body)["tables"]}
    assert {"caseload", "staffing", "passages", "data_quality", "documents"} <= tables
    # Datasette offers the database file for download only when it is served immutable
    status, headers, _ = get(live_server + "/drugbeleid.db", binary=True)
    assert status == 200 and headers["content-type"] == "application/octet-stream"
    status, headers, body = get(live_server + "/drugbeleid/caseload.csv")
    assert status == 200 and body.startswith("justice_house_id,year,dossiers,period_complete")
