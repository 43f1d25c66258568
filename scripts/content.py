"""Publish step, content half: the site's texts and queries from content/, one kind per file.

Each file of content/ holds one kind of thing (key figures, example questions, stable feeds,
charts, related rows, the search pages' words) and is validated at build against its JSON Schema
in content/schemas/. Every text is written in both languages by one convention (docs/languages.md):
English under the plain key (`title`), Dutch under the same key with `_nl` (`title_nl`), as the
schemas' `description`/`description_nl` and the data's authored columns do.

`datasette_site` places the content where Datasette and the plugins read it in build/metadata.json.
That file is Datasette's configuration and is never written by hand: Datasette shows a canned
query's or a dashboard's `title` and `description` itself, on pages whose default language is Dutch,
so there those keys hold the Dutch and `title_en`/`description_en` the English beside them.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from .problems import Problem

# file -> its JSON Schema, in content/schemas/
FILES = {
    "key_figures.yml": "key_figures.schema.json",
    "feeds.yml": "queries.schema.json",
    "examples.yml": "queries.schema.json",
    "charts.yml": "charts.schema.json",
    "related.yml": "related.schema.json",
    "search.yml": "search.schema.json",
}

# What metadata.yml no longer holds, and where it is now.
MOVED = {
    ("plugins", "drugbeleid", "key_figures"): "content/key_figures.yml",
    ("plugins", "drugbeleid", "examples"): "content/examples.yml",
    ("plugins", "drugbeleid", "related"): "content/related.yml",
    ("plugins", "drugbeleid", "labels"): "the schemas in datasets/schemas/ (label, label_nl, value_labels)",
    ("plugins", "drugbeleid", "dutch_columns"): 'the schemas in datasets/schemas/ ("language": "nl")',
    ("plugins", "drugbeleid", "search", "ui"): "content/search.yml",
    ("plugins", "datasette-dashboards"): "content/charts.yml",
    ("databases", "drugbeleid", "queries"): "content/feeds.yml and content/examples.yml",
}


def read_content(directory: Path) -> tuple[dict, list[Problem]]:
    """{file stem: content} of every content file, and every problem found: a missing file, YAML
    that does not parse, a value its JSON Schema refuses (with the path to it), a name used twice."""
    content, problems = {}, []
    schemas = directory / "schemas"
    for name, schema_name in FILES.items():
        path = directory / name
        where = f"{directory.name}/{name}"
        if not path.is_file():
            problems.append(Problem(where, "missing: every content file is an input of the build"))
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            problems.append(Problem(where, f"not valid YAML: {error}"))
            continue
        validator = Draft202012Validator(json.loads((schemas / schema_name).read_text(encoding="utf-8")))
        found = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        for error in found:
            at = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            problems.append(Problem(where, f"at {at}: {error.message} (schema {directory.name}/schemas/{schema_name})"))
        if not found:
            content[path.stem] = data
    problems += name_problems(content, directory.name)
    return content, problems


def name_problems(content: dict, root: str) -> list[Problem]:
    problems = []
    seen: dict[str, str] = {}
    for stem in ("feeds", "examples"):
        for query in content.get(stem, []):
            if query["name"] in seen:
                problems.append(
                    Problem(f"{root}/{stem}.yml", f"query '{query['name']}' is also in {seen[query['name']]}")
                )
            seen[query["name"]] = f"{root}/{stem}.yml"
    charts = content.get("charts")
    if charts:
        for row in charts["layout"]:
            for slug in row:
                if slug not in charts["charts"]:
                    problems.append(
                        Problem(f"{root}/charts.yml", f"layout names chart '{slug}', which is not in charts")
                    )
    return problems


def moved_problems(site: dict, path: str) -> list[Problem]:
    """metadata.yml keeps Datasette's configuration: content written there again is refused."""
    problems = []
    for keys, where in MOVED.items():
        node = site
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            problems.append(Problem(path, f"{'.'.join(keys)} is content: write it in {where}"))
    return problems


def as_datasette_has_them(config: dict, *keys: str) -> dict:
    """The texts `keys` of `config` (English plain, Dutch under `_nl`) as Datasette's configuration
    holds them on this site: Dutch under the plain key, English under `_en`."""
    return {name: value for key in keys for name, value in ((key, config[f"{key}_nl"]), (f"{key}_en", config[key]))}


def canned_query(query: dict) -> dict:
    return {**as_datasette_has_them(query, "title", "description"), "sql": query["sql"]}


def chart(config: dict) -> dict:
    return {
        **as_datasette_has_them(config, "title", "description"),
        "db": config["db"],
        "library": config["library"],
        "query": config["query"],
        "columns": config["columns"],
        **as_datasette_has_them(config, "display"),
    }


def datasette_site(site: dict, content: dict) -> dict:
    """The site's configuration (metadata.yml) with the content placed where Datasette and the
    plugins read it; `site` itself is not changed."""
    site = json.loads(json.dumps(site))
    ours = site.setdefault("plugins", {}).setdefault("drugbeleid", {})
    ours["key_figures"] = content["key_figures"]
    ours["examples"] = [query["name"] for query in content["examples"]]
    ours["related"] = content["related"]
    strings = content["search"]
    ours.setdefault("search", {})["ui"] = {
        "nl": {key[:-3]: value for key, value in strings.items() if key.endswith("_nl")},
        "en": {key: value for key, value in strings.items() if not key.endswith("_nl")},
    }
    charts = content["charts"]
    site["plugins"]["datasette-dashboards"] = {
        "drugbeleid": {
            **as_datasette_has_them(charts, "title", "description"),
            "layout": charts["layout"],
            "charts": {slug: chart(c) for slug, c in charts["charts"].items()},
        }
    }
    database = site.setdefault("databases", {}).setdefault("drugbeleid", {})
    database["queries"] = {q["name"]: canned_query(q) for q in content["feeds"] + content["examples"]}
    return site
