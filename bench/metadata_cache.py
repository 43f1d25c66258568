"""Can serve/app.py's metadata cache go? What it saves, per page type and per size of the metadata.

Datasette answers "which `allow` blocks apply to this table" (`_table_permission_allows`) by deep-
copying the whole metadata each time; serve/app.py remembers the answer. This measures, in process
on the current build: the CPU time of one uncached answer for the served metadata and for smaller
ones (without the content the plugins read from it; Datasette's configuration alone), and how many
answers each page type asks for. Under a minute.

    .venv/bin/python bench/metadata_cache.py
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from serve import app  # noqa: E402  (puts the project on sys.path, sets pint's cache)

BUILD = ROOT / "build" / "current"
PAGES = ["/drugbeleid/caseload.json?_size=5", "/drugbeleid/caseload?_size=5", "/drugbeleid/caseload/brugge,2020"]
CALLS = 1000


def without_content(metadata: dict) -> dict:
    metadata = copy.deepcopy(metadata)
    ours = metadata["plugins"]["drugbeleid"]
    for key in ("ui", "key_figures", "related", "examples"):
        ours.pop(key, None)
    ours.get("search", {}).pop("ui", None)
    return metadata


def configuration_only(metadata: dict) -> dict:
    metadata = without_content(metadata)
    for table in metadata["databases"]["drugbeleid"]["tables"].values():
        table.pop("columns", None)
        table.pop("description_html", None)
    return metadata


def datasette_with(metadata: dict):
    from datasette.app import Datasette

    return Datasette(
        immutables=[str(BUILD / "drugbeleid.db")],
        inspect_data=json.loads((BUILD / "inspect.json").read_text(encoding="utf-8")),
        metadata=metadata,
        plugins_dir=str(ROOT / "plugins"),
        template_dir=str(ROOT / "templates"),
        settings=app.load_settings(),
    )


def cpu_ms_per_answer(datasette) -> float:
    start = time.process_time()
    for _ in range(CALLS):
        datasette._table_permission_allows("drugbeleid", "caseload")
    return 1000 * (time.process_time() - start) / CALLS


async def answers_per_page(datasette) -> dict[str, int]:
    await datasette.invoke_startup()
    original = datasette._table_permission_allows
    calls = []

    def counting(*args):
        calls.append(args)
        return original(*args)

    datasette._table_permission_allows = counting
    counts = {}
    for path in PAGES:
        calls.clear()
        assert (await datasette.client.get(path)).status_code == 200, path
        counts[path] = len(calls)
    return counts


def main() -> None:
    served = json.loads((BUILD / "metadata.json").read_text(encoding="utf-8"))
    variants = {
        "served": served,
        "without content": without_content(served),
        "configuration only": configuration_only(served),
    }
    per_answer = {}
    for name, metadata in variants.items():
        per_answer[name] = cpu_ms_per_answer(datasette_with(metadata))
        size = len(json.dumps(metadata, ensure_ascii=False).encode())
        print(f"{name:20} {size:7} bytes  {per_answer[name]:.3f} ms CPU per uncached answer")
    counts = asyncio.run(answers_per_page(datasette_with(served)))
    for path, count in counts.items():
        cost = ", ".join(f"{name} {count * ms:.1f} ms" for name, ms in per_answer.items())
        print(f"{path}: {count} answers; without the cache: {cost}")


if __name__ == "__main__":
    main()
