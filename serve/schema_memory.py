"""An immutable database's schema, read once per process instead of on every page.

Datasette 0.65.5 asks SQLite about the schema on every page: which tables exist and under which
spelling, their columns, keys, full-text table and definition, and the schema version of every
database, about twenty round trips to its threads for one page of `/drugbeleid/caseload` (stock
Datasette does the same). The site serves its database immutable: the schema cannot change while a
worker runs, so each answer is kept, per database, question and table, and given again as a copy
(callers may change the lists they get). Asked for names that do not exist, the kept answers stay
bounded.
"""

from __future__ import annotations

from collections import OrderedDict

from datasette.database import Results

from serve.shared import remember

# Database methods whose answer depends only on the schema (and on the metadata, fixed for the life
# of the process too: hidden_table_names reads it).
SCHEMA_QUESTIONS = (
    "table_exists",
    "table_names",
    "view_names",
    "table_columns",
    "table_column_details",
    "primary_keys",
    "fts_table",
    "foreign_keys_for_table",
    "hidden_table_names",
    "get_table_definition",
)
# The SQL Datasette itself sends about the schema outside those methods: the spelling SQLite gives a
# table's name, asked for each permission check of a table (two or three a page).
SCHEMA_STATEMENTS = frozenset(
    {"select name from sqlite_master where type in ('table', 'view') and name = ? collate nocase"}
)
KEPT_ANSWERS = 1024  # per question and database; the site has a few dozen tables


def copied(answer):
    """A copy a caller can change: lists are copied, and the dicts in them (foreign keys)."""
    if isinstance(answer, list):
        return [dict(item) if isinstance(item, dict) else item for item in answer]
    if isinstance(answer, Results):
        return Results(list(answer.rows), answer.truncated, answer.description)
    return answer


def remembered(ask):
    answers: OrderedDict = OrderedDict()

    async def answer(*args):
        if args not in answers:
            remember(answers, args, await ask(*args), KEPT_ANSWERS)
        return copied(answers[args])

    answer.answers = answers  # what is kept, for the tests
    return answer


def with_schema_statements_remembered(execute):
    statement = remembered(lambda sql, params: execute(sql, params))

    async def execute_remembering(sql, params=None, *options, **named_options):
        if sql in SCHEMA_STATEMENTS and isinstance(params, (list, tuple)):
            return await statement(sql, tuple(params))
        return await execute(sql, params, *options, **named_options)

    return execute_remembering


def remember_schema(datasette) -> None:
    """Keep the schema answers of each immutable database, and refresh Datasette's schema tables
    only until they have been filled once for the same databases."""
    for database in datasette.databases.values():
        if database.is_mutable or database.is_memory:
            continue
        for question in SCHEMA_QUESTIONS:
            setattr(database, question, remembered(getattr(database, question)))
        database.execute = with_schema_statements_remembered(database.execute)

    refresh = datasette.refresh_schemas
    refreshed_for: set[tuple] = set()

    async def refresh_schemas():
        databases = tuple(datasette.databases)
        if databases in refreshed_for:
            return
        await refresh()
        if all(not db.is_mutable or db.name == "_internal" for db in datasette.databases.values()):
            refreshed_for.add(databases)

    datasette.refresh_schemas = refresh_schemas
