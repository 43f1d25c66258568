"""`make serve-prod` warms nginx's cache at each release: a visitor's first request of a canonical page
(any page of the sitemap, in either language, and the data a chart fetches) is a cache HIT, at start
and after a new release is published."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from html import unescape

import pytest

from scripts.build import build

from .conftest import DATASETS, ROOT
from .test_proxy import fetch, serve_prod, wait_until

pytestmark = pytest.mark.proxy
WARMING_SECONDS = 300  # generous: a few thousand pages on a loaded 2-core machine


def chart_data_path(prod, query_string: str = "") -> str:
    """The URL datasette-dashboards' dashboards.js fetches for the first chart."""
    metadata = json.loads((prod.build / "metadata.json").read_text(encoding="utf-8"))
    dashboard = next(iter(metadata["plugins"]["datasette-dashboards"].values()))
    chart = next(iter(dashboard["charts"].values()))
    query = urllib.parse.quote(chart["query"], safe="-_.!~*'()")
    return f"/{chart['db']}.json?sql={query}&{query_string}&_shape=objects"


def canonical_paths(prod) -> list[str]:
    _, _, body = fetch(prod.base + "/sitemap.xml")
    locs = [urllib.parse.urlsplit(unescape(loc)) for loc in re.findall(r"<loc>([^<]+)</loc>", body.decode())]
    paths = [loc.path + (f"?{loc.query}" if loc.query else "") for loc in locs]
    # a sample across the sitemap: its first pages, row pages, both languages, release pages
    return paths[:12] + paths[len(paths) // 2 : len(paths) // 2 + 6] + paths[-4:]


def warmed_count(prod) -> int:
    return prod.log.read_text(errors="replace").count("cache warmed for data version")


def test_canonical_pages_are_hits_from_the_first_request_at_start_and_after_a_release(tmp_path):
    with serve_prod(tmp_path, warm=True) as prod:
        wait_until(lambda: warmed_count(prod) >= 1, "the cache to be warmed", seconds=WARMING_SECONDS)
        assert "not 200" not in prod.log.read_text(errors="replace")
        for path in canonical_paths(prod) + [chart_data_path(prod), chart_data_path(prod, "_lang=en")]:
            status, headers, _ = fetch(prod.base + path)
            assert status == 200 and headers["x-cache-status"] == "HIT", (path, headers.get("x-cache-status"))

        site = tmp_path / "metadata.yml"  # a new release: the same data under a changed site title
        site.write_text(
            (ROOT / "metadata.yml").read_text(encoding="utf-8").replace("title:", "title: Nieuw -", 1), encoding="utf-8"
        )
        new = build(DATASETS, prod.build / "drugbeleid.db", site, content_dir=ROOT / "content")["release"]["version"]
        wait_until(
            lambda: warmed_count(prod) >= 2, "the cache to be warmed for the new release", seconds=WARMING_SECONDS
        )
        began = time.monotonic()
        for path in canonical_paths(prod) + [chart_data_path(prod)]:
            status, headers, _ = fetch(prod.base + path)
            # /releases/<version>/ files are immutable: their entries (and headers) outlive a release
            assert status == 200 and (headers["x-data-version"] == new or path.startswith("/releases/")), path
            assert headers["x-cache-status"] == "HIT", (path, headers.get("x-cache-status"))
        print(f"first requests after the release, all hits: {time.monotonic() - began:.3f} s")
        print("\n".join(line for line in prod.log.read_text().splitlines() if "cache warmed" in line))
