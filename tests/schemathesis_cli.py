"""schemathesis's own command line, with ast.parse made one call at a time.

Hypothesis describes strategies by parsing the source of their lambdas (ast.parse), and
schemathesis generates test cases in several threads. On CPython 3.11 two ast.parse calls at once
in different threads can fail with "SystemError: AST constructor recursion depth mismatch" (seen
in make fuzz with --workers 4: the run stops with a runtime error, not a finding). The lock costs
nothing that matters (a parse takes microseconds) and makes the runs deterministic again.

    python -m tests.schemathesis_cli run ...   (the same arguments as `schemathesis`)

`command` is that run as the test suite (tests/test_openapi.py) and `make fuzz` (tests/fuzz.py)
both make it, with the same checks and options; `environment` is what it runs in.
"""

from __future__ import annotations

import ast
import os
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# no server error; status codes, content types, headers and bodies as /openapi.json describes them
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]


def command(
    url: str, report: Path, seed: int, max_examples: int, phases: str, workers: int, config: Path | None = None
) -> list[str]:
    """A run of this module against `url` (an /openapi.json): valid and invalid input, the CHECKS,
    no shrinking, 30 s a request, no redirect followed, a JSON report written to `report`; `config`
    a schemathesis.toml, if any."""
    return [
        sys.executable,
        "-m",
        "tests.schemathesis_cli",
        *(["--config-file", str(config)] if config else []),
        "run",
        url,
        "--seed",
        str(seed),
        "--max-examples",
        str(max_examples),
        "--phases",
        phases,
        "--mode",
        "all",  # valid and invalid input
        "--checks",
        ",".join(CHECKS),
        "--workers",
        str(workers),
        "--no-shrink",
        "--request-timeout",
        "30",
        "--max-redirects",
        "0",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]


def environment() -> dict:
    """The environment of a run: the project importable, no telemetry, no colours."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "SCHEMATHESIS_TELEMETRY": "false",
        "NO_COLOR": "1",
    }


_lock = threading.Lock()
_parse = ast.parse


def parse(*args, **kwargs):
    with _lock:
        return _parse(*args, **kwargs)


if __name__ == "__main__":
    ast.parse = parse  # before schemathesis (and Hypothesis) are imported
    from schemathesis.cli import schemathesis

    sys.argv[0] = "schemathesis"
    sys.exit(schemathesis())
