"""The DCAT-AP catalogue at /catalog.ttl and /catalog.jsonld, and schema.org JSON-LD on every table page.

Both are derived from what the build published (metadata.json, release.json and the release's
datapackage.json beside the database) by scripts/catalog.py. Absolute URLs depend on the host
the request came to, so the catalogue is rendered once per base URL and data version and kept
in a small bounded cache (the Host header is chosen by the client, so the cache must not grow
with it).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from datasette import Response, hookimpl

from scripts import catalog
from serve.shared import computed_once, public_base_url, remember

MEDIA_TYPES = {"ttl": "text/turtle; charset=utf-8", "jsonld": "application/ld+json; charset=utf-8"}
RENDERED_LIMIT = 8  # releases x formats kept
PUBLISHED_LIMIT = 4  # releases kept (a rebuild while serving, or several test builds)
DATASETS_LIMIT = 128  # tables x releases x base URLs kept (each a few KB)
_published: OrderedDict[tuple, tuple[dict, dict, dict, dict]] = OrderedDict()
_rendered: OrderedDict[tuple, str] = OrderedDict()
_datasets: OrderedDict[tuple, str | None] = OrderedDict()


async def json_download_sizes(datasette, db, package: dict) -> dict[str, int]:
    """Byte size of each table's whole-table JSON download (`?_shape=array&_size=max`), for the
    tables one request returns whole (at most max_returned_rows rows), as this server sends it."""
    max_rows = datasette.setting("max_returned_rows")
    sizes = {}
    for resource in package["resources"]:
        table = resource["name"]
        if (await db.execute(f"select count(*) from [{table}]")).first()[0] <= max_rows:
            response = await datasette.client.get(f"/{catalog.DATABASE}/{table}.json{catalog.JSON_DOWNLOAD_QUERY}")
            if response.status_code == 200:
                sizes[table] = len(response.content)
    return sizes


async def published(datasette) -> tuple[dict, dict, dict, dict, dict]:
    """(site, release, package, temporal spans, JSON download sizes) of the served release: read and
    computed once per release (release.json is replaced atomically by every build, so its mtime
    names the release)."""
    db = datasette.get_database(catalog.DATABASE)
    path = Path(db.path).resolve()
    key = (str(path), (path.parent / "release.json").stat().st_mtime_ns)
    if key in _published:
        return _published[key]
    site, release, package = catalog.read_published(path)
    spans = {}
    for resource in package["resources"]:
        table, values = resource["name"], []
        for column in catalog.temporal_columns(resource.get("schema", {})):
            rows = await db.execute(
                f"select distinct [{column}] from [{table}] where [{column}] is not null and [{column}] != ''"
            )
            values += [row[0] for row in rows]
        spans[table] = catalog.span_of(values)
    sizes = await json_download_sizes(datasette, db, package)
    return remember(_published, key, (site, release, package, spans, sizes), PUBLISHED_LIMIT)


async def served_graph(datasette):
    """The catalogue graph, with the public base URL."""
    site, release, package, spans, sizes = await published(datasette)
    return catalog.catalog_graph(site, package, release, public_base_url(datasette), spans, sizes)


async def rendered(datasette, fmt: str) -> str:
    """The catalogue in `fmt` ("ttl" or "jsonld"), rendered once per release and public base URL."""
    site, release, package, spans, sizes = await published(datasette)
    base = public_base_url(datasette)

    async def render():
        graph = catalog.catalog_graph(site, package, release, base, spans, sizes)
        return catalog.to_turtle(graph) if fmt == "ttl" else catalog.to_jsonld(graph)

    key = (datasette.get_database(catalog.DATABASE).path, release["version"], base, fmt)
    return await computed_once(_rendered, key, render, RENDERED_LIMIT)


async def render(datasette, request, fmt: str) -> Response:
    return Response(await rendered(datasette, fmt), content_type=MEDIA_TYPES[fmt])


async def catalog_ttl(datasette, request):
    return await render(datasette, request, "ttl")


async def catalog_jsonld(datasette, request):
    return await render(datasette, request, "jsonld")


@hookimpl
def register_routes():
    return [
        (r"^/catalog\.ttl$", catalog_ttl),
        (r"^/catalog\.jsonld$", catalog_jsonld),
    ]


@hookimpl
def extra_template_vars(template, view_name, database, table, datasette, request):
    """`schema_org_json_ld`: for templates/table.html the table as a schema.org Dataset, for the
    home page (templates/home.html) the site as a schema.org DataCatalog."""
    if template == "home.html":

        async def schema_org_catalog():
            site, release, package, spans, _ = await published(datasette)
            data = catalog.schema_org_catalog(site, package, release, public_base_url(datasette, request), spans)
            return {"schema_org_json_ld": catalog.script_json(data)}

        return schema_org_catalog
    if view_name != "table" or database != catalog.DATABASE or not table:
        return {}

    async def schema_org():
        # the same for every page of a table (both languages, any filter): written once per release,
        # base URL and table, not on every uncached table page
        site, release, package, spans, _ = await published(datasette)
        base = public_base_url(datasette, request)
        key = (release["version"], base, table)
        if key not in _datasets:
            dataset = catalog.schema_org_dataset(site, package, release, base, spans, table)
            remember(_datasets, key, catalog.script_json(dataset) if dataset else None, DATASETS_LIMIT)
        return {"schema_org_json_ld": _datasets[key]}

    return schema_org
