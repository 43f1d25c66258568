"""The release as files: /datapackage.json, /drugbeleid.zip, /data/<table>.csv and the database checksum.

Everything is read from the immutable directory of the served release (serve/shared.py); the only
thing made per request is the absolute URL of each resource in /datapackage.json.
The same files are also served under a versioned path, /releases/<version>/..., byte for byte as
released, for every release kept (all recorded in releases/, unpacked by the build) together with
its database and changes.json: such a URL never changes content, so caches may keep it forever.
"""

from __future__ import annotations

import json

from datasette import Response, hookimpl

from serve import shared


def not_found(message: str) -> Response:
    return Response.json({"ok": False, "error": message, "status": 404, "title": "Not found"}, status=404)


def requested_release(datasette, request):
    """(version, directory, URL prefix) of the release a URL names: the current one for the stable
    names, the one in the path for /releases/<version>/..., None if the build kept no such release."""
    version = request.url_vars.get("version")
    if version is None:
        return shared.data_version(datasette), shared.release_dir(datasette), ""
    directory = shared.release_directory(datasette, version)
    return None if directory is None else (version, directory, f"/releases/{version}")


def release_file(serve):
    """A route to a file of a release, the served one or the one the URL names: 404 when the build
    kept no such release. `serve` is given the release's (version, directory, URL prefix)."""

    async def route(datasette, request):
        found = requested_release(datasette, request)
        if found is None:
            return not_found(f"Release not found: {request.url_vars['version']}")
        return await serve(datasette, request, *found)

    return route


@release_file
async def datapackage(datasette, request, version, directory, prefix):
    headers = {"Content-Disposition": 'inline; filename="datapackage.json"'}
    if prefix:  # a release's own file, byte for byte: its relative paths resolve against this URL
        return Response(
            (directory / "datapackage.json").read_bytes(),
            content_type="application/json; charset=utf-8",
            headers=headers,
        )
    descriptor = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        resource["path"] = shared.absolute_url(datasette, f"{prefix}/{resource['path']}", request)
    documents_page = shared.source_url(datasette, request)
    for source in descriptor.get("sources", []) if documents_page else []:
        source.setdefault("path", documents_page)
    release = shared.current_release(datasette)
    descriptor.setdefault("semver", release.get("semver"))
    return Response.json(descriptor, headers=headers)


@release_file
async def zipped(datasette, request, version, directory, prefix):
    body = (directory / "drugbeleid.zip").read_bytes()
    return Response(
        body,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="drugbeleid-{version}.zip"'},
    )


@release_file
async def table_csv(datasette, request, version, directory, prefix):
    table = request.url_vars["table"]
    if not (directory / "data" / f"{table}.csv").is_file():
        return not_found(f"Table not found: {table}")
    body = (directory / "data" / f"{table}.csv").read_bytes()
    return Response(
        body, content_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'inline; filename="{table}.csv"'}
    )


@release_file
async def database_checksum(datasette, request, version, directory, prefix):
    release = shared.release_in(directory)
    return Response.text(f"{release['database']['sha256']}  {release['database']['path']}\n")


@release_file
async def database_file(datasette, request, version, directory, prefix):
    """A kept release's database (the current one is /drugbeleid.db, served by Datasette)."""
    return Response(
        (directory / "drugbeleid.db").read_bytes(),
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="drugbeleid-{version}.db"'},
    )


@release_file
async def changes_json(datasette, request, version, directory, prefix):
    return Response((directory / "changes.json").read_bytes(), content_type="application/json; charset=utf-8")


async def release_json(datasette, request):
    release = {k: v for k, v in shared.current_release(datasette).items() if k not in ("root", "directory")}
    release["released"] = any(r["version"] == release["version"] for r in shared.recorded_releases(datasette))
    release["changes"] = {
        **release.get("changes", {}),
        "url": shared.absolute_url(datasette, f"/releases/{release['version']}/changes.json", request),
    }
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
        (r"^/releases/(?P<version>[^/]+)/changes\.json$", changes_json),
        (r"^/releases/(?P<version>[^/]+)/drugbeleid\.db$", database_file),
        (r"^/releases/(?P<version>[^/]+)/drugbeleid\.db\.sha256$", database_checksum),
        (r"^/drugbeleid\.db\.sha256$", database_checksum),
        (r"^/-/release\.json$", release_json),
    ]
