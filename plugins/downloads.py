"""The release as files: /datapackage.json, /drugbeleid.zip, /data/<table>.csv and the database checksum.

Everything is read from the immutable release directory the build wrote (build/release.json
says which); the only thing made per request is the absolute URL of each resource.
The same files are also served under a versioned path, /releases/<version>/..., for every release
directory the build has kept: such a URL never changes content, so caches may keep it forever.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from datasette import Response, hookimpl

DATABASE = "drugbeleid"
VERSION = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9a-f]{12}$")


@lru_cache(maxsize=None)
def release_in(build_dir: Path) -> dict:
    release = json.loads((build_dir / "release.json").read_text(encoding="utf-8"))
    release["root"] = build_dir / release["directory"]
    return release


def release_of(datasette) -> dict:
    return release_in(Path(datasette.get_database(DATABASE).path).resolve().parent)


def not_found(message: str) -> Response:
    return Response.json({"ok": False, "error": message, "status": 404, "title": "Not found"}, status=404)


def requested_release(datasette, request) -> tuple[str, Path, str] | None:
    """(version, directory, URL prefix) of the release a URL names: the current one for the stable
    names, the one in the path for /releases/<version>/..., None if the build kept no such release."""
    release = release_of(datasette)
    version = request.url_vars.get("version")
    if version is None:
        return release["version"], release["root"], ""
    directory = release["root"].parent / version
    if not VERSION.match(version) or not (directory / "datapackage.json").is_file():
        return None
    return version, directory, f"/releases/{version}"


async def datapackage(datasette, request):
    found = requested_release(datasette, request)
    if found is None:
        return not_found(f"Release not found: {request.url_vars['version']}")
    _, directory, prefix = found
    descriptor = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        resource["path"] = datasette.absolute_url(request, f"{prefix}/{resource['path']}")
    return Response.json(descriptor, headers={"Content-Disposition": 'inline; filename="datapackage.json"'})


async def zipped(datasette, request):
    found = requested_release(datasette, request)
    if found is None:
        return not_found(f"Release not found: {request.url_vars['version']}")
    version, directory, _ = found
    body = (directory / "drugbeleid.zip").read_bytes()
    return Response(body, content_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="drugbeleid-{version}.zip"'})


async def table_csv(datasette, request):
    found = requested_release(datasette, request)
    if found is None:
        return not_found(f"Release not found: {request.url_vars['version']}")
    _, directory, _ = found
    table = request.url_vars["table"]
    if not (directory / "data" / f"{table}.csv").is_file():
        return not_found(f"Table not found: {table}")
    body = (directory / "data" / f"{table}.csv").read_bytes()
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
        (r"^/releases/(?P<version>[^/]+)/datapackage\.json$", datapackage),
        (r"^/releases/(?P<version>[^/]+)/drugbeleid\.zip$", zipped),
        (r"^/releases/(?P<version>[^/]+)/data/(?P<table>[a-z_]+)\.csv$", table_csv),
        (r"^/drugbeleid\.db\.sha256$", database_checksum),
        (r"^/-/release\.json$", release_json),
    ]
