"""The immutable database's schema is read once per process (serve/schema_memory.py): a repeated
table or row page asks SQLite only for its data, answers as before, and a caller that changes what it was
given changes nothing for the next."""

from __future__ import annotations

import asyncio

import pytest

from .conftest import SETTINGS, in_process

SCHEMA_SQL = (
    "sqlite_master where type='table'",
    "sqlite_master where name = :n",
    "PRAGMA schema_version",
    "collate nocase",  # the spelling of a table's name, asked for each permission check
)
PAGES_AND_THEIR_DATA = {
    "/drugbeleid/caseload.json?_trace=1": "select justice_house_id, year",
    "/drugbeleid/statistics/bleave-project-age.json?_trace=1": 'select * from statistics where "id"=:p0',
}


def traced_sql(site, path: str) -> tuple[dict, list[str]]:
    response = asyncio.run(site.client.get(path))
    assert response.status_code == 200, response.text
    body = response.json()
    body.pop("query_ms")
    return body, [trace["sql"] for trace in body.pop("_trace")["traces"] if "sql" in trace]


@pytest.mark.parametrize("page", PAGES_AND_THEIR_DATA)
def test_a_repeated_page_reads_only_data(built, page):
    site = in_process(built, settings={**SETTINGS, "trace_debug": True}, cache=False)
    first, first_sql = traced_sql(site, page)
    again, again_sql = traced_sql(site, page)
    asked_schema = [sql for sql in first_sql if any(part in sql for part in SCHEMA_SQL)]
    assert asked_schema, first_sql  # the first page reads the schema: the check below can fail
    assert not [sql for sql in again_sql if any(part in sql for part in SCHEMA_SQL)], again_sql
    assert any(sql.startswith(PAGES_AND_THEIR_DATA[page]) for sql in again_sql), again_sql
    assert again == first


def test_a_changed_answer_is_not_kept(built):
    site = in_process(built)
    database = site.get_database("drugbeleid")

    async def change_and_ask_again():
        keys = await database.foreign_keys_for_table("caseload")
        names = await database.table_names()
        columns = await database.table_columns("caseload")
        expected = ([dict(key) for key in keys], list(names), list(columns))
        keys[0]["other_table"] = "changed"
        keys.append({"column": "invented"})
        names.clear()
        columns.append("invented")
        return expected, (
            await database.foreign_keys_for_table("caseload"),
            await database.table_names(),
            await database.table_columns("caseload"),
        )

    expected, asked_again = asyncio.run(change_and_ask_again())
    assert expected[0] and expected[1] and expected[2]
    assert asked_again == expected


def test_unknown_names_keep_a_bounded_memory(built, monkeypatch):
    from serve import schema_memory

    monkeypatch.setattr(schema_memory, "KEPT_ANSWERS", 5)
    site = in_process(built)
    database = site.get_database("drugbeleid")

    async def ask():
        answers = [await database.table_exists(f"no_such_table_{n}") for n in range(50)]
        return answers, await database.table_exists("caseload")

    answers, caseload = asyncio.run(ask())
    assert not any(answers) and caseload is True
    assert len(database.table_exists.answers) == 5
    assert list(database.table_exists.answers)[-1] == ("caseload",)
