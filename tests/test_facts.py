"""Spot values from each of the source documents, read back through the JSON API."""

from __future__ import annotations

import urllib.parse


async def sql(datasette, query: str, **params) -> list[dict]:
    qs = urllib.parse.urlencode({"sql": query, "_shape": "objects", **params})
    response = await datasette.client.get(f"/drugbeleid.json?{qs}")
    assert response.status_code == 200, response.text
    return response.json()["rows"]


# vraag-69-2022: Tabel 1 and Tabel 2
async def test_tabel_1_caseload(datasette):
    rows = await sql(
        datasette,
        "select justice_house_id, year, dossiers, period_complete from caseload "
        "where document_id = 'vraag-69-2022' order by year, justice_house_id",
    )
    assert len(rows) == 20  # the table of that answer: 5 justice houses, 2019-2022
    assert {"justice_house_id": "gent", "year": 2021, "dossiers": 76, "period_complete": 1} in rows
    assert {"justice_house_id": "turnhout", "year": 2022, "dossiers": 11, "period_complete": 0} in rows
    assert all(r["period_complete"] == (r["year"] < 2022) for r in rows)


async def test_tabel_2_staffing_and_the_printed_total_that_is_not_the_sum(datasette):
    rows = await sql(datasette, "select justice_house_id, fte, reference_date from staffing")
    assert {"justice_house_id": "antwerpen", "fte": 0.92, "reference_date": "2022-10-14"} in rows
    total = await sql(datasette, "select printed_total from printed_totals where id = 'staffing-2022-10-14'")
    assert total == [{"printed_total": 2.56}]
    assert round(sum(r["fte"] for r in rows), 2) == 2.57
    warning = await sql(
        datasette, "select status, detail from data_quality where \"check\" = 'reconciliation:staffing-2022-10-14'"
    )
    assert warning == [
        {
            "status": "warning",
            "detail": "staffing 2022-10-14: printed total 2.56 fte, sum of 5 rows 2.57 fte: differ by 0.01; both are published, the printed total as it stands",
        }
    ]


async def test_tabel_1_totals_reconcile(datasette):
    rows = await sql(datasette, "select status from data_quality where \"check\" like 'reconciliation:caseload-%'")
    assert [r["status"] for r in rows] == ["pass"] * 7


async def test_document_metadata(datasette):
    rows = await sql(datasette, "select id, question_number, date, asked_by, answered_by from documents order by id")
    by_id = {r["id"]: r for r in rows}
    assert by_id["vraag-69-2022"] == {
        "id": "vraag-69-2022",
        "question_number": 69,
        "date": "2022-10-11",
        "asked_by": "Adeline Blancquaert",
        "answered_by": "Zuhal Demir",
    }
    assert by_id["vraag-681-2023"]["answered_by"] == "Hilde Crevits"
    # the third question's number and date are not in its text: NULL, with the reason
    unknown = await sql(
        datasette, "select question_number, date, date_note from documents where id = 'vraag-dbk-liaisons'"
    )
    assert unknown[0]["question_number"] is None and unknown[0]["date"] is None
    assert "Not stated" in unknown[0]["date_note"]


# vraag-681-2023: transition provision until 01.01.2028
async def test_transition_provision_2028(datasette):
    rows = await sql(
        datasette,
        "select date, date_precision, quote from events where document_id = 'vraag-681-2023' and (date = '2028-01-01' or end_date = '2028-01-01')",
    )
    assert rows and "01.01.2028" in rows[0]["quote"]


# vraag-dbk-liaisons: recidivism 38,6 % against 56,1 %
async def test_recidivism_dbk_versus_classical(datasette):
    rows = await sql(
        datasette,
        "select value, unit from statistics where document_id = 'vraag-dbk-liaisons' and topic = 'recidivism' order by value",
    )
    values = [r["value"] for r in rows]
    assert 38.6 in values and 56.1 in values and 75 in values  # "drie vierde" is 75
    assert {r["unit"] for r in rows} == {"percent"}


# nota-reintegratie-detentie: 60 % ever used an illegal drug (Van Malderen, 2011)
async def test_prison_prevalence(datasette):
    rows = await sql(
        datasette,
        "select value, unit, cited_study from statistics where document_id = 'nota-reintegratie-detentie' and value = 60",
    )
    assert rows and rows[0]["unit"] == "percent" and "Van Malderen" in rows[0]["cited_study"]


async def test_recommendations_include_law_changes(datasette):
    rows = await sql(datasette, "select quote from recommendations where document_id = 'nota-reintegratie-detentie'")
    assert len(rows) >= 15
    assert any("wetswijziging" in r["quote"] for r in rows)


# presentatie-who-cares: objective 10, by end 2016
async def test_strategic_objective_10(datasette):
    rows = await sql(datasette, "select number, deadline from strategic_objectives order by number")
    assert rows[0] == {"number": 10, "deadline": "2016"}
    assert [r["number"] for r in rows] == [10, 11, 12]


async def test_no_email_address_anywhere(datasette, built):
    import sqlite_utils

    db = sqlite_utils.Database(built)
    for table in db.table_names():
        for row in db[table].rows:
            assert not any(isinstance(v, str) and "@" in v for v in row.values()), (table, row)
    rows = await sql(datasette, "select text from passages where text like '%verwijderd%'")
    assert any("[e-mailadres verwijderd]" in r["text"] for r in rows)
