"""The statements table and the source parts, as a user reaches them through HTTP: the rows with their
verbatim quotes, the coverage per document in data_quality, and the table in the data package, the
catalogue, OpenAPI, search, the sitemap and the release's changes.json."""

from __future__ import annotations

from urllib.parse import quote

from scripts.coverage import slides_of

from .conftest import DATASETS, read_csv

STATEMENTS = read_csv("statements")
PARTS = read_csv("source_parts")


async def rows(datasette, path: str) -> list[dict]:
    response = await datasette.client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def test_every_statement_is_served_with_its_quote_located_in_its_part(datasette):
    served = await rows(datasette, "/drugbeleid/statements.json?_shape=array&_size=max")
    assert {r["id"] for r in served} == {r["id"] for r in STATEMENTS}
    located = await rows(datasette, "/drugbeleid/quote_locations.json?_shape=array&_size=max&table_name=statements")
    where = {r["row_key"]: (r["line_start"], r["line_end"]) for r in located if r["column_name"] == "quote"}
    parts = {p["id"]: p for p in PARTS}
    for statement in served:
        assert statement["id"] in where, f"{statement['id']}: quote not located"
        assert statement["statement"] and statement["statement_nl"], statement["id"]
        if statement["source_part_id"]:
            part = parts[statement["source_part_id"]]
            assert part["document_id"] == statement["document_id"]
            assert (
                int(part["line_start"])
                <= where[statement["id"]][0]
                <= where[statement["id"]][1]
                <= int(part["line_end"])
            )


async def test_statements_link_to_drug_courts_and_justice_houses(datasette):
    linked = await rows(
        datasette,
        "/drugbeleid.json?_shape=array&sql="
        + quote(
            "select s.id, d.name_en, j.name from statements s left join drug_courts d on d.id = s.drug_court_id "
            "left join justice_houses j on j.id = s.justice_house_id where s.drug_court_id is not null or s.justice_house_id is not null"
        ),
    )
    expected = [s for s in STATEMENTS if s["drug_court_id"] or s["justice_house_id"]]
    assert expected and len(linked) == len(expected)
    assert all(r["name_en"] or r["name"] for r in linked)


async def test_every_answer_item_and_slide_has_a_part_and_the_coverage_is_reported(datasette):
    answers = read_csv("answer_items")
    parts = {(p["document_id"], p["kind"], p["number"]) for p in PARTS}
    assert {(a["document_id"], "answer_item", a["items"]) for a in answers} <= parts
    presentations = [d for d in read_csv("documents") if d["kind"] == "presentation"]
    for document in presentations:
        text = (DATASETS / "sources" / document["source_file"]).read_text(encoding="utf-8")
        assert {(document["id"], "slide", str(n)) for n, _, _ in slides_of(text)} <= parts
    quality = {r["check"]: r for r in await rows(datasette, "/drugbeleid/data_quality.json?_shape=array&_size=max")}
    assert quality["source_coverage"]["status"] == "pass"
    for document in {p["document_id"] for p in PARTS}:
        own = [p for p in PARTS if p["document_id"] == document]
        none = sum(bool(p["no_facts_reason"]) for p in own)
        row = quality[f"coverage:{document}"]
        assert (
            f"{len(own) - none} of {len(own)} " in row["detail"]
            and f", {none} recorded as holding none" in row["detail"]
        )
        assert f"{len(own) - none} van {len(own)} " in row["detail_nl"]


async def test_a_part_without_facts_says_why_in_both_languages(datasette):
    served = await rows(datasette, "/drugbeleid/source_parts.json?_shape=array&_size=max&no_facts_reason__notblank=1")
    assert served, "some slides hold no facts (a heading, a contact address)"
    assert all(p["no_facts_reason_nl"] for p in served)


async def test_the_table_reaches_the_data_package_catalogue_openapi_search_and_sitemap(datasette):
    package = (await datasette.client.get("/datapackage.json")).json()
    assert {"statements", "source_parts"} <= {r["name"] for r in package["resources"]}
    catalogue = (await datasette.client.get("/catalog.ttl")).text
    assert "/drugbeleid/statements" in catalogue and "/drugbeleid/source_parts" in catalogue
    openapi = (await datasette.client.get("/openapi.json")).json()
    assert any("/statements" in path for path in openapi["paths"])
    sitemap = (await datasette.client.get("/sitemap.xml")).text
    assert "/drugbeleid/statements" in sitemap
    found = (await datasette.client.get("/search.json?q=" + quote("wachtlijsten") + "&table=statements")).json()
    assert {r["row_key"] for r in found["results"]} >= {"waiting-lists-referral"}


async def test_the_release_lists_the_new_tables_in_changes_json(datasette):
    version = (await datasette.client.get("/datapackage.json")).json()["version"]
    response = await datasette.client.get(f"/releases/{version}/changes.json")
    assert response.status_code == 200, response.text
    changes = response.json()
    for table in ("statements", "source_parts"):
        summary = changes["summary"][table]
        if table in changes["tables_added"]:  # new since the previous release: every row is added
            assert summary["status"] == "added", summary
            assert summary["rows_added"] == len(read_csv(table)), summary
        else:  # once a release has it, it is compared row by row like every other table
            assert summary["status"] == "kept", summary
