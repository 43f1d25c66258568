"""The site says what the data is and is not; every table and column is described in Dutch and English."""

from __future__ import annotations

import json

from .conftest import PACKAGE, ROOT, TABLES


async def test_site_metadata(datasette):
    metadata = (await datasette.client.get("/-/metadata.json")).json()
    assert metadata["license"] and metadata["license_url"] and metadata["source"]
    assert "dossiers, geen personen" in metadata["description_html"]
    assert "dossiers, not\n  persons" in metadata["description_html"] or "dossiers, not persons" in " ".join(
        metadata["description_html"].split()
    )


async def test_every_table_and_column_is_described_in_both_languages(datasette):
    metadata = (await datasette.client.get("/-/metadata.json")).json()
    tables = metadata["databases"]["drugbeleid"]["tables"]
    for table in TABLES:
        assert 'lang="nl"' in tables[table]["description_html"] and 'lang="en"' in tables[table]["description_html"]
        columns = (await datasette.client.get(f"/drugbeleid/{table}.json?_size=0")).json()["columns"]
        for column in set(columns) - {"rowid"}:
            assert " — EN: " in tables[table]["columns"][column], (table, column)


async def test_descriptions_come_from_the_descriptors(datasette):
    """Written once in datasets/schemas, shown on the table page."""
    schema = json.loads((ROOT / "datasets" / "schemas" / "caseload.json").read_text(encoding="utf-8"))
    dossiers = next(f for f in schema["fields"] if f["name"] == "dossiers")
    page = (await datasette.client.get("/drugbeleid/caseload")).text
    import html

    assert html.escape(dossiers["description_nl"], quote=False) in html.unescape(page) or dossiers[
        "description_nl"
    ] in html.unescape(page)
    resource = next(r for r in PACKAGE["resources"] if r["name"] == "caseload")
    assert resource["title_nl"] in html.unescape(page)
