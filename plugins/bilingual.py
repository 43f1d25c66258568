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

import json
from functools import lru_cache

from datasette import hookimpl
from datasette.utils import (
    path_from_row_pks,
    tilde_encode,
    to_css_class,
    urlsafe_components,
)
from markupsafe import Markup, escape

from serve import i18n
from serve.i18n import gettext
from serve.shared import (
    DATABASE,
    column_label,
    column_languages,
    hidden_columns,
    labels,
    language_of,
    page_row,
    plugin_config,
    published_package,
    release_dir,
    text_in,
    value_label,
    with_language,
)


def row_path(table: str, key_values: list) -> str:
    return f"/{DATABASE}/{tilde_encode(table)}/" + ",".join(tilde_encode(str(v)) for v in key_values)


def resource_of(datasette, table: str) -> dict | None:
    """The table's resource in the served data package (its titles and schema)."""
    return next((r for r in published_package(datasette)["resources"] if r["name"] == table), None)


def table_title(datasette, table: str, lang: str) -> str:
    resource = resource_of(datasette, table)
    return (resource.get("title_nl" if lang == "nl" else "title") if resource else None) or table


def fields_of(datasette, table: str) -> dict[str, dict]:
    return _fields_of(release_dir(datasette), datasette, table)


@lru_cache(maxsize=256)
def _fields_of(_release, datasette, table: str) -> dict[str, dict]:
    # a release never changes: its fields are read once per release and table
    resource = resource_of(datasette, table)
    return {f["name"]: f for f in resource["schema"]["fields"]} if resource else {}


def coded(datasette, table: str, column: str, value, lang: str) -> Markup | None:
    """A coded value as 'label (code)' in the page's language, or None when it has no label."""
    release = release_dir(datasette)
    if not labelled(release, datasette, table, column):
        return None
    return _coded(release, datasette, table, column, value, lang)


@lru_cache(maxsize=1024)
def labelled(_release, datasette, table: str, column: str) -> bool:
    """Whether any value of the column has a label (value_label looks under "table.column", then
    "column"): most cells of a table page are in a column without, and need no lookup per value."""
    values = labels(datasette).get("values", {})
    return f"{table}.{column}" in values or column in values


@lru_cache(maxsize=8192)
def _coded(_release, datasette, table: str, column: str, value, lang: str) -> Markup | None:
    # a table page asks for every cell: a label is looked up once per release, value and language
    label = value_label(datasette, table, column, value, lang)
    if label is None:
        return None
    return Markup('{} <code class="code">{}</code>').format(label, value)


def rows_writer(datasette, table: str, lang: str, hidden: set, measured: set):
    """`table_rows(display_rows, rows, pks)` for one table page: the <tr>s of templates/_table.html,
    one per row, from Datasette's cells and the rows' raw values: the other language's twins left
    out, a row's link keeping the page's language, a coded value's label beside its code, a number
    written for the page, every other value as Datasette renders it (texts exactly as stored).
    Written here, not in the template: a table page has thousands of cells, and Python writes one in
    a fraction of the time Jinja's async mode takes, and the rows in one call instead of one each.
    What depends only on the column (its CSS class, whether its values have labels, whether it is
    measured in fractions) is found once per page and column."""
    release = release_dir(datasette)
    row_base = f"/{DATABASE}/{tilde_encode(table)}/"
    columns: dict[str, tuple[str, bool, bool]] = {}

    def column_facts(column: str) -> tuple[str, bool, bool]:
        facts = columns.get(column)
        if facts is None:
            facts = columns[column] = (
                css_class(column),
                labelled(release, datasette, table, column),
                column not in measured,
            )
        return facts

    def table_row(cells: list, raw_row, pks: list) -> str:
        found = []
        for cell in cells:
            column = cell["column"]
            if column in hidden:
                continue
            css, has_labels, whole = column_facts(column)
            raw, value, kind = cell["raw"], cell["value"], cell["value_type"]
            if kind == "pk" and raw_row is not None:
                href = with_language(row_base + path_from_row_pks(raw_row, pks, not pks), lang)
                html = Markup(f'<a href="{escape(href)}">{escape(raw)}</a>')
            else:
                html = (
                    _coded(release, datasette, table, column, raw, lang)
                    if has_labels and raw is not None and not isinstance(raw, (dict, float))
                    else None
                )
                if html is None:
                    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and value == str(raw):
                        html = number(raw, lang, whole)
                    else:
                        html = value
            found.append(f'<td class="col-{css} type-{kind}">{escape(html)}</td>')
        return "".join(found)

    def table_rows(display_rows: list, rows, pks: list) -> Markup:
        # each row as the template's loop wrote it, its indentation included (the same bytes)
        return Markup(
            "".join(
                f"\n            <tr>{table_row(cells, rows[i] if rows is not None else None, pks)}</tr>\n        "
                for i, cells in enumerate(display_rows)
            )
        )

    return table_rows


@lru_cache(maxsize=4096)
def css_class(column: str) -> str:
    return str(escape(to_css_class(column)))


def unit_code(datasette, table: str, column: str, row: dict, fields: dict) -> str | None:
    unit_column = (labels(datasette).get("unit_columns") or {}).get(f"{table}.{column}")
    return row.get(unit_column) if unit_column else fields.get(column, {}).get("unit")


def unit_of(datasette, table: str, column: str, row: dict, fields: dict, lang: str) -> str | None:
    unit = unit_code(datasette, table, column, row, fields)
    if not unit:
        return None
    return value_label(datasette, table, "unit", unit, lang) or unit


async def related_rows(datasette, table: str, row: dict, lang: str) -> list[dict]:
    """Links to related rows: each relation of content/related.yml runs its SQL with the row's values
    and names its links by `label`, or by `label_nl` on a Dutch page where the SQL returns one."""
    db = datasette.get_database(DATABASE)
    found = []
    for relation in (plugin_config(datasette).get("related") or {}).get(table, []):
        result = await db.execute(relation["sql"], {k: v for k, v in row.items()})
        links = [
            {
                "href": with_language(row_path(r["tbl"], str(r["key"]).split(",")), lang),
                "text": (r["label_nl"] if lang == "nl" and "label_nl" in r.keys() else r["label"]),
            }
            for r in result.rows
        ]
        if links:
            found.append({"label": text_in(relation, "label", lang), "links": links})
    return found


async def record_card(datasette, request, table: str) -> dict:
    lang = language_of(request)
    db = datasette.get_database(DATABASE)
    row = await page_row(datasette, request, table)
    if row is None:
        return {}
    fields = fields_of(datasette, table)
    foreign = {fk["column"]: fk for fk in await db.foreign_keys_for_table(table)}
    hidden = hidden_columns(datasette, table, lang)
    lines = []
    for column, value in row.items():
        if column in hidden:
            continue
        field = fields.get(column, {})
        line = {
            "column": column,
            "label": column_label(datasette, table, column, lang),
            "empty": value is None or value == "",
            "lang": "nl"
            if (
                field.get("verbatim")
                or field.get("language") == "nl"
                or column_languages(datasette, table).get(column) == "nl"
            )
            else None,
        }
        if line["empty"]:
            lines.append(line)
            continue
        if column in foreign:
            fk = foreign[column]
            line["html"] = Markup('<a href="{}">{}</a>').format(
                with_language(row_path(fk["other_table"], [value]), lang), value
            )
        else:
            whole = unit_code(datasette, table, column, row, fields) not in MEASURED_UNITS
            line["html"] = coded(datasette, table, column, value, lang) or escape(number(value, lang, whole))
        unit = unit_of(datasette, table, column, row, fields, lang)
        if unit:
            line["html"] = Markup("{} {}").format(line["html"], unit)
        lines.append(line)
    return {
        "title": table_title(datasette, table, lang),
        "key": ", ".join(urlsafe_components(request.url_vars["pks"])),
        "lines": lines,
        "related": await related_rows(datasette, table, row, lang),
    }


def inherited_metadata(datasette, database: str, table: str) -> dict:
    """A table's metadata with the source and licence it inherits from the site, filled in by
    Datasette's own update_with_inherited_metadata, on a copy: its table page does it in place, so
    a row page showed them only once its table's page had been served."""
    metadata = dict(datasette.table_metadata(database, table))
    datasette.update_with_inherited_metadata(metadata)
    return metadata


def in_language_of(mapping, key: str, lang: str):
    """`mapping[key]` in `lang`, whichever way the text's two languages are written: `key` beside
    `key_nl` (the data's way) or beside `key_en`."""
    if not mapping:
        return None
    return mapping.get(f"{key}_{lang}") or mapping.get(key)


# Units measured in fractions: a whole value of these keeps its decimals (1.0 FTE is written 1,0).
MEASURED_UNITS = {"fte"}


def measured_columns(datasette, table: str) -> set[str]:
    return {name for name, field in fields_of(datasette, table).items() if field.get("unit") in MEASURED_UNITS}


def measured_names(datasette) -> set[str]:
    """The names of the columns measured in fractions in any table (for query and chart results)."""
    return _measured_names(release_dir(datasette), datasette)


@lru_cache(maxsize=16)
def _measured_names(_release, datasette) -> frozenset[str]:
    return frozenset(
        name
        for resource in published_package(datasette)["resources"]
        for name in measured_columns(datasette, resource["name"])
    )


def column_description(datasette, table: str, column: str, lang: str) -> str | None:
    """A column's description in `lang`, from its schema (description, description_nl)."""
    field = fields_of(datasette, table).get(column)
    if not field:
        return None
    return field.get("description_nl" if lang == "nl" else "description") or field.get("description")


def table_description(datasette, table: str, lang: str) -> str | None:
    resource = resource_of(datasette, table)
    if not resource:
        return None
    return resource.get("description_nl" if lang == "nl" else "description") or resource.get("description")


# --- the table page's description of its filters, search and sort, from the filters themselves ----


def filter_clause(column: str, lookup: str, value: str, lang: str) -> str | None:
    """One filter as the table page's heading says it (Datasette's words, in `lang`)."""
    quoted = not value.isdigit()
    if lookup == "in" or lookup == "notin":
        listed = json.dumps(
            json.loads(value) if value.startswith("[") else [v.strip() for v in value.split(",")], ensure_ascii=False
        )
        message = (
            gettext("%(column)s in %(value)s", lang) if lookup == "in" else gettext("%(column)s not in %(value)s", lang)
        )
        return message % {"column": column, "value": listed}
    messages = {
        "exact": gettext('%(column)s = "%(value)s"', lang) if quoted else gettext("%(column)s = %(value)s", lang),
        "not": gettext('%(column)s != "%(value)s"', lang) if quoted else gettext("%(column)s != %(value)s", lang),
        "contains": gettext('%(column)s contains "%(value)s"', lang),
        "endswith": gettext('%(column)s ends with "%(value)s"', lang),
        "startswith": gettext('%(column)s starts with "%(value)s"', lang),
        "gt": gettext("%(column)s > %(value)s", lang),
        "gte": gettext("%(column)s ≥ %(value)s", lang),
        "lt": gettext("%(column)s < %(value)s", lang),
        "lte": gettext("%(column)s ≤ %(value)s", lang),
        "like": gettext('%(column)s like "%(value)s"', lang),
        "notlike": gettext('%(column)s not like "%(value)s"', lang),
        "glob": gettext('%(column)s glob "%(value)s"', lang),
        "arraycontains": gettext('%(column)s contains "%(value)s"', lang),
        "arraynotcontains": gettext('%(column)s does not contain "%(value)s"', lang),
        "date": gettext('"%(column)s" is on date %(value)s', lang),
        "isnull": gettext("%(column)s is null", lang),
        "notnull": gettext("%(column)s is not null", lang),
        "isblank": gettext("%(column)s is blank", lang),
        "notblank": gettext("%(column)s is not blank", lang),
    }
    message = messages.get(lookup)
    return message % {"column": column, "value": value} if message else None


def filter_sentence(request, filters, sort: str | None, sort_desc: str | None, supports_search: bool, lang: str) -> str:
    """What a table page's heading says about its search, filters and sort, written from the
    request and Datasette's public `filters.selections()`, in `lang`."""
    bits = []
    search_args = {k: request.args[k] for k in request.args if k.startswith("_search") and k != "_searchmode"}
    if supports_search and search_args:
        if "_search" in search_args:
            bits.append(gettext('search matches "%(text)s"', lang) % {"text": search_args["_search"]})
        else:
            for key, text in search_args.items():
                bits.append(
                    gettext('search column "%(column)s" matches "%(text)s"', lang)
                    % {"column": key.split("_search_", 1)[1], "text": text}
                )
    for given in request.args.getlist("_through"):
        try:
            through = json.loads(given)
            bits.append(f'{through["table"]}.{through["column"]} = "{through["value"]}"')
        except (ValueError, KeyError, TypeError):
            continue
    for column, lookup, value in filters.selections() if filters is not None else []:
        clause = filter_clause(column, lookup, value, lang)
        if clause:
            bits.append(clause)
    sentence = ""
    if bits:
        listed = (
            bits[-1]
            if len(bits) == 1
            else gettext("%(first)s and %(last)s", lang) % {"first": ", ".join(bits[:-1]), "last": bits[-1]}
        )
        sentence = gettext("where %(conditions)s", lang) % {"conditions": listed}
    if sort or sort_desc:
        ordered = (
            gettext("sorted by %(column)s descending", lang) if sort_desc else gettext("sorted by %(column)s", lang)
        ) % {"column": sort_desc or sort}
        sentence = (
            gettext("%(filters)s %(sorted)s", lang) % {"filters": sentence, "sorted": ordered} if sentence else ordered
        )
    return sentence


# --- numbers in the page's language -------------------------------------------------------------


def number(value, lang: str, whole: bool = True) -> str:
    """A number as a page shows it: a decimal comma on Dutch pages, and (`whole`) a float that holds
    a whole number without decimals (a count stored as 26.0 shows as 26). Not grouped: a year stays
    2022. Anything else is returned unchanged."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and whole and value.is_integer():
        value = int(value)
    text = repr(value)
    return text.replace(".", ",") if lang == "nl" and "e" not in text else text


def count_in(value, lang: str) -> str:
    """A count with its thousands grouped as the page's language writes them (1.045 / 1,045)."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "nl" else text


def error_in_language(error, lang: str) -> Markup:
    """An error message (Datasette's, or one of this site's plugins') in the page's language: a
    message that begins with a known English beginning has that beginning translated (what follows,
    a name or a value from the URL, stays); on a Dutch page any other is marked as English."""
    message = escape(error)
    beginnings = {
        "Database not found": gettext("Database not found", lang),
        "Table not found": gettext("Table not found", lang),
        "Record not found": gettext("Record not found", lang),
        "Document not found": gettext("Document not found", lang),
        "Release not found": gettext("Release not found", lang),
        "Cannot sort table by ": gettext("Cannot sort table by ", lang),
    }
    for english, translated in beginnings.items():
        if message.startswith(english):
            return escape(translated) + message[len(english) :]
    return message if lang == "en" else Markup('<span lang="en">{}</span>').format(message)


@hookimpl
def extra_template_vars(view_name, database, table, request, datasette):
    lang = language_of(request)
    ours = database == DATABASE and table
    hidden = hidden_columns(datasette, table, lang) if ours else set()
    measured = measured_columns(datasette, table) if ours else set()

    async def inner():
        found = {
            "column_label": lambda t, c: column_label(datasette, t, c, lang),
            "coded_value": lambda t, c, v: coded(datasette, t, c, v, lang),
            "column_description": lambda t, c: column_description(datasette, t, c, lang),
            "table_description": lambda t: table_description(datasette, t, lang),
            "in_language": lambda mapping, key: in_language_of(mapping, key, lang),
            "hidden_columns": hidden,
            "measured_columns": measured,
            "measured_names": measured_names(datasette),
            "table_title": table_title(datasette, table, lang) if ours else None,
            "table_title_of": lambda t: table_title(datasette, t, lang),
            "filter_sentence": lambda filters, sort, sort_desc, supports_search=False: (
                filter_sentence(request, filters, sort, sort_desc, supports_search, lang) if request is not None else ""
            ),
            "table_rows": rows_writer(datasette, table, lang, hidden, measured) if ours else None,
            "row_href": lambda row, pks: (
                with_language(f"/{DATABASE}/{tilde_encode(table)}/{path_from_row_pks(row, pks, not pks)}", lang)
                if ours
                else None
            ),
        }
        if view_name == "row" and ours and request is not None:
            found["record"] = await record_card(datasette, request, table)
            found["row_metadata"] = inherited_metadata(datasette, database, table)
        return found

    return inner


@hookimpl
def render_cell(value, column, table, database, datasette):
    """A foreign key Datasette expanded ({"value", "label"}) on a page that is not in the default
    language: the link keeps the page's language (Datasette writes it without the request, so the
    language comes from the request's context). A Dutch page keeps Datasette's own link."""
    if not isinstance(value, dict) or "value" not in value or database != DATABASE:
        return None
    lang = i18n.page_language.get()
    if lang == i18n.DEFAULT_LANGUAGE:
        return None
    known = _foreign_tables.get((release_dir(datasette), table))
    if known is not None:  # every cell but the first of a release and table: no coroutine to await
        return foreign_key_link(known.get(column), value, lang)

    async def inner():
        return foreign_key_link((await foreign_tables(datasette, table)).get(column), value, lang)

    return inner


def foreign_key_link(other: str | None, value: dict, lang: str) -> Markup | None:
    """Datasette's link of an expanded foreign key to the row in table `other`, in `lang`."""
    if other is None:
        return None
    href = escape(with_language(row_path(other, [value["value"]]), lang))
    label = value.get("label")
    if label is not None and str(label) != str(value["value"]):
        return Markup(f'<a href="{href}">{escape(label)}</a>&nbsp;<em>{escape(value["value"])}</em>')
    return Markup(f'<a href="{href}">{escape(value["value"])}</a>')


_foreign_tables: dict = {}


async def foreign_tables(datasette, table: str) -> dict[str, str]:
    """{column: the table it points to} of `table`, asked of SQLite once per release and table."""
    key = (release_dir(datasette), table)
    if key not in _foreign_tables:
        db = datasette.get_database(DATABASE)
        _foreign_tables[key] = {fk["column"]: fk["other_table"] for fk in await db.foreign_keys_for_table(table)}
    return _foreign_tables[key]


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["error_in_language"] = error_in_language
    env.filters["number"] = lambda value, lang="nl", whole=True: number(value, lang, whole)
    env.filters["count_in"] = count_in
