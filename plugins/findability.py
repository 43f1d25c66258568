"""/robots.txt, /sitemap.xml and every page's own metadata, so that search engines and dataset search
find and describe every page.

- /robots.txt allows everything except ad-hoc SQL: the SQL editor and its JSON and CSV
  (`/drugbeleid?...sql=`, `/drugbeleid.json?...sql=`, `/drugbeleid.csv?...sql=`) and `_where=`
  on table pages, which run a visitor's query. It names the sitemap.
- /sitemap.xml lists the pages people read, each in Dutch and in English (`?_lang=en`) with
  hreflang alternates (and x-default, the Dutch page): the home page, the database page, every
  table, every row of the content tables, the documents, the charts, the example questions and
  stable feeds (canned queries), the API page, and the releases (the /releases/
  listing, each recorded release's page and its data package). Not the rows of the tables in
  ROWS_NOT_PAGES. Everything else is derived from what is served (tables, keys, metadata.yml), so
  a new table or row is listed without touching this file. Its URLs start with the public base URL
  (serve.shared.public_base_url, never the request's Host): rendered once per release, served to all.
- Every HTML page gets `language_alternates` (absolute hreflang links for nl, en and x-default,
  written in templates/base.html's <head>) and `page_description` (its <meta name="description">,
  in the page's language: the table's, query's or chart's description, else the site's).
"""

from __future__ import annotations

from collections import OrderedDict
from xml.sax.saxutils import escape, quoteattr

from datasette import Response, hookimpl
from datasette.utils import path_from_row_pks

from scripts.catalog import text_by_language
from serve import shared

DATABASE = shared.DATABASE
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
# Ad-hoc SQL: Google-style patterns (`*` any characters), most specific first.
DISALLOWED = [
    f"/{DATABASE}?*sql=",
    f"/{DATABASE}.json?*sql=",
    f"/{DATABASE}.csv?*sql=",
    f"/{DATABASE}.xlsx?*sql=",
    f"/{DATABASE}/*_where=",
]
# Tables whose rows are not pages for people: the search index and the quotes' places in their
# documents are internal; the document pages show the passages; data_quality is read as a table.
ROWS_NOT_PAGES = {"search_index", "quote_locations", "passages", "data_quality"}
LIMIT = 4  # releases kept
_rendered: OrderedDict[tuple, str] = OrderedDict()
# A <meta name="description"> longer than this is cut after its last whole sentence (or word).
DESCRIPTION_CHARS = 300


async def robots_txt(datasette, request):
    lines = [
        "# Everything may be crawled except ad-hoc SQL: a visitor's query runs on every request.",
        "User-agent: *",
        *(f"Disallow: {path}" for path in DISALLOWED),
        "Allow: /",
        "",
        f"Sitemap: {shared.public_base_url(datasette)}sitemap.xml",
        "",
    ]
    return Response("\n".join(lines), content_type="text/plain; charset=utf-8")


def recorded_versions(datasette) -> list[str]:
    return [record["version"] for record in shared.recorded_releases(datasette)]


async def page_paths(datasette) -> list[str]:
    """Every page of the site that has a Dutch and an English version, as a path."""
    db = datasette.get_database(DATABASE)
    paths = ["/", "/documents", "/examples", "/api", f"/{DATABASE}"]  # not /search: a form, and results per query
    paths += [f"/documents/{row['id']}" for row in (await db.execute("select id from documents order by id")).rows]
    dashboards = shared.dashboards(datasette)
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
        if table in ROWS_NOT_PAGES:
            continue
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
    links = "".join(
        f'<xhtml:link rel="alternate" hreflang="{lang}" href={quoteattr(href)}/>'
        for lang, href in (alternates or {}).items()
    )
    return f"<url><loc>{escape(loc)}</loc><lastmod>{lastmod}</lastmod>{links}</url>"


def alternates_of(base: str, path: str) -> dict[str, str]:
    """{hreflang: absolute URL} of a page (`path` with its query string) in nl, en and x-default."""
    absolute = base.rstrip("/")
    alternates = {lang: absolute + shared.with_language(path, lang) for lang in shared.LANGUAGES}
    alternates["x-default"] = alternates[shared.DEFAULT_LANGUAGE]
    return alternates


async def rendered_sitemap(datasette, base: str) -> str:
    release = shared.current_release(datasette)
    entries = []
    for path in await page_paths(datasette):
        alternates = alternates_of(base, path)
        entries += [url_entry(alternates[lang], release["date"], alternates) for lang in shared.LANGUAGES]
    entries += [url_entry(base.rstrip("/") + path, release["date"]) for path in release_paths(datasette)]
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}">\n'
        + "\n".join(entries)
        + "\n</urlset>\n"
    )


async def sitemap_xml(datasette, request):
    base = shared.public_base_url(datasette)
    key = (shared.content_version(datasette, "/releases/"), base)  # the records of releases are listed too
    sitemap = await shared.computed_once(_rendered, key, lambda: rendered_sitemap(datasette, base), LIMIT)
    return Response(sitemap, content_type="application/xml; charset=utf-8")


# --- each page's own metadata ---------------------------------------------------------------------


def short_description(text: str | None) -> str | None:
    """`text` on one line, cut after its last whole sentence (else word) within DESCRIPTION_CHARS."""
    text = " ".join((text or "").split())
    if len(text) <= DESCRIPTION_CHARS:
        return text or None
    cut = text[:DESCRIPTION_CHARS]
    sentence = cut.rfind(". ")
    if sentence > DESCRIPTION_CHARS // 3:
        return cut[: sentence + 1]
    return cut[: cut.rfind(" ")].rstrip(",;:") + " …"


def table_description(datasette, table: str, lang: str) -> str | None:
    for resource in shared.published_package(datasette)["resources"]:
        if resource["name"] == table:
            return resource.get(f"description_{lang}") if lang != "en" else resource.get("description")
    return None


def in_language(config: dict, key: str, lang: str) -> str | None:
    """A text written as `key` (Dutch) and `key`_en (English) in metadata.yml."""
    return config.get(f"{key}_en") if lang == "en" else config.get(key)


def page_description(datasette, request, database, table, lang: str) -> str | None:
    """The page's description in its language: its table's, query's or chart's, else the site's."""
    table = table or (request.url_vars.get("table") if request is not None else None)  # a canned query's page
    if database == DATABASE and table:
        query = (datasette.metadata("queries", database=DATABASE) or {}).get(table)
        text = (
            in_language(query, "description", lang)
            if isinstance(query, dict)
            else table_description(datasette, table, lang)
        )
        if text:
            return short_description(text)
    parts = request.path.strip("/").split("/") if request is not None else []
    if parts[:2] == ["-", "dashboards"] and len(parts) >= 3:
        dashboard = shared.dashboards(datasette).get(parts[2]) or {}
        chart = (dashboard.get("charts") or {}).get(parts[3]) if len(parts) >= 4 else None
        text = in_language(chart or dashboard, "description", lang)
        if text:
            return short_description(text)
    site = text_by_language(datasette.metadata("description_html") or "", shared.DEFAULT_LANGUAGE)
    return short_description(site.get(lang))


@hookimpl
def extra_template_vars(request, datasette, database, table):
    if request is None:
        return {}
    lang = shared.language_of(request)
    path = request.path + (f"?{request.query_string}" if request.query_string else "")
    alternates = alternates_of(shared.public_base_url(datasette, request), path)
    return {
        "language_alternates": list(alternates.items()),
        "page_description": page_description(datasette, request, database, table, lang),
    }


@hookimpl
def register_routes():
    return [(r"^/robots\.txt$", robots_txt), (r"^/sitemap\.xml$", sitemap_xml)]
