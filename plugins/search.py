"""Search across everything: /search (a page) and /search.json (the same results for programs).

The build made table search_index (scripts/search_index.py): every searchable text of every table
and the full text of the sources, in a search form (scripts/text.py `fold`: no accents, no case)
indexed with FTS5's trigram tokenizer. The query is folded with the same function, so `recidive`
finds `recidiveert` and `geinterneerden` finds `geïnterneerden`. Each term is matched as a
substring (every term must occur in the same text); results are ranked by bm25.
Terms of one or two characters cannot use a trigram index: they only narrow the results of the
longer terms (a plain substring test on the search form); a query with only such terms is refused
with a message. Snippets show the original text with the matches in <mark>, found in the search
form and mapped back through the origin of each folded character.

The page shows one result per place in a source: every verbatim value found (a quote, a passage's
own text) stands under the paragraph it comes from, so a paragraph that several rows quote appears
once, with those rows listed under it. A text we wrote ourselves (a title, a note) is a result of its
own. The page searches the texts of its own language only (a Dutch page the Dutch twins, an English
page the English ones; quotes in both). /search.json keeps one result per matching text, as before,
and adds the same grouping as `places`.
"""

from __future__ import annotations

import json
import unicodedata
from functools import lru_cache
from pathlib import Path

from datasette import Response, hookimpl
from markupsafe import Markup, escape


from scripts.text import fold, fold_with_origins, normalise
from serve import shared
from serve.shared import hidden_columns, language_of, published_package, search_settings, search_strings

DATABASE = shared.DATABASE


class BadQuery(ValueError):
    """A query that cannot be answered; the message (in the page's language) says why."""


@lru_cache(maxsize=4)
def table_titles(release_dir: Path) -> dict[str, dict[str, str]]:
    """{table: {"nl": title, "en": title}} from the published data package (written once, in datasets/)."""
    package = json.loads((release_dir / "datapackage.json").read_text(encoding="utf-8"))
    return {
        r["name"]: {"nl": r.get("title_nl") or r["name"], "en": r.get("title") or r["name"]}
        for r in package["resources"]
    }


def titles_of(datasette) -> dict[str, dict[str, str]]:
    return table_titles(shared.release_dir(datasette))


def terms_of(query: str, config: dict, ui: dict) -> list[str]:
    """The folded, distinct terms of a query; BadQuery when there is nothing to search for."""
    if len(query) > config["max_query_length"]:
        raise BadQuery(ui["too_long"].format(n=config["max_query_length"]))
    printable = "".join(c for c in query if unicodedata.category(c) not in ("Cc", "Cs"))
    terms = list(dict.fromkeys(fold(normalise(printable)).split()))
    if not terms:
        raise BadQuery(ui["empty"])
    if len(terms) > config["max_terms"]:
        raise BadQuery(ui["too_many_terms"].format(n=config["max_terms"]))
    if all(len(t) < config["min_term_length"] for t in terms):
        raise BadQuery(ui["too_short"].format(n=config["min_term_length"]))
    return terms


def fts_phrase(term: str) -> str:
    """A term as an FTS5 string: inside double quotes every character is literal ("" is a quote)."""
    return '"' + term.replace('"', '""') + '"'


def verbatim_columns(datasette) -> set[str]:
    """'table.column' of every verbatim column (quotes, source texts): their matches are places in a source."""
    return {
        f"{r['name']}.{f['name']}"
        for r in published_package(datasette)["resources"]
        for f in r["schema"]["fields"]
        if f.get("verbatim")
    }


def other_language_columns(datasette, lang: str) -> list[str]:
    """'table.column' of the twins a page in `lang` does not search."""
    return sorted(
        f"{r['name']}.{c}"
        for r in published_package(datasette)["resources"]
        for c in hidden_columns(datasette, r["name"], lang)
    )


def where_clause(terms: list[str], config: dict, table: str | None, excluded: list[str] = ()) -> tuple[str, dict]:
    long_terms = [t for t in terms if len(t) >= config["min_term_length"]]
    short_terms = [t for t in terms if len(t) < config["min_term_length"]]
    clause = "search_index_fts match :match"
    params = {"match": " ".join(fts_phrase(t) for t in long_terms)}
    for number, term in enumerate(short_terms):
        clause += f" and instr(s.text_normalised, :short{number}) > 0"
        params[f"short{number}"] = term
    if table:
        clause += " and s.table_name = :table"
        params["table"] = table
    if excluded:
        names = [f":excluded{n}" for n in range(len(excluded))]
        clause += f" and (s.table_name || '.' || s.column_name) not in ({', '.join(names)})"
        params.update({name[1:]: value for name, value in zip(names, excluded)})
    return clause, params


async def run_search(
    datasette, terms: list[str], config: dict, table: str | None, excluded: list[str] = ()
) -> tuple[list[dict], dict[str, int]]:
    """(best results, number of matches per table)."""
    db = datasette.get_database(DATABASE)
    where, params = where_clause(terms, config, table, excluded)
    source = "search_index_fts join search_index s on s.id = search_index_fts.rowid"
    counts = await db.execute(
        f"select s.table_name, count(*) from {source} where {where} group by s.table_name order by 2 desc", params
    )
    results = await db.execute(
        f"""select s.table_name, s.row_key, s.row_path, s.column_name, s.document_id, s.passage_id, s.text,
                   d.title as document_title, bm25(search_index_fts) as score
            from {source} join documents d on d.id = s.document_id
            where {where} order by score, s.id limit :limit""",
        {**params, "limit": config["max_results"]},
    )
    return [dict(r) for r in results.rows], {r[0]: r[1] for r in counts.rows}


def spans_of(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Where the terms stand in `text` (original characters), merged, in order."""
    folded, origins = fold_with_origins(text)
    spans = []
    for term in terms:
        start = folded.find(term)
        while start >= 0:
            spans.append((origins[start], origins[start + len(term) - 1] + 1))
            start = folded.find(term, start + 1)
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def window(text: str, spans: list[tuple[int, int]], size: int) -> tuple[int, int]:
    """A part of about `size` characters around the first match, cut at spaces."""
    if len(text) <= size:
        return 0, len(text)
    first = spans[0][0] if spans else 0
    start = max(0, min(first - size // 3, len(text) - size))
    end = min(len(text), start + size)
    if start > 0:
        space = text.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.rfind(" ", max(start, spans[0][1] if spans else start), end)
        end = space if space > 0 else end
    return start, end


def highlighted(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> Markup:
    """text[start:end], escaped, with every span in <mark>."""
    end = len(text) if end is None else end
    parts, at = [], start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end:
            continue
        parts += [escape(text[at:span_start]), Markup("<mark>"), escape(text[span_start:span_end]), Markup("</mark>")]
        at = span_end
    parts.append(escape(text[at:end]))
    return Markup("").join(parts)


def snippet(text: str, terms: list[str], size: int) -> Markup:
    spans = spans_of(text, terms)
    start, end = window(text, spans, size)
    return (
        (Markup("… ") if start > 0 else Markup(""))
        + highlighted(text, spans, start, end)
        + (Markup(" …") if end < len(text) else Markup(""))
    )


def document_path(row: dict) -> str:
    return f"/documents/{row['document_id']}" + (f"#{row['passage_id']}" if row["passage_id"] else "")


def places(rows: list[dict], verbatim: set[str]) -> list[dict]:
    """The results grouped by place: the verbatim matches of one paragraph become one result, listing
    every row that quotes it (the paragraph's own row first); other matches stay results of their
    own. In the order of each place's best match."""
    grouped, by_passage = [], {}
    for row in rows:
        is_place = f"{row['table_name']}.{row['column_name']}" in verbatim and row["passage_id"]
        if not is_place:
            grouped.append({**row, "rows": [row]})
            continue
        place = by_passage.get(row["passage_id"])
        if place is None:
            place = by_passage[row["passage_id"]] = {**row, "rows": []}
            grouped.append(place)
        place["rows"].append(row)
        if row["table_name"] == "passages":  # the paragraph itself: its whole text is the snippet
            place.update({k: row[k] for k in ("table_name", "row_key", "row_path", "column_name", "text")})
    for place in grouped:
        place["rows"].sort(key=lambda r: r["table_name"] != "passages")
    return grouped


async def search(datasette, request, in_page_language: bool = False) -> dict:
    """Everything a page or a program needs about one search; BadQuery for a query that cannot be run.
    `in_page_language`: search only the texts of the page's language (the page, not the JSON)."""
    config, lang = search_settings(datasette), language_of(request)
    ui = search_strings(datasette, lang)
    query = request.args.get("q", "")
    table = request.args.get("table") or None
    titles = titles_of(datasette)
    if table is not None and table not in titles:
        raise BadQuery(ui["unknown_table"].format(name=table))
    terms = terms_of(query, config, ui)
    excluded = other_language_columns(datasette, lang) if in_page_language else []
    rows, counts = await run_search(datasette, terms, config, table, excluded)
    for row in rows:
        row["table_title"] = titles.get(row["table_name"], {}).get(lang, row["table_name"])
        row["snippet"] = snippet(row["text"], terms, config["snippet_chars"])
        row["document_path"] = document_path(row)
    grouped = places(rows, verbatim_columns(datasette))
    for place in grouped:
        place["table_title"] = titles.get(place["table_name"], {}).get(lang, place["table_name"])
        place["snippet"] = snippet(place["text"], terms, config["snippet_chars"])
    return {
        "q": query,
        "terms": terms,
        "table": table,
        "results": rows,
        "places": grouped,
        "total": sum(counts.values()),
        "tables": [
            {"name": name, "title": titles.get(name, {}).get(lang, name), "count": n} for name, n in counts.items()
        ],
    }


async def search_page(datasette, request):
    lang = language_of(request)
    ui = search_strings(datasette, lang)
    context = {
        "search_ui": ui,
        "q": request.args.get("q", ""),
        "error": None,
        "found": None,
        "search_max_query_length": search_settings(datasette)["max_query_length"],
    }
    status = 200
    if request.args.get("q", "").strip():  # an empty box shows the page, with no search yet
        try:
            context["found"] = await search(datasette, request, in_page_language=True)
        except BadQuery as bad:
            context["error"], status = str(bad), 400
    html = await datasette.render_template("search.html", context, request=request)
    return Response.html(html, status=status)


async def search_json(datasette, request):
    try:
        found = await search(datasette, request)
    except BadQuery as bad:
        return Response.json({"ok": False, "error": str(bad), "status": 400, "title": None}, status=400)

    def result(r):
        return {
            "table": r["table_name"],
            "table_title": r["table_title"],
            "column": r["column_name"],
            "row_key": r["row_key"],
            "row_url": shared.absolute_url(datasette, r["row_path"], request),
            "document_id": r["document_id"],
            "document_title": r["document_title"],
            "passage_id": r["passage_id"],
            "document_url": shared.absolute_url(datasette, r["document_path"], request),
            "text": r["text"],
            "snippet_html": str(r["snippet"]),
            "score": r["score"],
        }

    found["results"] = [result(r) for r in found["results"]]
    found["places"] = [
        {
            "passage_id": p["passage_id"],
            "document_id": p["document_id"],
            "text": p["text"],
            "snippet_html": str(p["snippet"]),
            "rows": [
                {
                    "table": r["table_name"],
                    "column": r["column_name"],
                    "row_key": r["row_key"],
                    "row_url": shared.absolute_url(datasette, r["row_path"], request),
                }
                for r in p["rows"]
            ],
        }
        for p in found["places"]
    ]
    return Response.json({"ok": True, **found, "max_results": search_settings(datasette)["max_results"]})


@hookimpl
def register_routes():
    return [
        (r"^/search$", search_page),
        (r"^/search\.json$", search_json),
    ]
