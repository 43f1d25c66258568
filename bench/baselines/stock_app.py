"""Stock Datasette 0.65.5 as an ASGI app, for the short HTML comparison (bench/html_miss.py): the
site's database (immutable, with its inspect file), metadata and settings (serve/settings.json),
neither the project's plugins nor its templates, and only Datasette's default plugins (as
bench/baselines/stock_datasette.py). Served by the same granian command as the site.

BENCH_DB is the database; its metadata.json and inspect.json are beside it.
"""

import json
import os
import sys
from pathlib import Path

sys._called_from_test = True  # before datasette.plugins is imported: no entry-point plugins

from datasette.app import Datasette  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
DB = Path(os.environ["BENCH_DB"]).resolve()
datasette = Datasette(
    immutables=[str(DB)],
    metadata=json.loads((DB.parent / "metadata.json").read_text(encoding="utf-8")),
    inspect_data=json.loads((DB.parent / "inspect.json").read_text(encoding="utf-8")),
    settings=json.loads((ROOT / "serve" / "settings.json").read_text(encoding="utf-8")),
)
app = datasette.app()
