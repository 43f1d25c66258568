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
import re

from datasette import hookimpl
from datasette.filters import Filters, InFilter
from datasette.utils import tilde_encode, urlsafe_components
from markupsafe import Markup, escape

from serve.shared import (DATABASE, column_label, column_languages, hidden_columns, labels, language_of,
                          plugin_config, published_package, text_in, ui_strings, value_label, with_language)


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
    """Links to related rows: each relation of content/related.yml runs its SQL with the row's values
    and names its links by `label`, or by `label_nl` on a Dutch page where the SQL returns one."""
    db = datasette.get_database(DATABASE)
    found = []
    for relation in (plugin_config(datasette).get("related") or {}).get(table, []):
        result = await db.execute(relation["sql"], {k: v for k, v in row.items()})
        links = [{"href": with_language(row_path(r["tbl"], str(r["key"]).split(",")), lang),
                  "text": (r["label_nl"] if lang == "nl" and "label_nl" in r.keys() else r["label"])} for r in result.rows]
        if links:
            found.append({"label": text_in(relation, "label", lang), "links": links})
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
    lines = []
    for column, value in row.items():
        if column in hidden:
            continue
        field = fields.get(column, {})
        line = {"column": column, "label": column_label(datasette, table, column, lang), "empty": value is None or value == "",
                "lang": "nl" if (field.get("verbatim") or field.get("language") == "nl"
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


def inherited_metadata(datasette, database: str, table: str) -> dict:
    """A table's metadata with the source and licence it inherits from the site, filled in by
    Datasette's own update_with_inherited_metadata, on a copy: its table page does it in place, so
    a row page showed them only once its table's page had been served."""
    metadata = dict(datasette.table_metadata(database, table))
    datasette.update_with_inherited_metadata(metadata)
    return metadata


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
            "described_filters": lambda words, sort, sort_desc, supports_search=False: described_filters(
                request, lang, ui_strings(datasette, lang), words, sort, sort_desc, supports_search) if request is not None else None,
        }
        if view_name == "row" and database == DATABASE and table and request is not None:
            found["record"] = await record_card(datasette, request, table)
            found["row_metadata"] = inherited_metadata(datasette, database, table)
        return found

    return inner


# --- Datasette's own words, in the page's language ---------------------------------------------------

# Tried only where a text run starts (after <, > or ", or at the start): a match can begin nowhere
# else, and trying every position of a long run made this the slowest step of a table page.
BILINGUAL_DESCRIPTION = re.compile(r"(?:(?<=[<>\"])|^)([^<>\"]*?) — EN: ([^<>\"]*)")


def whole_words(phrase: str) -> re.Pattern:
    """`phrase` as whole words (\\b<phrase>\\b), written to begin with the phrase itself: the regex
    engine then looks for its text, instead of trying a word boundary at every position of the page."""
    return re.compile(re.escape(phrase) + r"(?<!\w" + re.escape(phrase) + r")\b")


# Datasette's counted phrases (its templates write "row" + "s"), in Dutch
ROWS = [(whole_words("1 row"), "1 rij"), (re.compile(r"(?<![\d,.])(\d[\d,.]*) rows\b"), r"\1 rijen"),
        (whole_words("Many rows"), "Veel rijen"),
        (re.compile(r"Custom SQL query returning (more than )?"), lambda m: "Eigen SQL-query: " + ("meer dan " if m.group(1) else "")),
        (whole_words("Custom SQL query"), "Eigen SQL-query"),
        (whole_words("1 extra where clause"), "1 extra voorwaarde (_where)"),
        (re.compile(r"(?<![\d,.])(\d[\d,.]*) extra where clauses\b"), r"\1 extra voorwaarden (_where)"),
        (re.compile(r"\.\.\. and (<a [^>]*>)1 hidden table\b"), r"… en \g<1>1 verborgen tabel"),
        (re.compile(r"\.\.\. and (<a [^>]*>)(\d[\d,.]*) hidden tables\b"), r"… en \g<1>\2 verborgen tabellen")]
# The select of a filter's comparison (templates/table.html of Datasette): its options' labels, by key
FILTER_OPS = re.compile(r'<select\b[^>]*\bname="_filter_op(?:_\d+)?"[^>]*>.*?</select>', re.S)
FILTER_OPTION = re.compile(r'(<option value="([a-z]+)(?:__1)?"(?: selected)?>)([^<]*)(</option>)')
# Datasette's English label of each filter, escaped as its template writes it, by key
FILTER_DISPLAY = {f.key: str(escape(f.display)) for f in Filters._filters}


def filter_labels(html: str, ui: dict) -> str:
    """Each choice of Datasette's filter selects with its label in the page's language
    (ui.filter_operators, by the filter's key): the value, and so the URL, stays Datasette's."""
    labels = ui.get("filter_operators") or {}

    def option(match):
        opening, key, text, closing = match.groups()
        if key in labels and text == FILTER_DISPLAY.get(key):
            return f"{opening}{escape(labels[key])}{closing}"
        return match.group(0)

    return FILTER_OPS.sub(lambda m: FILTER_OPTION.sub(option, m.group(0)), html)


def in_language(html: str, lang: str, ui: dict, described: dict | None = None) -> Markup:
    """Datasette's body (or footer) in the page's language: a column description written in both
    languages ('nl — EN: en', scripts/metadata.py) keeps the page's half, and on a Dutch page
    Datasette's English words become Dutch (metadata.yml, ui.nl: datasette_phrases, the filter
    choices filter_operators, and the table page's description of its filters, `described`)."""
    html = str(html)
    if described and described.get("en") and described.get("page") and described["page"] != described["en"]:
        html = html.replace(str(escape(described["en"])), str(escape(described["page"])))
    if " — EN: " in html:
        html = BILINGUAL_DESCRIPTION.sub(lambda m: m.group(1) if lang == "nl" else m.group(2), html)
    if lang == "nl":
        html = filter_labels(html, ui)
        for english, dutch in ui.get("datasette_phrases") or []:
            html = html.replace(english, dutch)
        for pattern, replacement in ROWS:
            html = pattern.sub(replacement, html)
    return Markup(html)


def queries_in_language(html: str, queries, lang: str) -> Markup:
    """The list of canned queries on Datasette's database page in the page's language: on an English
    page each query's title and description (the link and its tooltip) are its title_en and
    description_en (metadata.yml), where it has them."""
    html = str(html)
    if lang == "en":
        for query in queries or []:
            for key, opening, closing in (("description", 'title="', '"'), ("title", '">', "</a>")):
                if query.get(key) and query.get(f"{key}_en"):
                    html = html.replace(f"{opening}{escape(query[key])}{closing}", f"{opening}{escape(query[key + '_en'])}{closing}")
    return Markup(html)


def filter_pairs(request) -> list[tuple[str, str]]:
    """The filters of a table page's URL, as Datasette reads them (views/table.py)."""
    return sorted((key, value) for key in request.args if not (key.startswith("_") and "__" not in key)
                  for value in request.args.getlist(key))


def described_filters(request, lang: str, ui: dict, datasette_words: str, sort: str | None, sort_desc: str | None,
                      supports_search: bool = False) -> dict:
    """What a table page's heading says about its filters, search and sort: {"en": as Datasette
    writes it (`datasette_words`, its human_description_en), "page": the same in the page's
    language}. Dutch pages get ui.nl.filter_descriptions. The English is rebuilt here from the URL
    as Datasette builds it (datasette/filters.py, views/table.py) and compared with Datasette's own:
    a description this does not rebuild exactly (a plugin's filter, say) stays Datasette's."""
    words = ui.get("filter_descriptions") or {}
    unchanged = {"en": datasette_words, "page": datasette_words}
    if lang == "en" or not words or not datasette_words:
        return unchanged
    searched = []  # (English, Dutch) of each bit, in Datasette's order within each group
    search_args = {k: request.args[k] for k in request.args if k.startswith("_search") and k != "_searchmode"}
    if supports_search and search_args:
        if "_search" in search_args:
            searched.append((f'search matches "{search_args["_search"]}"', words.get("_search", "").format(v=search_args["_search"])))
        else:
            for key, text in search_args.items():
                column = key.split("_search_", 1)[1]
                searched.append((f'search column "{column}" matches "{text}"',
                                 words.get("_search_column", "").format(c=column, v=text)))
    through = []
    for given in request.args.getlist("_through"):
        try:
            t = json.loads(given)
            formula = f'{t["table"]}.{t["column"]} = "{t["value"]}"'
        except (ValueError, KeyError, TypeError):
            return unchanged
        through.append((formula, formula))
    filtered = []
    for column, lookup, value in Filters(filter_pairs(request)).selections():
        found = Filters._filters_by_key.get(lookup)
        if found is None:
            continue
        template = words.get(lookup, "")
        if template and isinstance(found, InFilter):
            dutch = template.format(c=column, v=json.dumps(found.split_value(value)))
        else:
            if lookup in ("exact", "not") and value.isdigit():  # as Datasette: a number is not quoted
                template = template.replace('"{v}"', "{v}")
            dutch = template.format(c=column, v=value)
        filtered.append((found.human_clause(column, value), dutch))

    def sentence(bits, where, and_):
        if not bits:
            return ""
        joined = ", ".join(bits[:-1])
        return f"{where} " + (f"{joined} {and_} {bits[-1]}" if joined else bits[-1])

    sorts = [("", "")]  # the page's sort is in the description only when it was asked for or configured
    if sort or sort_desc:
        sorts.insert(0, (f"sorted by {sort or sort_desc}{' descending' if sort_desc else ''}",
                         words.get("_sorted_by_desc" if sort_desc else "_sorted_by", "").format(c=sort_desc or sort)))
    for sorted_en, sorted_page in sorts:
        for extras in (searched + through, through + searched):  # the order of Datasette's filter hooks
            bits = extras + filtered
            english = " ".join(b for b in [sentence([e for e, _ in bits], "where", "and"), sorted_en] if b)
            if english == datasette_words:
                if not all(d for _, d in bits) or (sorted_en and not sorted_page):
                    return unchanged
                page = sentence([d for _, d in bits], words.get("_where", "where"), words.get("_and", "and"))
                return {"en": english, "page": ", ".join(b for b in [page, sorted_page] if b)}
    return unchanged


def error_in_language(error, lang: str, ui: dict) -> Markup:
    """An error message (Datasette's, or one of this site's plugins') in the page's language: a
    message that begins with one listed in ui.error_messages has that beginning in the page's
    language (what follows, a name or a value from the URL, stays); on a Dutch page any other is
    marked as English. A plain-text message is escaped, as Datasette's own error page does."""
    message = escape(error)
    for english, translated in ui.get("error_messages") or []:
        if message.startswith(english):
            return Markup(translated) + message[len(english):]
    return message if lang == "en" else Markup('<span lang="en">{}</span>').format(message)


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["in_language"] = in_language
    env.filters["queries_in_language"] = queries_in_language
    env.filters["error_in_language"] = error_in_language
