"""schemathesis's own command line, with ast.parse made one call at a time.

Hypothesis describes strategies by parsing the source of their lambdas (ast.parse), and
schemathesis generates test cases in several threads. On CPython 3.11 two ast.parse calls at once
in different threads can fail with "SystemError: AST constructor recursion depth mismatch" (seen
in make fuzz with --workers 4: the run stops with a runtime error, not a finding). The lock costs
nothing that matters (a parse takes microseconds) and makes the runs deterministic again.

    python -m tests.schemathesis_cli run ...   (the same arguments as `schemathesis`)
"""

from __future__ import annotations

import ast
import sys
import threading

_lock = threading.Lock()
_parse = ast.parse


def parse(*args, **kwargs):
    with _lock:
        return _parse(*args, **kwargs)


ast.parse = parse

if __name__ == "__main__":
    from schemathesis.cli import schemathesis

    sys.argv[0] = "schemathesis"
    sys.exit(schemathesis())
