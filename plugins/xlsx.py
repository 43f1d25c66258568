"""Every table, canned query, example question and visitor query as an Excel workbook: the same URL
as its JSON or CSV with `.xlsx` (/drugbeleid/caseload.xlsx, /drugbeleid/caseload_by_year.xlsx,
/drugbeleid.xlsx?sql=...).

- Sheet 1 holds the rows, the column names in the first row. Cells are typed from the Table Schemas
  of the published data package: integers and numbers are numbers, booleans booleans, dates dates,
  NULL an empty cell, everything else text (never a formula, whatever a value starts with).
- Sheet 2 describes the data in the page's language: title, description, licence, source, data
  version, semantic version and the URL the file came from.
- A table is written whole, not one page of it (its rows are read again without the page's limit,
  under the same time limit and row budget as every query). A query gives the rows its JSON gives.
- Visitor SQL passes the same gate and limits as its CSV (plugins/sql_guard.py reads the parameter
  names, not the format), and robots.txt keeps crawlers from it (plugins/findability.py).
- The same URL gives the same bytes: openpyxl stamps its document properties and every member of
  the zip with the current time, so both are set to the served release's date instead; nothing
  about the visitor goes into the file.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import io
import re
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from datasette import Response, hookimpl
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from serve import i18n, shared

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The limit clause Datasette's table view ends its SQL with (one page, plus one row to see a next page).
PAGE_LIMIT = re.compile(r"\s+limit\s+\d+\s*$", re.IGNORECASE)


def sheet_words(lang: str) -> dict[str, str]:
    """The workbook's own words in `lang` (the message catalogues)."""
    return {
        "sheet_data": i18n.gettext("Data", lang),
        "sheet_about": i18n.gettext("About this data", lang),
        "title": i18n.gettext("Title", lang),
        "description": i18n.gettext("Description", lang),
        "license": i18n.gettext("Licence", lang),
        "source": i18n.gettext("Source", lang),
        "data_version": i18n.gettext("Data version", lang),
        "semver": i18n.gettext("Semantic version", lang),
        "url": i18n.gettext("URL", lang),
        "query_title": i18n.gettext("Custom SQL query", lang),
        "sql": i18n.gettext("SQL", lang),
    }


class FixedTimeZip(ZipFile):
    """A zip whose members all carry one given time, not the time they were written."""

    def __init__(self, file, moment: datetime.datetime):
        super().__init__(file, "w", ZIP_DEFLATED)
        self.moment = moment.timetuple()[:6]

    def writestr(self, name, data, compress_type=None, compresslevel=None):
        if isinstance(name, str):
            info = ZipInfo(name, date_time=self.moment)
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16
            name = info
        return super().writestr(name, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        """openpyxl writes each worksheet from a temporary file, whose time a zip would keep."""
        with open(filename, "rb") as f:
            return self.writestr(arcname or str(filename), f.read())


def field_types(datasette, table: str | None) -> dict[str, str]:
    """{column: Table Schema type}: the table's own fields; for a query, every field name whose
    type is the same in all tables that have it."""
    resources = shared.published_package(datasette)["resources"]
    if table:
        for resource in resources:
            if resource["name"] == table:
                return {f["name"]: f["type"] for f in resource["schema"]["fields"]}
        return {}
    found: dict[str, set] = {}
    for resource in resources:
        for f in resource["schema"]["fields"]:
            found.setdefault(f["name"], set()).add(f["type"])
    return {name: types.pop() for name, types in found.items() if len(types) == 1}


def typed(value, kind: str | None):
    """A cell value from a stored value and its schema type."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if kind == "date" and isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    if kind == "boolean" and value in (0, 1):
        return bool(value)
    return value


def described(datasette, request, table, query_name, sql, lang: str) -> list[tuple[str, str]]:
    words = sheet_words(lang)
    site = datasette.metadata() or {}
    title = description = ""
    if table:
        resource = next((r for r in shared.published_package(datasette)["resources"] if r["name"] == table), {})
        title = resource.get(f"title_{lang}") or resource.get("title") or table
        description = resource.get(f"description_{lang}") or resource.get("description") or ""
    elif query_name:
        query = (site.get("databases", {}).get(shared.DATABASE, {}).get("queries") or {}).get(query_name, {})
        title = (query.get("title_en") if lang == "en" else None) or query.get("title") or query_name
        description = query.get(f"description_{lang}") or query.get("description") or ""
    else:
        title, description = words["query_title"], ""
    release = shared.current_release(datasette)
    url = shared.public_base_url(datasette, request) + request.path.lstrip("/")
    if request.query_string:
        url += "?" + request.query_string
    rows = [(words["title"], title), (words["description"], description)]
    if not table:
        rows.append((words["sql"], sql or ""))
    rows += [
        (words["license"], " ".join(filter(None, (site.get("license"), site.get("license_url"))))),
        (words["source"], " ".join(filter(None, (site.get("source"), shared.source_url(datasette, request))))),
        (words["data_version"], release["version"]),
        (words["semver"], release.get("semver", "")),
        (words["url"], url),
    ]
    return rows


def text_cell(sheet, row: int, column: int, value: str):
    """A text cell that stays text: openpyxl reads a string starting with "=" as a formula."""
    cell = sheet.cell(row=row, column=column, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
    cell.data_type = "s"
    return cell


def workbook_bytes(
    columns,
    rows,
    types: dict[str, str],
    about: list[tuple[str, str]],
    lang: str,
    moment: datetime.datetime,
    creator: str,
) -> bytes:
    words = sheet_words(lang)
    book = Workbook()
    data = book.active
    data.title = words["sheet_data"]
    for j, column in enumerate(columns, start=1):
        text_cell(data, 1, j, str(column))
    kinds = [types.get(column) for column in columns]
    for i, row in enumerate(rows, start=2):
        for j, (value, kind) in enumerate(zip(row, kinds), start=1):
            value = typed(value, kind)
            if isinstance(value, str):
                text_cell(data, i, j, value)
            elif value is not None:
                cell = data.cell(row=i, column=j, value=value)
                if isinstance(value, datetime.date):
                    cell.number_format = "yyyy-mm-dd"
    data.freeze_panes = "A2"
    sheet = book.create_sheet(words["sheet_about"])
    for i, (label, value) in enumerate(about, start=1):
        text_cell(sheet, i, 1, label)
        text_cell(sheet, i, 2, value)
    sheet.column_dimensions[get_column_letter(1)].width = 22
    sheet.column_dimensions[get_column_letter(2)].width = 100
    book.properties.creator = creator
    book.properties.title = about[0][1]
    book.properties.created = book.properties.modified = moment
    buffer = io.BytesIO()
    ExcelWriter(book, FixedTimeZip(buffer, moment)).save()
    return buffer.getvalue()


async def whole_table(datasette, database: str, data: dict):
    """All rows of a table view's query, not one page: its SQL without the page's limit."""
    query = data.get("query") or {}
    sql = PAGE_LIMIT.sub("", query.get("sql") or "")
    result = await datasette.get_database(database).execute(sql, query.get("params") or {})
    return result.columns, [tuple(row) for row in result.rows]


def error_response(message: str, status: int = 400) -> Response:
    return Response.json({"ok": False, "error": message, "status": status, "title": "Invalid SQL"}, status=status)


async def render_xlsx(datasette, request, database, table, query_name, sql, columns, rows, data):
    if data.get("error"):
        return error_response(data["error"])
    lang = shared.language_of(request)
    if table and data.get("query", {}).get("sql"):
        columns, rows = await whole_table(datasette, database, data)
    release = shared.current_release(datasette)
    moment = datetime.datetime.combine(datetime.date.fromisoformat(release["date"]), datetime.time())
    publisher = shared.plugin_config(datasette).get("publisher", {})
    # openpyxl works in Python for every cell (about 1 s for the largest table): in a thread, so the
    # event loop keeps answering other requests meanwhile
    body = await asyncio.to_thread(
        workbook_bytes,
        columns,
        rows,
        field_types(datasette, table),
        described(datasette, request, table, query_name, sql, lang),
        lang,
        moment,
        publisher.get(f"name_{lang}") or publisher.get("name") or "",
    )
    name = table or query_name or database
    return Response(
        body, content_type=CONTENT_TYPE, headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'}
    )


@hookimpl
def register_output_renderer(datasette):
    return {"extension": "xlsx", "render": render_xlsx, "can_render": lambda: True}
