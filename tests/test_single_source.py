"""Each description is written once: change it in the descriptor, and every output shows the change."""

from __future__ import annotations

import asyncio
import html
import json


from scripts.build import build

from .conftest import ROOT, in_process

CHANGED_NL = "Gewijzigde beschrijving van de dossiers, één keer geschreven."
CHANGED_EN = "Changed description of the dossiers, written once."
CHANGED_TABLE_EN = "A changed table description, written once."


async def test_a_changed_description_reaches_every_output(datasets_copy, tmp_path):
    schema_path = datasets_copy / "schemas" / "caseload.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    field = next(f for f in schema["fields"] if f["name"] == "dossiers")
    field["description_nl"], field["description"] = CHANGED_NL, CHANGED_EN
    schema_path.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    package_path = datasets_copy / "datapackage.json"
    package = json.loads(package_path.read_text(encoding="utf-8"))
    next(r for r in package["resources"] if r["name"] == "caseload")["description"] = CHANGED_TABLE_EN
    package_path.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")

    out = tmp_path / "build" / "drugbeleid.db"
    await asyncio.to_thread(build, datasets_copy, out, ROOT / "metadata.yml")  # build runs its own event loop
    datasette = in_process(out, settings=None)

    page = html.unescape((await datasette.client.get("/drugbeleid/caseload")).text)
    assert CHANGED_NL in page and CHANGED_EN in page and CHANGED_TABLE_EN in page

    served = (await datasette.client.get("/-/metadata.json")).json()
    assert CHANGED_EN in served["databases"]["drugbeleid"]["tables"]["caseload"]["columns"]["dossiers"]

    resource = next(
        r for r in (await datasette.client.get("/datapackage.json")).json()["resources"] if r["name"] == "caseload"
    )
    assert resource["description"] == CHANGED_TABLE_EN
    assert next(f for f in resource["schema"]["fields"] if f["name"] == "dossiers")["description"] == CHANGED_EN

    openapi = json.dumps((await datasette.client.get("/openapi.json")).json(), ensure_ascii=False)
    assert CHANGED_EN in openapi

    raw_page = (await datasette.client.get("/drugbeleid/caseload")).text
    start = raw_page.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    schema_org = json.loads(raw_page[start : raw_page.index("</script>", start)])
    assert CHANGED_TABLE_EN in json.dumps(schema_org, ensure_ascii=False)

    catalog = (await datasette.client.get("/catalog.ttl")).text
    assert CHANGED_TABLE_EN in catalog
