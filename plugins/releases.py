"""Every release, listed: /releases.json, the pages /releases/ and /releases/<version>/, and the Atom
feed /releases.atom (one entry per release with its summary of changes).

The list is the releases recorded in releases/ of the repository, newest first, as the build
unpacked them (serve/shared.py `recorded_releases`); their files are served by plugins/downloads.py.
The feed is written by feedgen, a maintained Atom generator, never by a string template.
"""

from __future__ import annotations

from datasette import Response, hookimpl
from feedgen.feed import FeedGenerator
from markupsafe import escape

from scripts.changes import COUNTS
from serve import shared
from serve.i18n import gettext
from serve.shared import language_of


def links(datasette, request, version: str) -> dict:
    def url(path: str) -> str:
        return shared.absolute_url(datasette, f"/releases/{version}/{path}", request)

    return {
        "page": url(""),
        "datapackage": url("datapackage.json"),
        "zip": url("drugbeleid.zip"),
        "database": url("drugbeleid.db"),
        "changes": url("changes.json"),
    }


def listed(datasette, request, record: dict) -> dict:
    """What /releases.json says of one release."""
    return {
        "version": record["version"],
        "semver": record["semver"],
        "number": record["number"],
        "date": record["date"],
        "previous": record.get("previous"),
        "change_level": record["changes"].get("level"),
        "sha256": {
            "database": record["database"]["sha256"],
            "zip": record["zip"]["sha256"],
            "datapackage": record["datapackage"]["sha256"],
        },
        "bytes": {
            "database": record["database"]["bytes"],
            "zip": record["zip"]["bytes"],
            "datapackage": record["datapackage"]["bytes"],
        },
        "rows": {table: entry["rows"] for table, entry in record["tables"].items()},
        "links": links(datasette, request, record["version"]),
    }


def changed_tables(record: dict) -> list[dict]:
    """The tables with any change, each with its non-zero counts, for pages and the feed."""
    found = []
    for table, summary in record["changes"]["summary"].items():
        counts = {k: summary[k] for k in COUNTS if summary[k]}
        if counts or summary["status"] != "kept":
            found.append({"table": table, "status": summary["status"], "counts": counts})
    return found


def change_words(lang: str) -> dict[str, str]:
    """The words of a release's changes, in `lang` (locale/)."""
    return {
        "rows_added": gettext("rows added", lang),
        "rows_removed": gettext("rows removed", lang),
        "rows_changed": gettext("rows changed", lang),
        "columns_added": gettext("columns added", lang),
        "columns_removed": gettext("columns removed", lang),
        "types_changed": gettext("column types changed", lang),
        "added": gettext("new table", lang),
        "removed": gettext("table removed", lang),
    }


def summary_text(record: dict, lang: str) -> str:
    words = change_words(lang)
    parts = []
    for table in changed_tables(record):
        counts = ", ".join(f"{n} {words.get(k, k)}" for k, n in table["counts"].items())
        status = "" if table["status"] == "kept" else words.get(table["status"], table["status"])
        parts.append(f"{table['table']}: {', '.join(p for p in (status, counts) if p)}")
    return "; ".join(parts) or gettext("no changes to the rows", lang)


def file_list(urls: dict, lang: str) -> str:
    items = "".join(
        f'<li><a href="{escape(urls[k])}">{escape(label)}</a></li>'
        for k, label in (
            ("datapackage", "datapackage.json"),
            ("zip", "drugbeleid.zip"),
            ("database", "drugbeleid.db"),
            ("changes", "changes.json"),
        )
    )
    return f"<p>{escape(gettext('Files', lang))}:</p><ul>{items}</ul>"


async def releases_json(datasette, request):
    return Response.json([listed(datasette, request, r) for r in shared.recorded_releases(datasette)])


async def releases_page(datasette, request):
    records = shared.recorded_releases(datasette)
    releases = [{**listed(datasette, request, r), "changed": changed_tables(r)} for r in records]
    return Response.html(
        await datasette.render_template(
            "releases.html", {"releases": releases, "current": shared.data_version(datasette)}, request=request
        )
    )


async def release_page(datasette, request):
    version = request.url_vars["version"]
    record = next((r for r in shared.recorded_releases(datasette) if r["version"] == version), None)
    directory = shared.release_directory(datasette, version)
    if record is None and directory is not None:  # built here, not (yet) recorded: the current build
        record = shared.release_in(directory)
    if record is None:
        return Response.html(
            await datasette.render_template("releases.html", {"releases": [], "missing": version}, request=request),
            status=404,
        )
    release = {**listed(datasette, request, record), "changed": changed_tables(record)}
    return Response.html(await datasette.render_template("release.html", {"release": release}, request=request))


async def to_release_page(datasette, request):
    query = f"?{request.query_string}" if request.query_string else ""
    return Response.redirect(f"/releases/{request.url_vars['version']}/{query}")


async def releases_atom(datasette, request):
    lang = language_of(request)
    site_title = gettext("Drug treatment courts and drug policy in prisons — open data", lang)
    site = datasette.metadata() or {}
    feed = FeedGenerator()
    feed.id(shared.absolute_url(datasette, "/releases/", request))
    feed.title(f"{site_title}: {gettext('Every release of the data', lang)}")
    feed.link(href=shared.absolute_url(datasette, "/releases.atom", request), rel="self")
    feed.link(href=shared.absolute_url(datasette, shared.with_language("/releases/", lang), request), rel="alternate")
    feed.language(lang)
    feed.rights(site.get("license", ""))
    publisher = shared.plugin_config(datasette).get("publisher", {})
    feed.author({"name": publisher.get(f"name_{lang}") or publisher.get("name") or site_title})
    records = shared.recorded_releases(datasette)
    for record in reversed(records):  # feedgen lists the entry added last first
        urls = links(datasette, request, record["version"])
        entry = feed.add_entry()
        entry.id(shared.absolute_url(datasette, f"/releases/{record['version']}/", request))
        entry.title(f"{record['semver']} ({record['version']})")
        entry.updated(f"{record['date']}T00:00:00Z")
        entry.published(f"{record['date']}T00:00:00Z")
        entry.summary(summary_text(record, lang))
        # one link, the release's page: feedgen 1.0.0 writes no rel or type on an entry's links, so
        # further links would all be rel="alternate", which RFC 4287 forbids; the files are in content
        entry.link(href=urls["page"])
        entry.content(file_list(urls, lang), type="html")
    if records:
        feed.updated(f"{records[0]['date']}T00:00:00Z")
    return Response(feed.atom_str(pretty=True), content_type="application/atom+xml; charset=utf-8")


def release_parameters(datasette):
    """Magic SQL parameters for the feeds: :_release_date (the served release's date as an Atom
    timestamp), :_release_base (the site's absolute URL) and :_release_publisher."""

    def value(key: str, request) -> str:
        if key == "date":
            return f"{shared.current_release(datasette)['date']}T00:00:00Z"
        if key == "base":
            return shared.absolute_url(datasette, "/", request)
        if key == "publisher":
            return shared.plugin_config(datasette).get("publisher", {}).get("name", "")
        raise KeyError(key)

    return value


@hookimpl
def register_magic_parameters(datasette):
    return [("release", release_parameters(datasette))]


@hookimpl
def register_routes():
    return [
        (r"^/releases\.json$", releases_json),
        (r"^/releases\.atom$", releases_atom),
        (r"^/releases/?$", releases_page),
        (rf"^/releases/(?P<version>{shared.VERSION_PATTERN})/$", release_page),
        (rf"^/releases/(?P<version>{shared.VERSION_PATTERN})$", to_release_page),
    ]
