"""make fuzz: schemathesis with every phase over several seeds, against make serve on 127.0.0.1.

    python -m tests.fuzz [--seeds 1,2,3,4,5] [--max-examples 25] [--budget 900]

Every run has every phase (examples, coverage, fuzzing, stateful) and the checks and options of
the test suite's run (tests/test_openapi.py; both from tests/schemathesis_cli.py): no server error,
status codes, content types, headers and response bodies as /openapi.json describes them. The coverage phase is deterministic and large (about
27,600 requests for the 97 operations, 14 minutes on this machine), so it is spread over the runs:
run i has the coverage phase for every operation whose index (among the operations it covers) is
i modulo the number of seeds, and after all runs every covered operation has had its complete
coverage phase once. It covers every operation but the CSV twin of a JSON operation (tables,
canned queries, the database: same parameters, same code; see `coverage_operations`).
Examples, fuzzing and stateful run for every operation in every run, each with its own seed. The
whole is bounded: each run gets an equal share of --budget seconds (15 minutes), and a run that
overruns fails. Totals per seed go to build/fuzz.json and are printed; docs/api.md records them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from . import schemathesis_cli
from .servers import free_port, make_command, start_server, stop, wait_until_answers

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SEEDS = [20261201, 1, 2, 3, 4]


def serve(port: int, workers: int) -> subprocess.Popen:
    process = start_server(make_command("serve", port, f"WORKERS={workers}"))
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/openapi.json", process, seconds=120)
    except AssertionError:
        stop(process, seconds=30)
        raise SystemExit("make serve did not start") from None
    return process


def coverage_operations(operation_ids: list[str]) -> list[str]:
    """The operations the coverage phase covers: all but the CSV twin of a JSON operation
    (`<name>_csv` beside `<name>_json`: a table, a canned query, the database; the same
    parameters and the same code, whose coverage they would repeat at up to 700 requests each;
    they get examples and fuzzing in every run)."""
    tables = {op[: -len("_json")] for op in operation_ids if op.endswith("_json")}
    return [op for op in operation_ids if not (op.endswith("_csv") and op[: -len("_csv")] in tables)]


def config_for(operation_ids: list[str], index: int, runs: int) -> str:
    """schemathesis.toml turning the coverage phase off for the operations other runs cover."""
    covered = coverage_operations(operation_ids)
    others = [op for op in operation_ids if op not in covered] + [
        op for i, op in enumerate(covered) if i % runs != index
    ]
    blocks = [
        f"[[operations]]\ninclude-operation-id = {json.dumps(op)}\nphases.coverage.enabled = false\n" for op in others
    ]
    return "\n".join(blocks)


def run_seed(
    base: str,
    seed: int,
    index: int,
    runs: int,
    operation_ids: list[str],
    max_examples: int,
    seconds: float,
    workers: int,
    folder: Path,
) -> dict:
    config = folder / f"schemathesis-{seed}.toml"
    config.write_text(config_for(operation_ids, index, runs), encoding="utf-8")
    report = folder / f"schemathesis-{seed}.json"
    command = schemathesis_cli.command(
        f"{base}/openapi.json",
        report,
        seed=seed,
        max_examples=max_examples,
        phases="examples,coverage,fuzzing,stateful",
        workers=workers,
        config=config,
    )
    env = schemathesis_cli.environment()
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds, env=env, cwd=folder)
    except subprocess.TimeoutExpired:
        return {"seed": seed, "timed_out": True, "seconds": round(time.monotonic() - started)}
    result = json.loads(report.read_text(encoding="utf-8"))
    # failures are grouped by kind: ST101 a server error, ST105 a response that departs from its schema
    server_errors = sum(f["count"] for f in result["failures"] if f["code"] == "ST101")
    schema_violations = sum(f["count"] for f in result["failures"] if f["code"] == "ST105")
    return {
        "seed": seed,
        "coverage_operations": len(
            [op for i, op in enumerate(coverage_operations(operation_ids)) if i % runs == index]
        ),
        "operations": result["operations"]["tested"],
        "test_cases": result["test_cases"]["generated"],
        "failures": result["test_cases"]["with_failures"],
        "server_errors": server_errors,
        "schema_violations": schema_violations,
        "errors": len(result["errors"]),
        "seconds": round(result["running_time"]),
        "phases": {name: phase["status"] for name, phase in result["phases"].items()},
        "exit_code": done.returncode,
        "output_tail": done.stdout[-3000:] if done.returncode else "",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--budget", type=float, default=900, help="seconds for all runs together")
    parser.add_argument("--server-workers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="schemathesis workers")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    port = free_port()
    process = serve(port, args.server_workers)
    base = f"http://127.0.0.1:{port}"
    results = []
    started = time.monotonic()
    try:
        spec = json.loads(urllib.request.urlopen(base + "/openapi.json", timeout=60).read())
        operation_ids = [op["operationId"] for methods in spec["paths"].values() for op in methods.values()]
        with tempfile.TemporaryDirectory() as folder:
            for index, seed in enumerate(seeds):
                remaining = args.budget - (time.monotonic() - started)
                share = remaining / (len(seeds) - index)
                results.append(
                    run_seed(
                        base,
                        seed,
                        index,
                        len(seeds),
                        operation_ids,
                        args.max_examples,
                        share,
                        args.workers,
                        Path(folder),
                    )
                )
                print(json.dumps({k: v for k, v in results[-1].items() if k != "output_tail"}), flush=True)
    finally:
        stop(process, seconds=30)
    total = {
        k: sum(r.get(k, 0) for r in results)
        for k in ("test_cases", "failures", "server_errors", "schema_violations", "errors")
    }
    total["seconds"] = round(time.monotonic() - started)
    summary = {"seeds": results, "total": total, "operations": len(operation_ids), "max_examples": args.max_examples}
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "fuzz.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(total))
    ok = all(
        not r.get("timed_out") and r["exit_code"] == 0 and r["failures"] == 0 and r["errors"] == 0 for r in results
    )
    for r in results:
        if r.get("output_tail"):
            print(r["output_tail"])
    return 0 if ok and total["seconds"] <= args.budget + 60 else 1


if __name__ == "__main__":
    raise SystemExit(main())
