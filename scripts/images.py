"""Every chart of the served release as SVG and PNG, in each language, rendered without a browser.

    python -m scripts.images [--build build]      (`make images`, after `make build`)

A step of its own, outside the build: the images are not part of the release (they are written to
build/images/<version>/, not into the release directory, and no checksum or version covers them),
so a machine with other fonts builds the same data version. vl-convert renders the Vega-Lite
specification the charts' pages use (serve/shared.py `chart_spec`) with its data inline, at a fixed
width, in DejaVu Sans from Debian's fonts-dejavu-core (installed by .ci/run). Rendered once per
release: a complete image directory is kept as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import vl_convert

from serve.shared import LANGUAGES, chart_in_language, chart_spec

FONT_DIRECTORY = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core
FONT = "DejaVu Sans"
WIDTH = 600  # px, the width of the whole image (SVG); the PNG is rendered at twice that scale
PNG_SCALE = 2
CONFIG = {"font": FONT, "background": "white"}


def image_name(dashboard: str, chart: str, lang: str, kind: str) -> str:
    return f"{dashboard}/{chart}.{lang}.{kind}"


def charts_of(metadata: dict) -> list[tuple[str, str, dict]]:
    dashboards = metadata.get("plugins", {}).get("datasette-dashboards", {})
    return [
        (slug, chart_slug, chart)
        for slug, dashboard in dashboards.items()
        for chart_slug, chart in (dashboard.get("charts") or {}).items()
        if chart.get("library") == "vega-lite" and chart.get("query")
    ]


def render(build: Path) -> Path:
    """Render the images of the release build/current serves; returns their directory."""
    current = build / "current"
    version = json.loads((current / "release.json").read_text(encoding="utf-8"))["version"]
    target = build / "images" / version
    if (target / "index.json").is_file():
        return target
    if not FONT_DIRECTORY.is_dir():
        raise SystemExit(f"{FONT_DIRECTORY} is missing: install Debian's fonts-dejavu-core (see .ci/run)")
    vl_convert.register_font_directory(str(FONT_DIRECTORY))
    metadata = json.loads((current / "metadata.json").read_text(encoding="utf-8"))
    staging = build / "images" / f".{version}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    written = []
    connection = sqlite3.connect(f"file:{(current / 'drugbeleid.db').resolve()}?mode=ro", uri=True)
    try:
        for slug, chart_slug, chart in charts_of(metadata):
            for lang in LANGUAGES:
                localised = chart_in_language(chart, lang)
                cursor = connection.execute(localised["query"])
                columns = [d[0] for d in cursor.description]
                spec = chart_spec(localised, columns, cursor.fetchall(), width=WIDTH, config=CONFIG)
                spec.pop("usermeta", None)
                spec["autosize"] = {"type": "fit-x", "contains": "padding"}  # the whole image WIDTH wide
                for kind, data in (
                    ("svg", vl_convert.vegalite_to_svg(spec).encode("utf-8")),
                    ("png", vl_convert.vegalite_to_png(spec, scale=PNG_SCALE)),
                ):
                    path = staging / image_name(slug, chart_slug, lang, kind)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                    written.append(image_name(slug, chart_slug, lang, kind))
    finally:
        connection.close()
    (staging / "index.json").write_text(json.dumps(sorted(written), indent=2) + "\n", encoding="utf-8")
    os.replace(staging, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the charts of the current build as SVG and PNG.")
    parser.add_argument("--build", type=Path, default=Path("build"))
    args = parser.parse_args(argv)
    target = render(args.build)
    print(f"chart images in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
