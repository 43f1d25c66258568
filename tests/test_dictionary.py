"""The data dictionary (README.md) inside the zip of a new release, in Dutch and English, made from
the schemas; recorded releases keep their zips byte for byte."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest

from scripts.build import build
from tests.conftest import DATASETS, ROOT


@pytest.fixture(scope="module")
def new_release(tmp_path_factory):
    """A build with no release recorded before it: a new release, whose zip is made now."""
    root = tmp_path_factory.mktemp("dictionary")
    (root / "releases").mkdir()
    build(DATASETS, root / "build" / "drugbeleid.db", ROOT / "metadata.yml", releases=root / "releases")
    current = root / "build" / "current"
    with zipfile.ZipFile(current / "drugbeleid.zip") as archive:
        readme = archive.read("README.md").decode("utf-8")
        package = json.loads(archive.read("datapackage.json"))
    return readme, package


def sections(readme: str) -> dict[str, str]:
    dutch, english = readme.split("\n## English\n")
    assert "\n## Nederlands\n" in dutch
    return {"nl": dutch, "en": english}


def test_every_table_and_column_is_described_in_both_languages(new_release):
    readme, package = new_release
    for lang, text in sections(readme).items():
        for resource in package["resources"]:
            title = resource.get("title_nl") if lang == "nl" else resource["title"]
            assert f"#### `{resource['name']}`: {title}" in text, (lang, resource["name"])
            for field in resource["schema"]["fields"]:
                description = field["description_nl"] if lang == "nl" else field["description"]
                assert f"| `{field['name']}` | {field['type']}" in text, (lang, resource["name"], field["name"])
                assert " ".join(description.split()).replace("|", "\\|") in text, (
                    lang,
                    resource["name"],
                    field["name"],
                )
                if field.get("unit"):
                    assert f"| {field['unit']} |" in text


def test_coded_values_carry_their_labels(new_release):
    readme, package = new_release
    checked = 0
    for lang, text in sections(readme).items():
        for resource in package["resources"]:
            for field in resource["schema"]["fields"]:
                for value in field.get("constraints", {}).get("enum", []):
                    # the labels beside the field in its schema: English `label`, Dutch `label_nl`
                    label = (field.get("value_labels") or {}).get(str(value))
                    expected = label and (label.get("label_nl") if lang == "nl" else label.get("label"))
                    assert f"- `{value}`" + (f": {expected}" if expected else "") in text, (lang, field["name"], value)
                    checked += bool(expected)
    assert checked


def test_caveats_licence_and_citation(new_release):
    readme, package = new_release
    text = sections(readme)
    assert "dossiers, geen personen" in text["nl"] and "dossiers, not persons" in text["en"]
    assert "onvolledig jaar" in text["nl"] and "partial year" in text["en"]
    assert "(VTE), geen justitieassistenten" in text["nl"] and "FTE (full-time equivalents), not heads" in text["en"]
    for lang in ("nl", "en"):
        assert package["licenses"][0]["path"] in text[lang]
        assert f"/releases/{package['version']}/citation.bib" in text[lang]
        assert package["semver"] in text[lang] and package["version"] in text[lang]


def test_recorded_releases_keep_their_zips_byte_for_byte():
    for record_path in (ROOT / "releases").glob("*/release.json"):
        record = json.loads(record_path.read_text(encoding="utf-8"))
        data = (record_path.parent / "drugbeleid.zip").read_bytes()
        assert hashlib.sha256(data).hexdigest() == record["zip"]["sha256"]


async def test_the_served_zip_is_the_recorded_one_when_its_release_is_recorded(datasette):
    from serve import shared

    release = shared.current_release(datasette)
    response = await datasette.client.get("/drugbeleid.zip")
    assert hashlib.sha256(response.content).hexdigest() == release["zip"]["sha256"]
    recorded = {r["version"]: r for r in shared.recorded_releases(datasette)}
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    if release["version"] in recorded:  # a recorded release: its zip as it was (no README before this change)
        assert recorded[release["version"]]["zip"]["sha256"] == release["zip"]["sha256"]
    else:  # a new release: with its dictionary
        assert "README.md" in names
