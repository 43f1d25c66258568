"""The site's content: one kind per file in content/, each valid against its JSON Schema, written in
both languages by one convention (English `key`, Dutch `key_nl`); metadata.yml keeps Datasette's
configuration; labels live beside their fields in the schemas; no text counts the sources by hand."""

from __future__ import annotations

import json
import re

import yaml

from scripts import content
from tests.conftest import ROOT
from tests.pages import parse


def test_every_content_file_is_valid_and_metadata_yml_holds_none_of_it():
    texts, problems = content.read_content(ROOT / "content")
    assert problems == []
    assert set(texts) == {name.removesuffix(".yml") for name in content.FILES}
    site = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    assert content.moved_problems(site, "metadata.yml") == []


def test_metadata_yml_refuses_content_written_there_again():
    site = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    site["plugins"]["drugbeleid"]["key_figures"] = []
    site["databases"]["drugbeleid"]["queries"] = {}
    assert [str(p) for p in content.moved_problems(site, "metadata.yml")] == [
        "metadata.yml: plugins.drugbeleid.key_figures is content: write it in content/key_figures.yml",
        "metadata.yml: databases.drugbeleid.queries is content: write it in content/feeds.yml and content/examples.yml",
    ]


def test_every_text_is_written_in_both_languages_by_the_one_convention():
    """Wherever content has an English text `key`, it has `key_nl` beside it, and no `_en` key."""
    texts, _ = content.read_content(ROOT / "content")

    def walk(node, where):
        if isinstance(node, dict):
            for key in node:
                assert not key.endswith("_en"), f"{where}.{key}: English goes under the plain key"
                if key.endswith("_nl"):
                    assert key[:-3] in node, f"{where}.{key} has no English {key[:-3]}"
            for key in ("title", "description", "label"):
                if isinstance(node.get(key), str) and where.split(".")[-1] not in ("display", "display_nl"):
                    assert f"{key}_nl" in node, f"{where}.{key} has no Dutch {key}_nl"
            for key, value in node.items():
                if key not in ("display", "display_nl"):  # Vega-Lite's own keys
                    walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{where}[{i}]")

    walk(texts, "content")


def test_the_served_metadata_is_assembled_from_the_content(built):
    served = json.loads((built.parent / "metadata.json").read_text(encoding="utf-8"))
    texts, _ = content.read_content(ROOT / "content")
    assert served == {**served, **content.datasette_site(served, texts)}
    queries = served["databases"]["drugbeleid"]["queries"]
    assert [q["name"] for q in texts["feeds"] + texts["examples"]] == list(queries)
    assert all(q["sql"] == queries[q["name"]]["sql"] for q in texts["feeds"] + texts["examples"])


async def test_a_value_label_comes_from_beside_its_field(datasette):
    """The unit of a statistic, labelled on its row page from value_labels in statistics.json."""
    schema = json.loads((ROOT / "datasets" / "schemas" / "statistics.json").read_text(encoding="utf-8"))
    units = next(f for f in schema["fields"] if f["name"] == "unit")["value_labels"]
    row = (await datasette.client.get("/drugbeleid/statistics.json?_shape=array&unit=percent&_size=1")).json()[0]
    for lang, key in (("nl", "label_nl"), ("en", "label")):
        page = parse((await datasette.client.get(f"/drugbeleid/statistics/{row['id']}?_lang={lang}")).text)
        assert units["percent"][key] in page.find("dl").text(), lang


COUNTED_IN_WORDS = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|twee|drie|vier|vijf|zes|zeven|acht|negen|tien)\s+"
    r"([\w-]+\s+){0,2}(source|sources|documents?|brondocumenten|documenten|bronnen|justice houses|justitiehuizen)\b",
    re.IGNORECASE,
)
TEXTS = [
    "metadata.yml",
    "templates/home.html",
    "locale/nl/LC_MESSAGES/messages.po",
    "CITATION.cff",
    "README.md",
    "datasets/datapackage.json",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "content").glob("*.yml")),
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")),
]


def test_no_text_counts_the_sources_by_hand():
    """A new source would make such a count wrong: it is computed from the data, or not written."""
    found = [
        f"{name}: {m.group(0)!r}"
        for name in TEXTS
        for m in COUNTED_IN_WORDS.finditer((ROOT / name).read_text(encoding="utf-8"))
    ]
    assert found == []


async def test_the_home_page_counts_the_documents_from_the_data(datasette):
    documents = (await datasette.client.get("/drugbeleid/documents.json?_shape=array&_size=max")).json()
    for lang in ("nl", "en"):
        text = parse((await datasette.client.get(f"/?_lang={lang}")).text).find("main").text()
        assert (
            len(
                re.findall(
                    rf"\b{len(documents)} (Nederlandstalige|Dutch-language|openbare|public) documenten|"
                    rf"\b{len(documents)} (Nederlandstalige|Dutch-language|openbare|public) documents",
                    text,
                )
            )
            == 2
        ), lang


async def test_the_api_description_carries_the_labels_of_the_schemas(datasette):
    spec = (await datasette.client.get("/openapi.json")).json()
    schema = json.loads((ROOT / "datasets" / "schemas" / "statistics.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f for f in schema["fields"]}
    unit = spec["components"]["schemas"]["statistics.row"]["properties"]["unit"]
    assert unit["x-label"] == {"en": fields["unit"]["label"], "nl": fields["unit"]["label_nl"]}
    assert unit["x-value-labels"] == {
        value: {"en": words["label"], "nl": words["label_nl"]}
        for value, words in fields["unit"]["value_labels"].items()
    }
