"""`make serve` as the README runs it: a live server on 127.0.0.1, stopped by its PID."""

from __future__ import annotations

import urllib.request

import pytest

from .conftest import make_serve


@pytest.fixture
def live_server():
    with make_serve() as base:
        yield base


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
