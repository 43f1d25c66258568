"""The release as files: /datapackage.json, /drugbeleid.zip, /data/<table>.csv and the database checksum.

Everything is read from the immutable release directory the build wrote (build/release.json
says which); the only thing made per request is the absolute URL of each resource.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from datasette import Response, hookimpl

DATABASE = "drugbeleid"


@lru_cache(maxsize=None)
def release_in(build_dir: Path) -> dict:
    release = json.loads((build_dir / "release.json").read_text(encoding="utf-8"))
    release["root"] = build_dir / release["directory"]
    return release


def release_of(datasette) -> dict:
    return release_in(Path(datasette.get_database(DATABASE).path).resolve().parent)


def not_found(message: str) -> Response:
    return Response.json({"ok": False, "error": message, "status": 404, "title": "Not found"}, status=404)


async def datapackage(datasette, request):
    release = release_of(datasette)
    descriptor = json.loads((release["root"] / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        resource["path"] = datasette.absolute_url(request, "/" + resource["path"])
    return Response.json(descriptor, headers={"Content-Disposition": 'inline; filename="datapackage.json"'})


async def zipped(datasette, request):
    release = release_of(datasette)
    body = (release["root"] / release["zip"]["path"]).read_bytes()
    return Response(body, content_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="drugbeleid-{release["version"]}.zip"'})


async def table_csv(datasette, request):
    release = release_of(datasette)
    table = request.url_vars["table"]
    if table not in release["tables"]:
        return not_found(f"Table not found: {table}")
    body = (release["root"] / release["tables"][table]["path"]).read_bytes()
    return Response(body, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="{table}.csv"'})


async def database_checksum(datasette, request):
    release = release_of(datasette)
    return Response.text(f"{release['database']['sha256']}  {release['database']['path']}\n")


async def release_json(datasette, request):
    release = {k: v for k, v in release_of(datasette).items() if k not in ("root", "directory")}
    return Response.json(release)


@hookimpl
def register_routes():
    return [
        (r"^/datapackage\.json$", datapackage),
        (r"^/drugbeleid\.zip$", zipped),
        (r"^/data/(?P<table>[a-z_]+)\.csv$", table_csv),
        (r"^/drugbeleid\.db\.sha256$", database_checksum),
        (r"^/-/release\.json$", release_json),
    ]
