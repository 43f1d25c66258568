"""Shared fixtures: a database built by the real pipeline, served by Datasette's own client."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from datasette.app import Datasette

from scripts.build import build

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "datasets"
PACKAGE = json.loads((DATASETS / "datapackage.json").read_text(encoding="utf-8"))
TABLES = [r["name"] for r in PACKAGE["resources"]] + [r["name"] for r in PACKAGE["generatedResources"]]


def read_csv(name: str, root: Path = DATASETS) -> list[dict]:
    with open(root / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """Build once per session, from the committed datasets, into a temporary folder."""
    out = tmp_path_factory.mktemp("build") / "drugbeleid.db"
    build(DATASETS, out, ROOT / "metadata.yml")
    return out


@pytest.fixture
def datasette(built) -> Datasette:
    metadata = json.loads((built.parent / "metadata.json").read_text(encoding="utf-8"))
    return Datasette(immutables=[str(built)], metadata=metadata, plugins_dir=str(ROOT / "plugins"),
                     template_dir=str(ROOT / "templates"))


@pytest.fixture
def datasets_copy(tmp_path) -> Path:
    """A scratch copy of datasets/ (named datasets, so messages read as they do in the repo)."""
    copy = tmp_path / "datasets"
    shutil.copytree(DATASETS, copy)
    return copy
