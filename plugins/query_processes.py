"""Visitor SQL in processes that can be killed (serve/query_processes.py has the why and the how).

Datasette has no hook around the execution of a query, so at startup each database file's
`execute` is given a front: while the request is one of visitor SQL (plugins/sql_guard.py's gate
marks it), the query runs in the pool; every other query (the site's own pages, canned queries,
facets of a table page without `_where`) runs in Datasette's threads as before.
"""

from __future__ import annotations

from datasette import hookimpl

from serve import query_processes


def route_visitor_queries(db) -> None:
    in_thread = db.execute

    async def execute(sql, params=None, truncate=False, custom_time_limit=None, page_size=None, log_sql_errors=True):
        if query_processes.in_visitor_request():
            return await query_processes.execute(
                db, sql, params, truncate, custom_time_limit, page_size, log_sql_errors
            )
        return await in_thread(sql, params, truncate, custom_time_limit, page_size, log_sql_errors)

    db.execute = execute


@hookimpl
def startup(datasette):
    for db in datasette.databases.values():
        if db.path and not db.is_memory:  # the site's database files, not Datasette's _internal
            route_visitor_queries(db)
