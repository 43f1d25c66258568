"""Every verbatim value can be found again, through the API, on the source lines the build recorded."""

from __future__ import annotations

from datasette.utils import tilde_encode

from scripts.text import normalise, redact

from .conftest import DATASETS


async def test_every_quote_location_points_at_its_value(datasette):
    documents = (await datasette.client.get("/drugbeleid/documents.json?_shape=objects")).json()["rows"]
    lines = {
        d["id"]: (DATASETS / "sources" / d["source_file"]).read_text(encoding="utf-8").splitlines() for d in documents
    }
    locations = (await datasette.client.get("/drugbeleid/quote_locations.json?_shape=objects&_size=max")).json()
    assert locations["rows"] and not locations.get("next")
    tables = {loc["table_name"] for loc in locations["rows"]}
    assert {"caseload", "staffing", "statistics", "events", "recommendations", "citations"} <= tables
    for loc in locations["rows"]:
        key = ",".join(tilde_encode(part) for part in loc["row_key"].split(","))
        response = await datasette.client.get(f"/drugbeleid/{loc['table_name']}/{key}.json?_shape=objects")
        assert response.status_code == 200, loc
        value = response.json()["rows"][0][loc["column_name"]]
        source = normalise(redact("\n".join(lines[loc["document_id"]][loc["line_start"] - 1 : loc["line_end"]])))
        assert normalise(value) in source, loc


async def test_passage_of_a_quote(datasette):
    response = await datasette.client.get(
        "/drugbeleid/quote_locations.json?_shape=objects&table_name=staffing&row_key=brugge,2022-10-14"
    )
    row = response.json()["rows"][0]
    passage = (await datasette.client.get(f"/drugbeleid/passages/{row['passage_id']}.json?_shape=objects")).json()[
        "rows"
    ][0]
    assert "Justitiehuis Brugge 0.50 VTE" in passage["text"]
    assert row["line_start"] == 113


async def test_a_row_page_states_licence_and_source_even_as_the_first_page_served(datasette):
    """Datasette's table page fills a table's licence and source in from the site's, in place; a row
    page served before any table page must show them as well (a fresh server for each test)."""
    for path, words, documents_page in (
        ("/drugbeleid/caseload/antwerpen,2022", ("Licentie van de data:", "Bron van de data:"), "/documents"),
        (
            "/drugbeleid/statistics/recidivism-dbk-group?_lang=en",
            ("Data license:", "Data source:"),
            "/documents?_lang=en",
        ),
    ):
        response = await datasette.client.get(path)
        assert response.status_code == 200
        for word in words:
            assert word in response.text, (path, word)
        assert '<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>' in response.text, path
        assert f'href="{documents_page}"' in response.text, path  # the source: the site's documents page
