"""A failed query's cursor is freed in the thread that ran it, so that it can never stall the server.

Python 3.11's sqlite3 keeps a statement marked "in use" after its query fails at run time (an
interrupt at the time limit, a refused printf, an integer overflow, malformed JSON): the reset
that should clear the mark returns the step's error code, and the mark stays. When such a cursor
is freed, it resets its statement once more, and that waits for the connection's lock. Datasette
keeps the cursor of a failed query alive in the exception's traceback (a reference cycle), so it
is freed later by the garbage collector, on whichever thread runs it: often the event loop,
while the SQL thread that owns the connection runs its next query. The whole worker then waits
for that query, up to the time limit (measured: 0.8 s for every page, /-/versions.json included).

The cure is to free the cursor at once, where it can never wait: on the SQL thread that ran the
query, whose connection is idle then. Each database's `execute_fn` (Datasette's one door to its
SQL threads) is wrapped so that a failure clears the local variables of the frames it passed
through, the cursor among them, before the exception leaves the thread. The message, the status
and everything Datasette does with the exception are unchanged.
"""

from __future__ import annotations

import traceback

from datasette import hookimpl


def released_on_failure(execute_fn):
    async def execute(fn):
        def in_thread(connection):
            try:
                return fn(connection)
            except BaseException as error:
                traceback.clear_frames(error.__traceback__)
                raise

        return await execute_fn(in_thread)

    return execute


@hookimpl
def startup(datasette):  # Datasette runs it once per instance, before the first request
    for database in datasette.databases.values():
        database.execute_fn = released_on_failure(database.execute_fn)
