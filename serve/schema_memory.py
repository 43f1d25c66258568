"""An immutable database's schema, read once per process instead of on every page.

Datasette 0.65.5 asks SQLite about the schema on every table page: which tables exist, their
columns, keys, full-text table and definition, and the schema version of every database, about
twenty round trips to its threads for one page of `/drugbeleid/caseload` (stock Datasette does the
same). The site serves its database immutable: the schema cannot change while a worker runs, so
each answer is kept, per database, question and table, and given again as a copy (callers may
change the lists they get). Asked for names that do not exist, the kept answers stay bounded.
"""

from __future__ import annotations

from collections import OrderedDict

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
KEPT_ANSWERS = 1024  # per question and database; the site has a few dozen tables


def copied(answer):
    """A copy a caller can change: lists are copied, and the dicts in them (foreign keys)."""
    if isinstance(answer, list):
        return [dict(item) if isinstance(item, dict) else item for item in answer]
    return answer


def remembered(ask):
    answers: OrderedDict = OrderedDict()

    async def answer(*args):
        if args in answers:
            answers.move_to_end(args)
        else:
            answers[args] = await ask(*args)
            if len(answers) > KEPT_ANSWERS:
                answers.popitem(last=False)
        return copied(answers[args])

    answer.answers = answers  # what is kept, for the tests
    return answer


def remember_schema(datasette) -> None:
    """Keep the schema answers of each immutable database, and refresh Datasette's schema tables
    only until they have been filled once for the same databases."""
    for database in datasette.databases.values():
        if database.is_mutable or database.is_memory:
            continue
        for question in SCHEMA_QUESTIONS:
            setattr(database, question, remembered(getattr(database, question)))

    refresh = datasette.refresh_schemas
    refreshed_for: list[tuple] = []

    async def refresh_schemas():
        databases = tuple(datasette.databases)
        if databases in refreshed_for:
            return
        await refresh()
        if all(not db.is_mutable or db.name == "_internal" for db in datasette.databases.values()):
            refreshed_for.append(databases)

    datasette.refresh_schemas = refresh_schemas
