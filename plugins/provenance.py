"""Provenance for readers: each document as its text (/documents, /documents/<id>) and, on every
row page, the row's verbatim values highlighted inside their paragraphs (templates/row.html).

Everything comes from the published tables: documents, passages (the full text, one row per
paragraph, with source line numbers) and quote_locations (where the build found each verbatim
value). A value can run over several paragraphs; each paragraph it touches is shown with its part
of the value marked. Values are compared whitespace-normalised, as the build's provenance check does.
"""

from __future__ import annotations

from datasette import Response, hookimpl
from datasette.utils import urlsafe_components

from scripts.text import normalise
from serve.shared import DATABASE, language_of, page_row, search_strings

PASSAGES = "passages"  # the full text itself: its row page shows the paragraph in its document
DOCUMENT_COLUMNS = "id, title, kind, date, date_note, question_number, asked_by, answered_by, answered_by_role, source_file, sha256, sha256_received"


async def document(db, document_id: str) -> dict | None:
    return (await documents_by_id(db, {document_id})).get(document_id)


async def documents_by_id(db, document_ids: set[str]) -> dict[str, dict]:
    ids = sorted(document_ids)
    rows = (
        await db.execute(f"select {DOCUMENT_COLUMNS} from documents where id in ({', '.join('?' for _ in ids)})", ids)
    ).rows
    return {row["id"]: dict(row) for row in rows}


def marked(passages: list[dict], value: str) -> list[dict]:
    """Each paragraph split as before / marked / after around its part of the value. The paragraphs
    are whitespace-normalised and follow each other with one space, as in the normalised document."""
    needle = normalise(value)
    texts = [normalise(p["text"]) for p in passages]
    start = " ".join(texts).find(needle)
    end = start + len(needle)
    out, offset = [], 0
    for passage, text in zip(passages, texts):
        first, last = max(start - offset, 0), min(end - offset, len(text))
        if start < 0 or first >= last:
            out.append({**passage, "before": text, "marked": "", "after": ""})
        else:
            out.append({**passage, "before": text[:first], "marked": text[first:last], "after": text[last:]})
        offset += len(text) + 1
    return out


async def located_values(datasette, request, table: str) -> list[dict]:
    """The row's verbatim values, in column order, each with its document and marked paragraphs."""
    db = datasette.get_database(DATABASE)
    key = ",".join(urlsafe_components(request.url_vars["pks"]))
    locations = [
        dict(r)
        for r in (
            await db.execute(
                "select column_name, document_id, passage_id, line_start, line_end from quote_locations "
                "where table_name = ? and row_key = ?",
                [table, key],
            )
        ).rows
    ]
    row = await page_row(datasette, request, table) if locations else None
    if row is None:
        return []
    columns = await db.table_columns(table)
    locations.sort(key=lambda loc: columns.index(loc["column_name"]))
    documents = await documents_by_id(db, {loc["document_id"] for loc in locations})
    paragraphs = await paragraphs_of(db, locations)
    return [
        {
            **loc,
            "value": row[loc["column_name"]],
            "document": documents.get(loc["document_id"]),
            "passages": marked(found, row[loc["column_name"]]),
        }
        for loc, found in zip(locations, paragraphs)
    ]


async def paragraphs_of(db, locations: list[dict]) -> list[list[dict]]:
    """For each location, the paragraphs of its document its lines touch, in order: one query for all."""
    overlaps = " or ".join("(document_id = ? and line_end >= ? and line_start <= ?)" for _ in locations)
    params = [value for loc in locations for value in (loc["document_id"], loc["line_start"], loc["line_end"])]
    rows = (
        await db.execute(
            f"select document_id, id, text, line_start, line_end from passages where {overlaps} order by ordinal",
            params,
        )
    ).rows
    return [
        [
            {"id": r["id"], "text": r["text"], "line_start": r["line_start"], "line_end": r["line_end"]}
            for r in rows
            if r["document_id"] == loc["document_id"]
            and r["line_end"] >= loc["line_start"]
            and r["line_start"] <= loc["line_end"]
        ]
        for loc in locations
    ]


async def passage_itself(db, passage_id: str) -> dict | None:
    rows = (
        await db.execute("select id, document_id, text, line_start, line_end from passages where id = ?", [passage_id])
    ).rows
    if not rows:
        return None
    passage = dict(rows[0])
    return {**passage, "document": await document(db, passage["document_id"])}


@hookimpl
def extra_template_vars(view_name, database, table, request, datasette):
    """`provenance` (the located values, or the passage itself) for templates/row.html."""
    if view_name != "row" or database != DATABASE or not table or request is None:
        return {}

    async def provenance():
        db = datasette.get_database(DATABASE)
        key_values = urlsafe_components(request.url_vars["pks"])
        found = {"quotes": [], "passage": None}
        if table == PASSAGES:
            found["passage"] = await passage_itself(db, ",".join(key_values))
        else:
            found["quotes"] = await located_values(datasette, request, table)
        return {"provenance": found, "provenance_ui": search_strings(datasette, language_of(request))}

    return provenance


async def documents_page(datasette, request):
    db = datasette.get_database(DATABASE)
    rows = (
        await db.execute(
            f"select {DOCUMENT_COLUMNS}, (select count(*) from passages p where p.document_id = d.id) as passages "
            "from documents d order by source_file"
        )
    ).rows
    context = {"documents": [dict(r) for r in rows], "search_ui": search_strings(datasette, language_of(request))}
    return Response.html(await datasette.render_template("documents.html", context, request=request))


async def document_page(datasette, request):
    db = datasette.get_database(DATABASE)
    found = await document(db, request.url_vars["document_id"])
    if found is None:
        return Response.html(
            await datasette.render_template(
                "error.html",
                {
                    "ok": False,
                    "error": f"Document not found: {request.url_vars['document_id']}",
                    "status": 404,
                    "title": None,
                },
                request=request,
            ),
            status=404,
        )
    passages = (
        await db.execute(
            "select id, ordinal, line_start, line_end, text from passages where document_id = ? order by ordinal",
            [found["id"]],
        )
    ).rows
    context = {
        "document": found,
        "passages": [dict(p) for p in passages],
        "search_ui": search_strings(datasette, language_of(request)),
    }
    return Response.html(await datasette.render_template("document.html", context, request=request))


@hookimpl
def register_routes():
    return [
        (r"^/documents$", documents_page),
        (r"^/documents/(?P<document_id>[^/]+)$", document_page),
    ]
