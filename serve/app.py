"""The site as an ASGI app: the Datasette that `make serve` runs, built once per worker process.

`make serve` starts it with granian (`granian --interface asgi --factory serve.app:create_app
--workers N`); any ASGI server can do the same. Each worker opens the immutable database file
read-only and keeps its own response cache: nothing is shared between workers, so they scale
out to any number of processes or machines (docs/deploy.md).

Environment (all optional):
- DRUGBELEID_DB: the database (default build/drugbeleid.db); inspect.json and metadata.json are
  read beside it, as the build writes them.
- RESPONSE_CACHE=off: no response cache (benchmarks of cache misses); the metadata then says so.
- PUBLIC_BASE_URL: the site's public base URL (https://data.example.org/), the start of every
  absolute URL it writes (serve.shared.public_base_url; `make serve` sets http://HOST:PORT/).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
from pathlib import Path

# httpx (Datasette's internal client) imports its command-line client when rich is installed
# (frictionless brings it): rich.console and pygments, 0.15-0.2 s of every cold start for a CLI
# no worker runs. A None entry in sys.modules makes that optional import fail, as httpx allows.
sys.modules.setdefault("httpx._main", None)

import click  # noqa: E402
from datasette.vendored import pint  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Plugins import what they share from serve.shared and the project's code from scripts/: the
# project root goes on sys.path once, here (tests/conftest.py does the same for the tests).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# Datasette builds a pint UnitRegistry when it is imported: 0.3 s of parsing unit definitions, a
# third of a cold start. pint can cache the parsed definitions on disk (its cache_folder option);
# this makes that the default before Datasette's import, which then takes 0.02-0.04 s.
PINT_CACHE = ROOT / "build" / "pint-cache"
parsed_unit_registry = pint.UnitRegistry


def cached_unit_registry(*args, **kwargs):
    try:
        return parsed_unit_registry(*args, cache_folder=PINT_CACHE, **kwargs)
    except OSError:  # no writable build/ (a read-only deploy): parse, as Datasette does
        return parsed_unit_registry(*args, **kwargs)


pint.UnitRegistry = cached_unit_registry

from datasette.app import Datasette  # noqa: E402  (after the pint default above)

from serve import schema_memory, shared  # noqa: E402  (needs the project root on sys.path)

# Datasette's settings, written once: hardened for public SQL (reasons in docs/public-sql.md).
SETTINGS = ROOT / "serve" / "settings.json"


def load_settings() -> dict:
    return json.loads(SETTINGS.read_text(encoding="utf-8"))


SERVED = object()  # the default of create_datasette's settings: serve/settings.json


def create_datasette(
    database: Path,
    cache: bool = True,
    metadata: dict | None = None,
    settings=SERVED,
    public_base_url: str | None = None,
) -> Datasette:
    """The site, built one way for production (create_app), the tests' fixture and the fuzzer: the
    database with the inspect file and metadata the build wrote beside it (or `metadata`), the
    project's plugins and templates, the served settings (or `settings`; None: Datasette's own), and
    the public base URL (PUBLIC_BASE_URL; docs/deploy.md)."""
    build_dir = database.parent
    if metadata is None:
        metadata = json.loads((build_dir / "metadata.json").read_text(encoding="utf-8"))
    if public_base_url:
        base = shared.checked_base_url(public_base_url, "PUBLIC_BASE_URL")
        metadata.setdefault("plugins", {}).setdefault("drugbeleid", {})["public_base_url"] = base
        # Datasette's footer links the site's source_url as written: the documents page's path
        # becomes a full URL under the public base URL, as everywhere else the site links it.
        if metadata.get("source_url", "").startswith("/"):
            metadata["source_url"] = base + metadata["source_url"].lstrip("/")
    inspect_file = build_dir / "inspect.json"
    if not cache:
        plugin_config = metadata.setdefault("plugins", {}).setdefault("drugbeleid", {})
        plugin_config["response_cache"] = {**plugin_config.get("response_cache", {}), "max_bytes": 0}
    datasette = Datasette(
        immutables=[str(database)],
        inspect_data=json.loads(inspect_file.read_text(encoding="utf-8")) if inspect_file.exists() else None,
        metadata=metadata,
        plugins_dir=str(ROOT / "plugins"),
        template_dir=str(ROOT / "templates"),
        settings=load_settings() if settings is SERVED else settings,
    )
    # Every table view asks which `allow` blocks apply to the table, and Datasette answers by deep-
    # copying the whole metadata (~100 KB here: descriptions, interface strings) each time: about
    # 1.5 ms of a 9 ms JSON request. The answer depends only on (database, table) and the metadata,
    # which is fixed for the life of the process, so it is remembered.
    if hasattr(datasette, "_table_permission_allows"):
        datasette._table_permission_allows = functools.lru_cache(maxsize=1024)(datasette._table_permission_allows)
    remember_markdown_config(datasette)
    schema_memory.remember_schema(datasette)
    return datasette


MARKDOWN = "datasette-render-markdown"


def remember_markdown_config(datasette: Datasette) -> None:
    """datasette-render-markdown asks for its configuration for every text cell of every table page
    (Datasette merges the metadata for each ask: about 5 µs, a few hundred times a page) and only
    reads it (metadata.yml sets no pattern: it renders nothing). Its answer per (database, table) is
    remembered for the life of the process, as the metadata is; every other plugin's configuration
    is asked of Datasette as before (datasette-dashboards writes into the dict it gets)."""
    asked = datasette.plugin_config
    markdown = functools.lru_cache(maxsize=1024)(
        lambda database, table: asked(MARKDOWN, database=database, table=table)
    )

    def plugin_config(plugin_name, database=None, table=None, fallback=True):
        if plugin_name == MARKDOWN and fallback is True:
            return markdown(database, table)
        return asked(plugin_name, database=database, table=table, fallback=fallback)

    datasette.plugin_config = plugin_config


def create_app():
    """Called by the ASGI server in each worker. The startup hooks (the database integrity check)
    run here, before the worker accepts a request, as `datasette serve` runs them: a refused
    database stops the worker with the message instead of serving."""
    database = Path(os.environ.get("DRUGBELEID_DB", ROOT / "build" / "drugbeleid.db")).resolve()
    try:
        datasette = create_datasette(
            database,
            cache=os.environ.get("RESPONSE_CACHE", "on") != "off",
            public_base_url=os.environ.get("PUBLIC_BASE_URL"),
        )
    except ValueError as wrong:
        print(f"Error: {wrong}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    try:
        asyncio.run(datasette.invoke_startup())
    except click.ClickException as refused:  # as `datasette serve` shows it: the message, no traceback
        print(f"Error: {refused.format_message()}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    return datasette.app()
