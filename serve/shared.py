"""What several plugins need, in one place: the build paths, the served release and the page's language.

Plugins import this module (`from serve import shared`); the project root is put on sys.path once,
by the app factory (serve/app.py) and by the test configuration (tests/conftest.py), never by a plugin.

The served release is the one the database belongs to: the build publishes the database, its
metadata.json and release.json together in one immutable release directory, so everything a plugin
reads about "the current release" is found beside the database file Datasette opened.
"""

from __future__ import annotations

import asyncio
import json
import re
import weakref
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from scripts.project import DATABASE, VERSION, VERSION_PATTERN, read_release  # noqa: F401  (defined once, used through here)

ROOT = Path(__file__).resolve().parent.parent

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LANGUAGE_PARAMETER = "_lang"


# --- build paths and the served release -------------------------------------------------------


def database_path(datasette) -> Path:
    """The served database file, symbolic links resolved: its directory is its release's. Resolved
    once per Datasette instance (this is on every request's path): an instance serves the release it
    started with (serve/app.py opens the resolved file), whatever build/current names later."""
    database = datasette.get_database(DATABASE)
    path = _resolved.get(database)
    if path is None:
        path = _resolved[database] = Path(database.path).resolve()
    return path


_resolved: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def release_dir(datasette) -> Path:
    """The directory of the served release: the database, release.json, metadata.json, the files.
    The same Path object every time (its hash is computed once: caches key on it per cell), found
    once per Datasette instance (a table page asks about a hundred times)."""
    directory = _release_dirs.get(datasette)
    if directory is None:
        parent = database_path(datasette).parent
        directory = _release_dirs[datasette] = _release_dir_objects.setdefault(parent, parent)
    return directory


_release_dirs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_release_dir_objects: dict[Path, Path] = {}  # one Path object per directory, whichever instance asks


@lru_cache(maxsize=16)
def release_in(directory: Path) -> dict:
    """release.json of a release directory. A release directory never changes, so it is read once."""
    release = read_release(directory)
    release["root"] = directory
    return release


def current_release(datasette) -> dict:
    return release_in(release_dir(datasette))


def data_version(datasette) -> str:
    return current_release(datasette)["version"]


# --- the page's language ------------------------------------------------------------------------


def language_of(request) -> str:
    """ "nl" (the default) or "en", from ?_lang= in the URL; the default without a request."""
    asked = request.args.get(LANGUAGE_PARAMETER) if request is not None else None
    return asked if asked in LANGUAGES else DEFAULT_LANGUAGE


def text_in(record: dict, key: str, lang: str) -> str | None:
    """A text of `record` in `lang` by the project's one convention for content (docs/languages.md):
    English under `key`, Dutch under `key_nl`."""
    return record.get(f"{key}_nl") if lang == "nl" else record.get(key)


def other_language(lang: str) -> str:
    return "en" if lang == "nl" else "nl"


def with_language(path: str, lang: str) -> str:
    """`path` (which may carry a query string and a #fragment) with `_lang` set for `lang`."""
    if lang == DEFAULT_LANGUAGE and LANGUAGE_PARAMETER not in path:
        return path  # the default language needs no parameter (most links of most pages)
    if lang != DEFAULT_LANGUAGE and lang in LANGUAGES and "?" not in path and "#" not in path:
        return f"{path}?{LANGUAGE_PARAMETER}={lang}"  # a link without a query (every row link of a table page)
    path, hash_, fragment = path.partition("#")
    base, _, query = path.partition("?")
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != LANGUAGE_PARAMETER]
    if lang != DEFAULT_LANGUAGE:
        pairs.append((LANGUAGE_PARAMETER, lang))
    return base + (f"?{urlencode(pairs)}" if pairs else "") + hash_ + fragment


def plugin_config(datasette) -> dict:
    """This project's plugin configuration (metadata.yml plugins.drugbeleid), read once per Datasette
    instance: Datasette resolves secrets through the whole configuration on every call (about 1 ms
    each), and pages ask for labels and strings hundreds of times."""
    config = _plugin_configs.get(datasette)
    if config is None:
        config = _plugin_configs[datasette] = datasette.plugin_config(DATABASE) or {}
    return config


_plugin_configs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# --- the public base URL: every absolute URL the site writes starts with it ----------------------

# The setting (metadata.yml plugins.drugbeleid.public_base_url; the app factory serve/app.py puts the
# environment variable PUBLIC_BASE_URL there, and `make serve`/`make serve-prod` set that variable to
# http://HOST:PORT/ unless it is given). docs/deploy.md, "Public base URL".
PUBLIC_BASE_URL_SETTING = "public_base_url"
# Without a setting (Datasette built in process, as the tests do): what is computed once and served
# to everyone (the catalogue, its MQA score, the sitemap) is written for this fixed origin, the one
# Datasette's own client sends; only a page's own links (hreflang, JSON-LD) follow the request.
LOCAL_BASE_URL = "http://localhost/"


def checked_base_url(value: str, where: str = PUBLIC_BASE_URL_SETTING) -> str:
    """`value` as a base URL ending in "/", or a ValueError naming `where` and what is wrong."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"{where}: {value!r} is not a base URL such as https://data.example.org/ "
            "(http or https, a host, no query string or fragment)"
        )
    return value.strip() if value.strip().endswith("/") else value.strip() + "/"


def configured_base_url(datasette) -> str | None:
    """The configured public base URL, checked, or None when none is configured."""
    if datasette not in _base_urls:
        value = plugin_config(datasette).get(PUBLIC_BASE_URL_SETTING)
        _base_urls[datasette] = checked_base_url(value) if value else None
    return _base_urls[datasette]


_base_urls: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def public_base_url(datasette, request=None) -> str:
    """The site's public base URL, ending in "/": the configured one when there is one (always, under
    `make serve` and `make serve-prod`). Without a setting, the request's own origin for a page's
    own links, and LOCAL_BASE_URL without a request: what is cached and served to every visitor is
    computed without a request, so no visitor's Host header ever reaches it."""
    configured = configured_base_url(datasette)
    if configured:
        return configured
    if request is None:
        return LOCAL_BASE_URL
    return datasette.absolute_url(request, datasette.urls.path("/"))


def absolute_url(datasette, path: str, request=None) -> str:
    """`path` (from the site's root, with or without its leading "/") under the public base URL."""
    return public_base_url(datasette, request) + path.lstrip("/")


def source_url(datasette, request=None) -> str | None:
    """The site's source_url (metadata.yml) as an absolute URL: it names the site's own documents
    page by its path, which a reader outside the site (an embed, a spreadsheet, the OpenAPI
    description) can only follow under the public base URL."""
    url = (datasette.metadata() or {}).get("source_url")
    return absolute_url(datasette, url, request) if url and url.startswith("/") else url


# --- what a plugin makes once per release --------------------------------------------------------


async def computed_once(cache, key, compute, limit: int):
    """The value of `compute()` (a coroutine function) under `key`, computed by one request while any
    others asking for the same key at the same time wait for it (a burst of cold requests costs one
    computation, not one each); kept in an OrderedDict of at most `limit` entries."""
    if key in cache:
        return cache[key]
    lock = _computing.setdefault(key, asyncio.Lock())
    async with lock:
        if key not in cache:
            remember(cache, key, await compute(), limit)
    _computing.pop(key, None)
    return cache[key]


_computing: dict = {}


def remember(cache, key, value, limit: int):
    """Keep `value` under `key` in an OrderedDict of at most `limit` entries, the oldest dropped
    first (releases come and go while a process serves, in tests many of them)."""
    cache[key] = value
    while len(cache) > limit:
        cache.popitem(last=False)
    return value


# --- the row a row page shows (the record card and the provenance around Datasette's own) ------------

PAGE_ROWS = "drugbeleid.page_rows"  # where a request keeps the rows its row page has read


async def page_row(datasette, request, table: str) -> dict | None:
    """The row of a row page's URL, read once per request: the plugins that write the record card
    and the provenance of its verbatim values both need it (None if there is no such row)."""
    from datasette.utils import urlsafe_components  # here: serve/prod.py imports this module, not Datasette

    kept = request.scope.setdefault(PAGE_ROWS, {})
    if table not in kept:
        db = datasette.get_database(DATABASE)
        key_values = urlsafe_components(request.url_vars["pks"])
        where = " and ".join(f"[{pk}] = ?" for pk in await db.primary_keys(table) or ["rowid"])
        rows = (await db.execute(f"select * from [{table}] where {where}", key_values)).rows
        kept[table] = dict(rows[0]) if rows else None
    return kept[table]


# --- full-text search (plugins/search.py, and the pages and API description that show it) ---------

# Defaults of the figures configured in metadata.yml (plugins.drugbeleid.search).
SEARCH_DEFAULTS = {
    "max_results": 50,
    "max_query_length": 200,
    "max_terms": 10,
    "min_term_length": 3,
    "snippet_chars": 240,
}


def search_settings(datasette) -> dict:
    return {**SEARCH_DEFAULTS, **(plugin_config(datasette).get("search") or {})}


def search_strings(datasette, lang: str) -> dict:
    """The search and document pages' strings of a language (plugins.drugbeleid.search.ui)."""
    return (search_settings(datasette).get("ui") or {}).get(lang, {})


# --- where releases are published ---------------------------------------------------------------


def releases_dir(datasette) -> Path:
    return release_dir(datasette).parent


def published_pointer(build: Path) -> Path:
    """The link whose atomic replacement publishes a new release in `build` (scripts/publish.py):
    a server or proxy that wants to notice a new release watches this path."""
    return build / "current"


def release_directory(datasette, version: str) -> Path | None:
    """The directory of a release kept in this build (recorded, or built here), None if there is none.
    A directory is complete once it has its name: it is staged and renamed whole."""
    if not VERSION.match(version or ""):
        return None
    directory = releases_dir(datasette) / version
    return directory if (directory / "release.json").is_file() else None


def recorded_releases(datasette) -> list[dict]:
    """The records of every release in releases/ of the repository, newest first, as the build
    listed them in build/releases/index.json (re-read when a release is recorded)."""
    index = releases_dir(datasette) / "index.json"
    try:
        stat = index.stat()
    except FileNotFoundError:
        return []
    return _index(index, stat.st_mtime_ns, stat.st_ino)


@lru_cache(maxsize=4)
def _index(path: Path, mtime: int, inode: int) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


VERSIONED_FILE = re.compile(rf"^/releases/({VERSION_PATTERN})/[^/]")
HISTORY_PATHS = re.compile(r"^/releases(\.json|\.atom|/)")


def versioned_file(path: str) -> str | None:
    """The version a /releases/<version>/<file> URL names: its content never changes."""
    found = VERSIONED_FILE.match(path)
    return found.group(1) if found else None


def content_version(datasette, path: str) -> str:
    """What a response to `path` depends on, for ETags and caches: the release a versioned file
    belongs to; the served release and the list of recorded releases for the release pages and
    feeds (`make release` adds to the list without changing the data); the served release otherwise."""
    version = versioned_file(path)
    if version:
        return version
    if HISTORY_PATHS.match(path):
        records = recorded_releases(datasette)
        return f"{data_version(datasette)} {len(records)} {records[0]['version'] if records else ''}"
    return data_version(datasette)


def recorded_releases_in(build: Path) -> list[dict]:
    """The records of every recorded release under `build` (build/releases/index.json), newest first."""
    index = build / "releases" / "index.json"
    return json.loads(index.read_text(encoding="utf-8")) if index.is_file() else []


def release_versions(build: Path) -> list[str]:
    """Every recorded release under `build`, newest first."""
    return [r["version"] for r in recorded_releases_in(build)]


# --- the published data package: which columns are in which language, labels ---------------------


@lru_cache(maxsize=16)
def package_in(directory: Path) -> dict:
    """datapackage.json of a release directory (schemas inline), read once per release."""
    return json.loads((release_in(directory)["root"] / "datapackage.json").read_text(encoding="utf-8"))


def published_package(datasette) -> dict:
    return package_in(release_dir(datasette))


@lru_cache(maxsize=16)
def _languages_in(directory: Path) -> dict[str, dict[str, str]]:
    languages: dict[str, dict[str, str]] = {}
    for resource in package_in(directory)["resources"]:
        columns = languages.setdefault(resource["name"], {})
        for field in resource["schema"]["fields"]:
            if field.get("twin_of") and field.get("language") in LANGUAGES:
                columns[field["name"]] = field["language"]
                columns[field["twin_of"]] = other_language(field["language"])
    return languages


def column_languages(datasette, table: str) -> dict[str, str]:
    """{column: "nl" or "en"} for every authored column of `table` that has a twin in the other
    language (the schemas' `twin_of`); verbatim and coded columns are in no language here."""
    return _languages_in(release_dir(datasette)).get(table, {})


def hidden_columns(datasette, table: str, lang: str) -> set[str]:
    """The columns a page in `lang` does not show: the other language's twins."""
    return {column for column, language in column_languages(datasette, table).items() if language != lang}


@lru_cache(maxsize=16)
def _labels_in(directory: Path) -> dict:
    columns: dict[str, dict[str, str]] = {}
    values: dict[str, dict[str, dict[str, str]]] = {}
    unit_columns: dict[str, str] = {}
    for resource in package_in(directory)["resources"]:
        for field in resource["schema"]["fields"]:
            key = f"{resource['name']}.{field['name']}"
            if field.get("label"):
                columns[key] = {"en": field["label"], "nl": field.get("label_nl") or field["label"]}
            if field.get("value_labels"):
                values[key] = {
                    value: {"en": words["label"], "nl": words["label_nl"]}
                    for value, words in field["value_labels"].items()
                }
            if field.get("unit_column"):
                unit_columns[key] = field["unit_column"]
    return {"columns": columns, "values": values, "unit_columns": unit_columns}


def labels(datasette) -> dict:
    """Labels of columns and coded values, {"columns": {"table.column": {"nl": .., "en": ..}},
    "values": {"table.column": {value: {"nl": .., "en": ..}}}, "unit_columns": {"table.column": unit column}},
    derived from the published schemas, where they are written beside their fields (`label`,
    `label_nl`, `value_labels`, `unit_column`), once per release."""
    return _labels_in(release_dir(datasette))


def column_label(datasette, table: str, column: str, lang: str) -> str:
    """A column's label in `lang`: the table's own label, else the label shared by that column name;
    a twin (title_nl, name_en) takes its original's label. The column name when none is written."""
    columns = labels(datasette).get("columns", {})
    twin = column_languages(datasette, table).get(column)
    base = column
    if twin and column.endswith(("_nl", "_en")):
        base = column[:-3]
    for key in (f"{table}.{column}", f"{table}.{base}", column, base):
        if key in columns:
            return columns[key].get(lang) or columns[key].get(DEFAULT_LANGUAGE) or column
    return column


def value_label(datasette, table: str, column: str, value, lang: str) -> str | None:
    """The label of a coded value (kind, topic, unit, qualifier, a boolean) in `lang`, or None."""
    values = labels(datasette).get("values", {})
    for key in (f"{table}.{column}", column):
        if key in values:
            found = values[key].get(str(value)) if value is not None else None
            if found:
                return found.get(lang) or found.get(DEFAULT_LANGUAGE)
    return None


# --- the charts (datasette-dashboards in metadata.yml): the pages, their embeds and their images ---


def dashboards(datasette) -> dict:
    """The dashboards by slug, each with its charts by slug (datasette-dashboards' configuration)."""
    return datasette.plugin_config("datasette-dashboards") or {}


def chart_in_language(chart: dict, lang: str) -> dict:
    """A chart's configuration in `lang`: English replaces display, title and description."""
    if lang != "en":
        return chart
    english = {key: chart[f"{key}_en"] for key in ("display", "title", "description") if chart.get(f"{key}_en")}
    return {**chart, **english}


def chart_spec(chart: dict, columns: list[str], rows: list, width="container", config: dict | None = None) -> dict:
    """The Vega-Lite specification of a chart (already in its language) with its data inline: the
    one datasette-dashboards 0.8.0 builds in the browser (dashboards.js), for the embeds, which
    carry their data, and for the images rendered without a browser (scripts/images.py)."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": chart.get("title", ""),
        "width": width,
        "view": {"stroke": None},
        "config": {"background": "#00000000", "arc": {"innerRadius": 50}, "line": {"point": True}, **(config or {})},
        "data": {"values": [dict(zip(columns, row)) for row in rows]},
        **chart.get("display", {}),
    }


def chart_images_dir(datasette) -> Path:
    """Where the chart images of the served release are (build/images/<version>/), rendered by
    `make images` (scripts/images.py) outside the release directory: they are not part of the data."""
    return releases_dir(datasette).parent / "images" / data_version(datasette)
