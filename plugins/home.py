"""The home page `/` (Dutch; English with ?_lang=en): what the data is, where it comes from, what the
figures mean, and the key figures computed from the database at request time.

A plugin route rather than templates/index.html: Datasette's index view counts every table of every
database for its listing, which this page does not show, and the key figures need their own async
SQL. Datasette's index stays available as JSON at /.json; the database page is /drugbeleid.
The key figures (SQL, labels, source links) are written in content/key_figures.yml (English `label`,
Dutch `label_nl`); the page text is in templates/home.html, its Dutch in the catalogue.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils.asgi import Response

from serve.shared import DATABASE, language_of, plugin_config, text_in, value_label


def number(value, lang: str) -> str:
    """A figure as a reader of `lang` writes it: 2,57 in Dutch, 2.57 in English. No thousands
    separator: years are figures here too, and every count in the data is below 1,000."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "" if value is None else str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value) if isinstance(value, int) else f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "nl" else text


async def key_figure(db, config: dict, lang: str) -> dict:
    rows = [dict(r) for r in (await db.execute(config["sql"])).rows]
    first = rows[0] if rows else {}
    fields = {k: number(v, lang) for k, v in first.items()}
    figure = {
        "id": config["id"],
        "label": text_in(config, "label", lang).format(**fields),
        "unit": text_in(config, "unit", lang) or "",
        "href": config["href"].format(**first),
    }
    if rows and {"label", "href"} <= first.keys():  # one entry per row
        figure["rows"] = [{"label": r["label"], "value": number(r["value"], lang), "href": r["href"]} for r in rows]
    else:
        figure["value"] = fields.get("value", "")
    return figure


@hookimpl
def register_routes():
    return [(r"^/$", home_page)]


async def home_page(datasette, request):
    lang = language_of(request)
    db = datasette.get_database(DATABASE)
    config = plugin_config(datasette)
    figures = [await key_figure(db, figure, lang) for figure in config.get("key_figures", [])]
    documents = [
        dict(r, kind_label=value_label(datasette, "documents", "kind", r["kind"], lang) or r["kind"])
        for r in (
            await db.execute(
                "select id, title, kind, date, question_number from documents order by date is null, date, id"
            )
        ).rows
    ]
    return Response.html(
        await datasette.render_template(
            "home.html", {"key_figures": figures, "documents": documents, "site": datasette.metadata()}, request=request
        )
    )
