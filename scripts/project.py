"""Facts about the project, each defined once: the database's name, the form of a release's version,
what the build reads, and how a release's release.json is read. The build (scripts/), the site (serve/shared.py, and the
plugins through it) and the benchmarks import them from here."""

from __future__ import annotations

import json
import re
from pathlib import Path

DATABASE = "drugbeleid"  # the database's name in every URL: /drugbeleid/...
DATABASE_FILE = f"{DATABASE}.db"
# A release's version: the data's date and the first 12 hex digits of its content hash.
VERSION_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9a-f]{12}"
VERSION = re.compile(f"^{VERSION_PATTERN}$")

# What the build reads that git keeps, relative to the project root: the data, the site's
# configuration, its content and its interface catalogues (each of these four changes the data
# version), the pipeline and the served settings it reads. A change to any of them builds again, and
# `make release` refuses while one is not committed (scripts/build.py input_paths adds the recorded
# releases, which `make release` writes itself).
BUILD_INPUTS = ("datasets", "metadata.yml", "content", "locale", "scripts", "serve/settings.json")
# Those of BUILD_INPUTS that belong to the code that builds, not to the project being built.
PIPELINE = ("scripts", "serve/settings.json")


def read_release(directory: Path) -> dict:
    """release.json of a release directory (or of build/, through its stable link)."""
    return json.loads((Path(directory) / "release.json").read_text(encoding="utf-8"))
