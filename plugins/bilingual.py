"""Pages in the page's language: table columns, facet labels and row pages as record cards.

Every text we wrote ourselves has a twin in the other language (datasets/schemas, `twin_of`). A
page shows the column of its own language and hides the other one: on a Dutch page `title_nl` and
not `title`, on an English page the reverse (templates/_table.html). Coded values (kind, topic,
unit, qualifier, booleans) are shown with their label in the page's language, in tables, facets
and record cards; the labels are written once, in metadata.yml (plugins.drugbeleid.labels).

A row page is a record card (templates/row.html): one label and value per line, units and coded
values explained, links to related rows (metadata.yml plugins.drugbeleid.related: SQL that returns
the table and key of each related row), then the provenance block. The row's JSON and CSV are
Datasette's own and unchanged.
"""
from __future__ import annotations

import re

from datasette import hookimpl
from datasette.utils import tilde_encode, urlsafe_components
from markupsafe import Markup, escape

from serve.shared import (DATABASE, column_label, column_languages, hidden_columns, labels, language_of,
                          plugin_config, published_package, value_label, with_language)


def row_path(table: str, key_values: list) -> str:
    return f"/{DATABASE}/{tilde_encode(table)}/" + ",".join(tilde_encode(str(v)) for v in key_values)


def resource_of(datasette, table: str) -> dict | None:
    """The table's resource in the served data package (its titles and schema)."""
    return next((r for r in published_package(datasette)["resources"] if r["name"] == table), None)


def table_title(datasette, table: str, lang: str) -> str:
    resource = resource_of(datasette, table)
    return (resource.get("title_nl" if lang == "nl" else "title") if resource else None) or table


def fields_of(datasette, table: str) -> dict[str, dict]:
    resource = resource_of(datasette, table)
    return {f["name"]: f for f in resource["schema"]["fields"]} if resource else {}


def coded(datasette, table: str, column: str, value, lang: str) -> Markup | None:
    """A coded value as 'label (code)' in the page's language, or None when it has no label."""
    label = value_label(datasette, table, column, value, lang)
    if label is None:
        return None
    return Markup('{} <code class="code">{}</code>').format(label, value)


def unit_of(datasette, table: str, column: str, row: dict, fields: dict, lang: str) -> str | None:
    unit_column = (labels(datasette).get("unit_columns") or {}).get(f"{table}.{column}")
    unit = row.get(unit_column) if unit_column else fields.get(column, {}).get("unit")
    if not unit:
        return None
    return value_label(datasette, table, "unit", unit, lang) or unit


async def related_rows(datasette, table: str, row: dict, lang: str) -> list[dict]:
    """Links to related rows: each relation of metadata.yml runs its SQL with the row's values."""
    db = datasette.get_database(DATABASE)
    found = []
    for relation in (plugin_config(datasette).get("related") or {}).get(table, []):
        result = await db.execute(relation["sql"], {k: v for k, v in row.items()})
        links = [{"href": with_language(row_path(r["tbl"], str(r["key"]).split(",")), lang),
                  "text": (r["label_" + lang] if "label_" + lang in r.keys() else r["label"])} for r in result.rows]
        if links:
            found.append({"label": relation.get(lang) or relation.get("nl"), "links": links})
    return found


async def record_card(datasette, request, table: str) -> dict:
    lang = language_of(request)
    db = datasette.get_database(DATABASE)
    key_values = urlsafe_components(request.url_vars["pks"])
    pks = await db.primary_keys(table) or ["rowid"]
    where = " and ".join(f"[{pk}] = ?" for pk in pks)
    result = await db.execute(f"select * from [{table}] where {where}", key_values)
    if not result.rows:
        return {}
    row = dict(result.rows[0])
    fields = fields_of(datasette, table)
    foreign = {fk["column"]: fk for fk in await db.foreign_keys_for_table(table)}
    hidden = hidden_columns(datasette, table, lang)
    dutch = set(plugin_config(datasette).get("dutch_columns") or [])
    lines = []
    for column, value in row.items():
        if column in hidden:
            continue
        field = fields.get(column, {})
        line = {"column": column, "label": column_label(datasette, table, column, lang), "empty": value is None or value == "",
                "lang": "nl" if (field.get("verbatim") or f"{table}.{column}" in dutch
                                 or column_languages(datasette, table).get(column) == "nl") else None}
        if line["empty"]:
            lines.append(line)
            continue
        if column in foreign:
            fk = foreign[column]
            line["html"] = Markup('<a href="{}">{}</a>').format(
                with_language(row_path(fk["other_table"], [value]), lang), value)
        else:
            line["html"] = coded(datasette, table, column, value, lang) or escape(value)
        unit = unit_of(datasette, table, column, row, fields, lang)
        if unit:
            line["html"] = Markup("{} {}").format(line["html"], unit)
        lines.append(line)
    return {"title": table_title(datasette, table, lang), "key": ", ".join(key_values), "lines": lines,
            "related": await related_rows(datasette, table, row, lang)}


@hookimpl
def extra_template_vars(view_name, database, table, request, datasette):
    lang = language_of(request)

    async def inner():
        found = {
            "column_label": lambda t, c: column_label(datasette, t, c, lang),
            "coded_value": lambda t, c, v: coded(datasette, t, c, v, lang),
            "hidden_columns": hidden_columns(datasette, table, lang) if database == DATABASE and table else set(),
            "table_title": table_title(datasette, table, lang) if database == DATABASE and table else None,
            "table_title_of": lambda t: table_title(datasette, t, lang),
        }
        if view_name == "row" and database == DATABASE and table and request is not None:
            found["record"] = await record_card(datasette, request, table)
        return found

    return inner


# --- Datasette's own words, in the page's language ---------------------------------------------------

BILINGUAL_DESCRIPTION = re.compile(r"([^<>\"]*?) — EN: ([^<>\"]*)")
ROWS = [(re.compile(r"\b1 row\b"), "1 rij"), (re.compile(r"(\d[\d,.]*) rows\b"), r"\1 rijen"),
        (re.compile(r"\bMany rows\b"), "Veel rijen"),
        (re.compile(r"Custom SQL query returning (more than )?"), lambda m: "Eigen SQL-query: " + ("meer dan " if m.group(1) else ""))]


def in_language(html: str, lang: str, ui: dict) -> Markup:
    """Datasette's body (or footer) in the page's language: a column description written in both
    languages ('nl — EN: en', scripts/metadata.py) keeps the page's half, and on a Dutch page
    Datasette's English words become Dutch (metadata.yml, ui.nl.datasette_phrases)."""
    html = BILINGUAL_DESCRIPTION.sub(lambda m: m.group(1) if lang == "nl" else m.group(2), str(html))
    if lang == "nl":
        for english, dutch in ui.get("datasette_phrases") or []:
            html = html.replace(english, dutch)
        for pattern, replacement in ROWS:
            html = pattern.sub(replacement, html)
    return Markup(html)


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["in_language"] = in_language
