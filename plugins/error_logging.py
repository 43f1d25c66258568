"""Errors are logged in one line, not as rich tracebacks with every local variable.

Datasette 0.65 prints each exception it handles with rich's show_locals traceback whenever rich
can be imported (frictionless pulls it in). Measured here: a timed-out query cost 1 s of SQL and
then about 3 s of CPU to print, under the GIL, so a few bad queries stalled every other request.
Datasette looks the module up at call time, so clearing it here is enough; the error responses
themselves are unchanged.
"""

from __future__ import annotations

import sys

import datasette.handle_exception
from datasette import hookimpl

datasette.handle_exception.rich = None


@hookimpl(tryfirst=True)
def handle_exception(datasette, request, exception):
    print(
        f"error: {request.method} {request.path}: {type(exception).__name__}: {str(exception)[:200]!r}", file=sys.stderr
    )
    return None  # the response is made by the other hooks, as before
