"""/robots.txt and /sitemap.xml, so that search engines and dataset search find every page.

- /robots.txt allows everything except ad-hoc SQL: the SQL editor and its JSON and CSV
  (`/drugbeleid?...sql=`, `/drugbeleid.json?...sql=`, `/drugbeleid.csv?...sql=`) and `_where=`
  on table pages, which run a visitor's query. It names the sitemap.
- /sitemap.xml lists every page a visitor reads, each in Dutch and in English (`?_lang=en`) with
  hreflang alternates (and x-default, the Dutch page): the home page, the database page, every
  table and every row of it, the documents, the charts, the example questions and canned queries,
  the search and API pages, and the releases (the /releases/ listing, each recorded release's page
  and its data package). Everything is derived from what is served (tables, keys, metadata.yml), so a new table
  or row is listed without touching this file. Rendered once per release and base URL (bounded).
"""
from __future__ import annotations

from collections import OrderedDict
from xml.sax.saxutils import escape, quoteattr

from datasette import Response, hookimpl
from datasette.utils import path_from_row_pks

from serve import shared

DATABASE = shared.DATABASE
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
# Ad-hoc SQL: Google-style patterns (`*` any characters), most specific first.
DISALLOWED = [f"/{DATABASE}?*sql=", f"/{DATABASE}.json?*sql=", f"/{DATABASE}.csv?*sql=", f"/{DATABASE}.xlsx?*sql=",
              f"/{DATABASE}/*_where="]
LIMIT = 8
_rendered: OrderedDict[tuple, str] = OrderedDict()


def base_url(datasette, request) -> str:
    return datasette.absolute_url(request, datasette.urls.path("/"))


async def robots_txt(datasette, request):
    lines = ["# Everything may be crawled except ad-hoc SQL: a visitor's query runs on every request.",
             "User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED), "Allow: /", "",
             f"Sitemap: {base_url(datasette, request)}sitemap.xml", ""]
    return Response("\n".join(lines), content_type="text/plain; charset=utf-8")


def recorded_versions(datasette) -> list[str]:
    return [record["version"] for record in shared.recorded_releases(datasette)]


async def page_paths(datasette) -> list[str]:
    """Every page of the site that has a Dutch and an English version, as a path."""
    db = datasette.get_database(DATABASE)
    paths = ["/", "/documents", "/examples", "/search", "/api", f"/{DATABASE}"]
    paths += [f"/documents/{row['id']}" for row in (await db.execute("select id from documents order by id")).rows]
    dashboards = (datasette.plugin_config("datasette-dashboards") or {})
    for slug, dashboard in dashboards.items():
        paths.append(f"/-/dashboards/{slug}")
        paths += [f"/-/dashboards/{slug}/{chart}" for chart in (dashboard.get("charts") or {})]
    queries = await datasette.get_canned_queries(DATABASE, None)
    paths += [str(datasette.urls.table(DATABASE, name)) for name in queries]
    hidden = set(await db.hidden_table_names())
    for table in await db.table_names():
        if table in hidden:
            continue
        paths.append(str(datasette.urls.table(DATABASE, table)))
        pks = await db.primary_keys(table)
        use_rowid = not pks
        keys = ["rowid"] if use_rowid else pks
        columns = ", ".join(f"[{k}]" for k in keys)
        for row in (await db.execute(f"select {columns} from [{table}] order by {columns}")).rows:
            paths.append(str(datasette.urls.row(DATABASE, table, path_from_row_pks(row, pks, use_rowid))))
    paths.append("/releases/")
    paths += [f"/releases/{version}/" for version in recorded_versions(datasette)]
    return list(dict.fromkeys(paths))


def release_paths(datasette) -> list[str]:
    """The data package of every recorded release (one language: it is JSON)."""
    return [f"/releases/{version}/datapackage.json" for version in recorded_versions(datasette)]


def url_entry(loc: str, lastmod: str, alternates: dict[str, str] | None = None) -> str:
    links = "".join(f'<xhtml:link rel="alternate" hreflang="{lang}" href={quoteattr(href)}/>'
                    for lang, href in (alternates or {}).items())
    return f"<url><loc>{escape(loc)}</loc><lastmod>{lastmod}</lastmod>{links}</url>"


async def sitemap_xml(datasette, request):
    base = base_url(datasette, request)
    release = shared.current_release(datasette)
    key = (release["version"], base)
    if key not in _rendered:
        absolute = base.rstrip("/")
        entries = []
        for path in await page_paths(datasette):
            alternates = {lang: absolute + shared.with_language(path, lang) for lang in shared.LANGUAGES}
            alternates["x-default"] = alternates[shared.DEFAULT_LANGUAGE]
            entries += [url_entry(alternates[lang], release["date"], alternates) for lang in shared.LANGUAGES]
        entries += [url_entry(absolute + path, release["date"]) for path in release_paths(datasette)]
        sitemap = (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}">\n'
                   + "\n".join(entries) + "\n</urlset>\n")
        shared.remember(_rendered, key, sitemap, LIMIT)
    return Response(_rendered[key], content_type="application/xml; charset=utf-8")


@hookimpl
def register_routes():
    return [(r"^/robots\.txt$", robots_txt), (r"^/sitemap\.xml$", sitemap_xml)]
