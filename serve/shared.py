"""What several plugins need, in one place: the build paths, the served release and the page's language.

Plugins import this module (`from serve import shared`); the project root is put on sys.path once,
by the app factory (serve/app.py) and by the test configuration (tests/conftest.py), never by a plugin.

The served release is the one the database belongs to: the build publishes the database, its
metadata.json and release.json together in one immutable release directory, so everything a plugin
reads about "the current release" is found beside the database file Datasette opened.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "drugbeleid"

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LANGUAGE_PARAMETER = "_lang"


# --- build paths and the served release -------------------------------------------------------

def database_path(datasette) -> Path:
    """The served database file, symbolic links resolved: its directory is its release's."""
    return Path(datasette.get_database(DATABASE).path).resolve()


def release_dir(datasette) -> Path:
    """The directory of the served release: the database, release.json, metadata.json, the files."""
    return database_path(datasette).parent


@lru_cache(maxsize=16)
def release_in(directory: Path) -> dict:
    """release.json of a release directory. A release directory never changes, so it is read once."""
    release = json.loads((directory / "release.json").read_text(encoding="utf-8"))
    release["root"] = directory / release["directory"] if "directory" in release else directory
    return release


def current_release(datasette) -> dict:
    return release_in(release_dir(datasette))


def data_version(datasette) -> str:
    return current_release(datasette)["version"]


# --- the page's language ------------------------------------------------------------------------

def language_of(request) -> str:
    """"nl" (the default) or "en", from ?_lang= in the URL; the default without a request."""
    asked = request.args.get(LANGUAGE_PARAMETER) if request is not None else None
    return asked if asked in LANGUAGES else DEFAULT_LANGUAGE


def other_language(lang: str) -> str:
    return "en" if lang == "nl" else "nl"


def with_language(path: str, lang: str) -> str:
    """`path` (which may carry a query string and a #fragment) with `_lang` set for `lang`."""
    path, hash_, fragment = path.partition("#")
    base, _, query = path.partition("?")
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != LANGUAGE_PARAMETER]
    if lang != DEFAULT_LANGUAGE:
        pairs.append((LANGUAGE_PARAMETER, lang))
    return base + (f"?{urlencode(pairs)}" if pairs else "") + hash_ + fragment


def plugin_config(datasette) -> dict:
    return datasette.plugin_config(DATABASE) or {}


def ui_strings(datasette, lang: str) -> dict:
    """The interface strings of a language, written once in metadata.yml (plugins.drugbeleid.ui)."""
    return (plugin_config(datasette).get("ui") or {}).get(lang, {})


# --- where releases are published ---------------------------------------------------------------

def build_root(datasette) -> Path:
    """The build directory that holds every release (build/ for `make serve`)."""
    directory = release_dir(datasette)
    return directory.parent.parent if directory.parent.name == "releases" else directory


def published_pointer(build: Path) -> Path:
    """The file whose atomic replacement publishes a new release in `build`: a server or proxy that
    wants to notice a new release watches this path (its identity changes with every publication)."""
    return build / "release.json"


def release_versions(build: Path) -> list[str]:
    """Every release kept under `build`, newest first (versions start with their date)."""
    releases = build / "releases"
    found = [p.name for p in releases.iterdir() if p.is_dir() and not p.name.startswith(".")] if releases.is_dir() else []
    return sorted(found, reverse=True)
