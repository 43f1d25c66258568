"""The floor of `make bench`: a bare ASGI app that answers each benchmarked URL with the bytes the
site returned for it, fetched once beforehand. Nothing is computed per request, so this is what the
Python HTTP server alone costs.

BENCH_FLOOR_RESPONSES names a JSON file {"<path>?<query>": {"content_type": ..., "body_b64": ...}}.
"""

from __future__ import annotations

import base64
import json
import os

from bench.baselines.asgi import lifespan, request_key

RESPONSES = {
    key: (entry["content_type"].encode("latin-1"), base64.b64decode(entry["body_b64"]))
    for key, entry in json.loads(open(os.environ["BENCH_FLOOR_RESPONSES"], encoding="utf-8").read()).items()
}
NOT_FOUND = (b"text/plain", b"not in the floor's table\n")


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(receive, send)
    content_type, body = RESPONSES.get(request_key(scope), NOT_FOUND)
    status = 200 if body is not NOT_FOUND[1] else 404
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
