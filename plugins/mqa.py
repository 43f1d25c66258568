"""/-/mqa.json: the served catalogue scored by data.europa.eu's Metadata Quality Assessment.

The scoring is scripts/mqa.py's (the same indicators and reading as `make mqa` and the build's
data_quality rows). The catalogue scored is the one this site serves at /catalog.ttl, written with
the public base URL; the accessibility checks are made in process: every access and download URL
is requested from this same site through Datasette's own client (no network, so a server never
waits on a request to itself), and answers with a 2xx or 3xx. Computed once per release by the
first request (others arriving meanwhile wait for it) and served to everyone: nothing in it
depends on the request.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from urllib.parse import urlsplit

from datasette import Response, hookimpl
from rdflib import Graph
from rdflib.namespace import DCAT

from scripts import mqa
from serve import shared

LIMIT = 4  # releases kept
_scored: OrderedDict[tuple, str] = OrderedDict()
_shapes: list[Graph] = []


async def own_status(datasette, url: str, base: str) -> int | None:
    """The status this site answers `url` with, or None when the URL is not this site's."""
    if not url.startswith(base):
        return None
    parts = urlsplit(url)
    response = await datasette.client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
    return response.status_code


async def scored(datasette, base: str) -> str:
    """The MQA result of the served catalogue, as JSON."""
    served = await datasette.client.get("/catalog.ttl")
    graph = Graph().parse(data=served.text, format="turtle")
    urls = {str(o) for p in (DCAT.accessURL, DCAT.downloadURL) for o in graph.objects(None, p)}
    statuses = {url: await own_status(datasette, url, base) for url in sorted(urls)}
    if not _shapes:
        _shapes.append(await asyncio.to_thread(mqa.eu_shapes))
    result = await asyncio.to_thread(
        mqa.score,
        graph,
        lambda url: statuses.get(url) is not None and 200 <= statuses[url] < 400,
        "accessibility checked in process: each URL requested from this site itself",
        _shapes[0],
    )
    return Response.json(result).body


async def mqa_json(datasette, request):
    base = shared.public_base_url(datasette)
    key = (shared.data_version(datasette), base)
    body = await shared.computed_once(_scored, key, lambda: scored(datasette, base), LIMIT)
    return Response(body, content_type="application/json; charset=utf-8")


@hookimpl
def register_routes():
    return [(r"^/-/mqa\.json$", mqa_json)]
