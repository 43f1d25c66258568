"""`make bench-scale`: the cost of the same pipeline and site on a synthetic database ~1000x larger.

1. Synthesise, in a temporary folder (never build/), a copy of datasets/ with every document
   repeated COPIES times: the same source text under another file name and id, and the rows of every
   table that belongs to a document (passages, statistics, events, citations, legal references,
   recommendations, statements, question and answer items, the parts of the sources) repeated with
   it, ids suffixed `-s<k>` and so the references between them. So every
   check of the real build still holds and runs unchanged: checksums, Frictionless validation
   (primary, unique and foreign keys), provenance (each quote is in its copy of the text),
   passages (regenerated from the copied sources with scripts.passages). The lookup tables
   (justice houses, drug courts, caseload, staffing, printed totals, glossary, objectives) stay
   as they are: their keys are real-world names. The synthetic package's schemas drop only the
   enums that list the five real document ids.
2. Build it with scripts.build.build, timing each step (the step functions are wrapped, not
   changed), once with and once without Frictionless validation, then `datasette inspect`.
3. Serve it as `make serve` does with the response cache off (the point is the cost of the
   query) and load a full-text search, a filtered table, a facet and rows with wrk at c=1 and c=16.
   Also time the SQL behind them directly, to show where a request waits on a count.

Environment: SCALE_COPIES (1000), SCALE_SECONDS (3 per load), SCALE_BOTH_BUILDS=1 (a second
build without validation, instead of deriving it from the step times), SCALE_KEEP=1 keeps the folder.
"""

from __future__ import annotations

import collections
import csv
import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench import (  # noqa: E402
    OUT,
    checks_markdown,
    ensure_wrk,
    git_commit,
    machine,
    make_serve_line,
    number,
    run_wrk,
    start,
    versions,
)

COPIES = int(os.environ.get("SCALE_COPIES", "1000"))
SECONDS = int(os.environ.get("SCALE_SECONDS", "3"))
BOTH_BUILDS = os.environ.get("SCALE_BOTH_BUILDS") == "1"
# tables whose rows belong to one document and are repeated with it (passages are regenerated)
PER_DOCUMENT = [
    "statistics",
    "events",
    "citations",
    "legal_references",
    "recommendations",
    "question_items",
    "answer_items",
    "source_parts",
    "statements",
]
SEARCH_TERM = "recidive"
FILTER = ("statistics", "topic", "recidivism")
ROW = ("statistics", "bleave-project-age")
PASSAGE_ROW = "vraag-69-2022-001"


# ---------------------------------------------------------------------------------------------
# 1. The synthetic datasets/
# ---------------------------------------------------------------------------------------------
def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def write_rows(path: Path, columns: list[str], rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def copy_of(row: dict, k: int, schema: dict) -> dict:
    """Row `row` as it belongs to the k-th copy of its document: the document id, every other
    string key and every reference to a row of the same document suffixed, integer unique columns
    offset, so keys stay unique and references hold."""
    if k == 0:
        return row
    suffix = f"-s{k:04d}"
    keys = schema.get("primaryKey", [])
    keys = [keys] if isinstance(keys, str) else keys
    references = {
        key["fields"][0]
        for key in schema.get("foreignKeys", [])
        if key["reference"]["resource"] in PER_DOCUMENT and len(key["fields"]) == 1
    }
    copy = dict(row)
    for field in schema["fields"]:
        name, constraints = field["name"], field.get("constraints", {})
        own_key = (keys == [name]) or constraints.get("unique")
        if (name == "document_id" or name in references) and copy[name]:
            copy[name] += suffix
        elif own_key and copy[name]:
            copy[name] = f"{copy[name]}{suffix}" if field["type"] == "string" else str(int(copy[name]) + k * 100000)
    return copy


def synthesise(source: Path, target: Path, copies: int) -> dict[str, int]:
    shutil.copytree(source, target)
    from scripts import passages

    schemas = {}
    for path in (target / "schemas").glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        for field in schema["fields"]:
            # the only constraints that cannot hold for copies: enums of the real document ids
            if field["name"] == "document_id":
                field.get("constraints", {}).pop("enum", None)
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")
        schemas[path.stem] = schema
    columns, documents = read_rows(target / "documents.csv")
    checksums = (target / "documents.sha256").read_text(encoding="utf-8").rstrip("\n").splitlines()
    copied = []
    for k in range(1, copies):
        for doc in documents:
            name = f"s{k:04d}_{doc['source_file']}"
            os.link(target / "sources" / doc["source_file"], target / "sources" / name)  # same bytes
            copied.append({**copy_of(doc, k, schemas["documents"]), "id": f"{doc['id']}-s{k:04d}", "source_file": name})
            checksums.append(f"{doc['sha256']}  {name}")
    write_rows(target / "documents.csv", columns, documents + copied)
    (target / "documents.sha256").write_text("\n".join(checksums) + "\n", encoding="utf-8")
    for table in PER_DOCUMENT:
        columns, rows = read_rows(target / f"{table}.csv")
        write_rows(
            target / f"{table}.csv", columns, (copy_of(row, k, schemas[table]) for k in range(copies) for row in rows)
        )
    passages.write_passages(target)
    return {path.stem: len(read_rows(path)[1]) for path in target.glob("*.csv")}  # rows, not lines


# ---------------------------------------------------------------------------------------------
# 2. The build, step by step
# ---------------------------------------------------------------------------------------------
STEPS = {  # module attribute -> step name; scripts.build calls each through its module
    ("scripts.build", "read_inputs"): "read CSVs and sources",
    ("scripts.validate", "validate_tables"): "Frictionless validation",
    ("scripts.validate", "check_descriptions"): "descriptions",
    ("scripts.provenance", "check_sources"): "source checksums",
    ("scripts.provenance", "locate_quotes"): "provenance (quotes located)",
    ("scripts.provenance", "check_passages"): "passages match sources",
    ("scripts.privacy", "check_personal_data"): "personal data",
    ("scripts.reconcile", "reconcile"): "reconcile totals",
    ("scripts.load", "load_table"): "load tables (Frictionless typing + sqlite-utils)",
    ("scripts.load", "load_rows"): "load generated tables",
    ("scripts.load", "index"): "indexes and full-text search",
    ("scripts.search_index", "load_search_index"): "site search index",
    ("scripts.build", "database_problems"): "foreign_key_check + integrity_check",
    ("scripts.release", "publish_release"): "publish (version, CSV exports, zip)",
}


def timed_build(datasets: Path, out: Path, validate: bool = True) -> tuple[float, dict[str, float], dict]:
    """scripts.build.build on datasets, with the time spent in each step (exclusive: a step that
    calls another is charged without it); validate=False replaces Frictionless validation by
    'no problems' and runs everything else."""
    import importlib

    times: dict[str, float] = collections.defaultdict(float)
    running: list[list] = []  # [step, seconds spent in the steps it called]
    originals = []
    for (module_name, attribute), step in STEPS.items():
        module = importlib.import_module(module_name)
        if not hasattr(module, attribute):
            continue
        original = getattr(module, attribute)
        originals.append((module, attribute, original))
        if not validate and attribute == "validate_tables":
            original = lambda *args, **kwargs: []  # noqa: E731

        def wrapper(*args, _original=original, _step=step, **kwargs):
            began = time.perf_counter()
            running.append([_step, 0.0])
            try:
                return _original(*args, **kwargs)
            finally:
                spent = time.perf_counter() - began
                times[_step] += spent - running.pop()[1]
                if running:
                    running[-1][1] += spent

        setattr(module, attribute, wrapper)
    from scripts.build import build

    try:
        began = time.perf_counter()
        result = build(datasets, out, ROOT / "metadata.yml")
        total = time.perf_counter() - began
    finally:
        for module, attribute, original in originals:
            setattr(module, attribute, original)
    times["other (build.py itself)"] = total - sum(times.values())
    return total, dict(times), result


def database_rows(path: Path) -> dict[str, int]:
    db = sqlite3.connect(path)
    tables = [
        r[0] for r in db.execute("select name from sqlite_master where type = 'table' and name not like '%_fts%'")
    ]
    counts = {t: db.execute(f"select count(*) from [{t}]").fetchone()[0] for t in tables}
    db.close()
    return counts


# ---------------------------------------------------------------------------------------------
# 3. Serving
# ---------------------------------------------------------------------------------------------
def urls() -> dict[str, str]:
    table, column, value = FILTER
    return {
        "search": f"/drugbeleid/passages.json?_search={SEARCH_TERM}",
        "search_html": f"/drugbeleid/passages?_search={SEARCH_TERM}",
        "filtered": f"/drugbeleid/{table}.json?{column}={value}",
        "filtered_html": f"/drugbeleid/{table}?{column}={value}",
        "filtered_nocount": f"/drugbeleid/{table}.json?{column}={value}&_nocount=1",
        "facet": f"/drugbeleid/{table}.json?_facet={column}",
        "row": f"/drugbeleid/{ROW[0]}/{ROW[1]}.json",
        "passage_row": f"/drugbeleid/passages/{PASSAGE_ROW}.json",
        "table_unfiltered": "/drugbeleid/passages.json",
    }


def sql_timings(path: Path) -> dict[str, dict]:
    """The counts and facets Datasette runs for these pages, timed directly on the file (median of 5),
    with SQLite's query plan: a SCAN of a table is a full pass over it."""
    table, column, value = FILTER
    db = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    queries = {
        "count filtered": (f"select count(*) from {table} where {column} = ?", [value]),
        "count search": (
            "select count(*) from passages where rowid in (select rowid from passages_fts where passages_fts match ?)",
            [f'"{SEARCH_TERM}"'],
        ),
        "count whole passages": ("select count(*) from passages", []),
        "facet topic (whole table)": (f"select {column}, count(*) from {table} group by {column}", []),
        "facet unit within filter": (f"select unit, count(*) from {table} where {column} = ? group by unit", [value]),
    }
    found = {}
    for name, (sql, params) in queries.items():
        runs = []
        for _ in range(5):
            began = time.perf_counter()
            db.execute(sql, params).fetchall()
            runs.append((time.perf_counter() - began) * 1000)
        plan = "; ".join(r[-1] for r in db.execute("explain query plan " + sql, params))
        found[name] = {"sql": sql, "ms": round(sorted(runs)[2], 2), "plan": plan}
    db.close()
    return found


def full_scans(plan: str) -> list[str]:
    """The steps of a query plan that read a whole table (not an index search, not FTS)."""
    return [
        step
        for step in plan.split("; ")
        if step.startswith("SCAN ") and "INDEX" not in step and "VIRTUAL TABLE" not in step
    ]


def facet_indexes(path: Path) -> dict[str, float]:
    """The proposed fix, tried on this throwaway database: an index on every column metadata.yml
    lists as a facet of a table, so that filtered counts and facet counts are index searches.
    Returns the seconds each index took to create."""
    import yaml

    site = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    db = sqlite3.connect(path)
    took = {}
    for table, config in site["databases"]["drugbeleid"]["tables"].items():
        for column in config.get("facets", []):
            began = time.perf_counter()
            db.execute(f"create index if not exists [idx_{table}_{column}] on [{table}] ([{column}])")
            took[f"{table}.{column}"] = round(time.perf_counter() - began, 2)
    db.commit()
    db.close()
    return took


def facet_indexes_missing(path: Path) -> dict[str, float]:
    """The facet columns of metadata.yml: 1.0 for one that no index starts with, else 0.0."""
    import yaml

    site = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    indexed = {
        (row[0], row[1])
        for row in db.execute(
            "select m.name, i.name from sqlite_master m, pragma_index_list(m.name) l, pragma_index_info(l.name) i "
            "where m.type = 'table' and i.seqno = 0"
        )
    }
    db.close()
    return {
        f"{table}.{column}": 0.0 if (table, column) in indexed else 1.0
        for table, config in site["databases"]["drugbeleid"]["tables"].items()
        for column in config.get("facets", [])
    }


def serve_command(database: Path) -> tuple[list[str], dict]:
    """`make serve`'s command with this database and the cache off, without make (whose build
    target would rebuild the real database); its VAR=value prefixes become the environment."""
    line = make_serve_line({"DB": str(database), "CACHE": "off", "WORKERS": "1"})
    env = {}
    while line and "=" in line[0] and not line[0].startswith("-"):
        name, value = line.pop(0).split("=", 1)
        env[name] = value
    if line and line[0] == "exec":
        line.pop(0)
    return line, env


def main() -> int:
    ensure_wrk()
    OUT.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": f"make bench-scale (SCALE_COPIES={COPIES})",
        "commit": git_commit(),
        "machine": machine(),
        "versions": versions(),
        "copies": COPIES,
    }
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    server = None
    try:
        t = time.perf_counter()
        csv_rows = synthesise(ROOT / "datasets", work / "datasets", COPIES)
        report["synthesise_s"] = round(time.perf_counter() - t, 1)
        report["csv_rows"] = csv_rows
        print(
            f"synthesised {sum(csv_rows.values()):,} CSV rows in {report['synthesise_s']} s: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(csv_rows.items(), key=lambda kv: -kv[1])[:6]),
            flush=True,
        )
        builds = {}
        # without validation: measured by a second build with SCALE_BOTH_BUILDS=1, otherwise the
        # same build less its validation step (the steps share nothing)
        for validate in (True, False) if BOTH_BUILDS else (True,):
            out = work / ("build" if validate else "build-novalidation") / "drugbeleid.db"
            total, steps, result = timed_build(work / "datasets", out, validate)
            rows = sum(database_rows(out).values())
            name = "with validation" if validate else "without validation (measured)"
            builds[name] = {
                "seconds": round(total, 1),
                "rows": rows,
                "rows_per_s": round(rows / total),
                "csv_rows_per_s": round(sum(csv_rows.values()) / total),
                "steps_s": {k: round(v, 2) for k, v in sorted(steps.items(), key=lambda kv: -kv[1])},
                "db_bytes": out.stat().st_size,
                "table_rows": database_rows(out),
            }
            print(
                f"build {name}: {total:.1f} s, {rows:,} rows ({rows / total:,.0f} rows/s), "
                f"db {out.stat().st_size / 1e6:.0f} MB",
                flush=True,
            )
            if not validate:
                shutil.rmtree(out.parent)
        first = builds["with validation"]
        less = first["seconds"] - first["steps_s"].get("Frictionless validation", 0)
        builds["without validation (same build less its validation step)"] = {
            "seconds": round(less, 1),
            "rows": first["rows"],
            "rows_per_s": round(first["rows"] / less),
            "csv_rows_per_s": round(sum(csv_rows.values()) / less),
            "steps_s": {},
            "db_bytes": first["db_bytes"],
        }
        report["builds"] = builds
        database = work / "build" / "drugbeleid.db"
        t = time.perf_counter()
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "datasette"),
                "inspect",
                str(database),
                "--inspect-file",
                str(database.parent / "inspect.json"),
            ],
            check=True,
            cwd=ROOT,
        )
        report["inspect_s"] = round(time.perf_counter() - t, 1)
        report["sql"] = sql_timings(database)

        command, env = serve_command(database)
        server = start("scale-site", command, env, probe=urls()["row"], timeout=180)
        report["cold_start_s"] = round(server.cold_start_s, 2)
        print(f"serving {database} (cache off), cold start {server.cold_start_s:.2f} s", flush=True)
        loads = {}
        for name, path in urls().items():
            with urllib.request.urlopen(server.base + path, timeout=60) as response:
                body = json.loads(response.read()) if ".json" in path else None
            for c in (1, 16):
                figures = run_wrk(server.base + path, c, SECONDS)
                loads[f"{name}|{c}"] = {
                    "path": path,
                    **{k: figures[k] for k in ("rps", "p50_ms", "p99_ms", "non2xx", "errors")},
                }
            if body and "filtered_table_rows_count" in body:
                loads[f"{name}|1"]["count"] = body["filtered_table_rows_count"]
            print(
                f"  {name:17} c=1 p50 {number(loads[f'{name}|1']['p50_ms']):>7} ms  c=16 p50 "
                f"{number(loads[f'{name}|16']['p50_ms']):>7} ms p99 {number(loads[f'{name}|16']['p99_ms']):>7} ms",
                flush=True,
            )
        report["loads"] = loads
        report["rss_mb"] = {str(pid): round(mb, 1) for pid, mb in server.rss_mb().items()}
        server.stop()
        server = None
        # The build itself now indexes the facet and sort columns (scripts/load.py), so the
        # fix facet_indexes() tried on the copy is measured only where a facet still lacks one.
        if any(facet_indexes_missing(database).values()):
            report["facet_indexes_s"] = facet_indexes(database)
            report["sql_with_facet_indexes"] = sql_timings(database)
    except BaseException:
        (OUT / "scale-partial.json").write_text(json.dumps(report, indent=2))
        print(f"failed; what was measured is in {OUT / 'scale-partial.json'}, the data in {work}", file=sys.stderr)
        os.environ["SCALE_KEEP"] = "1"
        raise
    finally:
        if server:
            server.stop()
        if os.environ.get("SCALE_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    report["total_s"] = round(time.monotonic() - began, 1)
    report["checks"] = checks(report)
    print_report(report)
    stamp = report["date"].replace(":", "").replace("+0000", "Z")
    for path in (OUT / f"scale-{stamp}.json", OUT / "scale-latest.json"):
        path.write_text(json.dumps(report, indent=2))
    print(f"\nresults: {OUT / 'scale-latest.json'} ({report['total_s']:.0f} s)")
    return 0


def checks(report: dict) -> list[dict]:
    loads, sql = report["loads"], report["sql"]
    found = []
    for name in ("search", "filtered", "filtered_html", "search_html"):
        one, many = loads[f"{name}|1"], loads[f"{name}|16"]
        found.append(
            {
                "target": "p50 <= 20 ms at 1000x (cache off)",
                "endpoint": name,
                "ok": one["p50_ms"] is not None and one["p50_ms"] <= 20 and one["non2xx"] == 0,
                "detail": f"p50 {one['p50_ms']} ms at c=1, {many['p50_ms']} ms at c=16 (p99 {many['p99_ms']} ms)",
            }
        )
    counts = {n: q for n, q in sql.items() if n.startswith("count")}
    scans = {n: q for n, q in counts.items() if full_scans(q["plan"]) and n != "count whole passages"}
    with_count, without = loads["filtered|1"]["p50_ms"], loads["filtered_nocount|1"]["p50_ms"]
    found.append(
        {
            "target": "no request waits on a full count(*)",
            "endpoint": "filtered and search pages",
            "ok": not scans,
            "detail": "; ".join(f"{n}: {q['ms']} ms ({q['plan']})" for n, q in counts.items())
            + f"; served filtered p50 {with_count} ms with the count, {without} ms with _nocount=1",
        }
    )
    fixed = report.get("sql_with_facet_indexes")
    if fixed:
        found.append(
            {
                "target": "(proposed fix) facet-column indexes make counts index searches",
                "endpoint": "SQL",
                "ok": not any(
                    full_scans(q["plan"])
                    for n, q in fixed.items()
                    if n.startswith("count") and n != "count whole passages"
                ),
                "detail": "; ".join(f"{n}: {sql[n]['ms']} -> {q['ms']} ms ({q['plan']})" for n, q in fixed.items()),
            }
        )
    return found


def print_report(report: dict) -> None:
    print(
        f"\n{report['command']}  {report['date']}  commit {report['commit']}  ({report['copies']} copies of each document)"
    )
    for name, b in report["builds"].items():
        print(
            f"\nbuild {name}: {b['seconds']} s, {b['rows']:,} rows in the database = {b['rows_per_s']:,} rows/s "
            f"({b['csv_rows_per_s']:,} CSV rows/s), {b['db_bytes'] / 1e6:.0f} MB"
        )
        for step, seconds in b["steps_s"].items():
            print(f"  {seconds:8.2f} s  {step}")
    print(f"datasette inspect: {report['inspect_s']} s; cold start {report['cold_start_s']} s")
    print("\nSQL timed directly (median of 5):")
    for name, q in report["sql"].items():
        print(f"  {q['ms']:8.2f} ms  {name}: {q['plan']}")
    if report.get("sql_with_facet_indexes"):
        print(
            f"\nthe same with an index on each facet column of metadata.yml (created in {report['facet_indexes_s']} s):"
        )
        for name, q in report["sql_with_facet_indexes"].items():
            print(f"  {q['ms']:8.2f} ms  {name}: {q['plan']}")
    print(f"\nserved, cache off, wrk {SECONDS} s per load:")
    print(
        f"  {'endpoint':17} {'c=1 p50':>8} {'c=1 p99':>8} {'c=16 p50':>9} {'c=16 p99':>9} {'c=16 req/s':>10} {'non2xx':>6}"
    )
    for name in urls():
        one, many = report["loads"][f"{name}|1"], report["loads"][f"{name}|16"]
        print(
            f"  {name:17} {number(one['p50_ms']):>8} {number(one['p99_ms']):>8} {number(many['p50_ms']):>9} {number(many['p99_ms']):>9} "
            f"{many['rps']:10.0f} {one['non2xx'] + many['non2xx']:6}"
        )
    print()
    for check in report["checks"]:
        print(f"{'PASS' if check['ok'] else 'GAP '} {check['target']}: {check['endpoint']}: {check['detail']}")


def markdown(report: dict) -> str:
    """The tables of BENCHMARKS.md from a saved report: `python bench/scale.py --markdown [json]`."""
    m = report["machine"]
    lines = [
        f"`{report['command']}`, {report['date']}, commit {(report['commit'] or '?')[:7]}; {m['nproc']} cores "
        f"({m['cpu']}), {m['ram_gib']} GiB, load average {m['loadavg_start'][0]:.1f} at the start; total "
        f"{report['total_s'] / 60:.1f} min. CSV rows: "
        + ", ".join(f"{k} {v:,}" for k, v in report["csv_rows"].items() if v > 100)
        + f" ({sum(report['csv_rows'].values()):,} in all, synthesised in {report['synthesise_s']} s).",
        "",
        "| build | seconds | rows in the database | rows/s | CSV rows/s | database |",
        "|---|---|---|---|---|---|",
    ]
    for name, b in report["builds"].items():
        lines.append(
            f"| {name} | {b['seconds']:,} | {b['rows']:,} | {b['rows_per_s']:,} | {b['csv_rows_per_s']:,} | {b['db_bytes'] / 1e6:,.0f} MB |"
        )
    steps = report["builds"]["with validation"]["steps_s"]
    total = report["builds"]["with validation"]["seconds"]
    lines += ["", "| build step (with validation) | seconds | share |", "|---|---|---|"]
    lines += [f"| {step} | {seconds:,.1f} | {seconds / total:.0%} |" for step, seconds in steps.items()]
    lines += [
        "",
        f"`datasette inspect`: {report['inspect_s']} s. Cold start of the site on this database: {report['cold_start_s']} s.",
        "",
        "| query (timed on the file, median of 5) | ms | plan | with facet-column indexes: ms | plan |",
        "|---|---|---|---|---|",
    ]
    fixed = report.get("sql_with_facet_indexes", {})
    for name, q in report["sql"].items():
        f = fixed.get(name, {})
        lines.append(f"| {name} | {q['ms']} | {q['plan']} | {f.get('ms', '–')} | {f.get('plan', '–')} |")
    lines += [
        "",
        "| served, cache off | URL | c=1 p50 / p99 ms | c=16 p50 / p99 ms | c=16 req/s | non-2xx |",
        "|---|---|---|---|---|---|",
    ]
    for name, path in urls().items():
        one, many = report["loads"][f"{name}|1"], report["loads"][f"{name}|16"]
        lines.append(
            f"| {name} | `{path}` | {number(one['p50_ms'], 1)} / {number(one['p99_ms'], 1)} | "
            f"{number(many['p50_ms'], 1)} / {number(many['p99_ms'], 1)} | {many['rps']:,.0f} | {one['non2xx'] + many['non2xx']} |"
        )
    return "\n".join(lines + checks_markdown(report["checks"]))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--markdown"]:
        saved = Path(sys.argv[2]) if len(sys.argv) > 2 else OUT / "scale-latest.json"
        print(markdown(json.loads(saved.read_text())))
        sys.exit(0)
    sys.exit(main())
