"""The DCAT-AP 3.0.1 / DCAT-AP-VL catalogue and schema.org JSON-LD, checked offline against the official SHACL shapes."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from datasette.app import Datasette
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, OWL, RDF, SH, XSD

from scripts import catalog
from scripts.build import build

from .conftest import PACKAGE, ROOT, TABLES, in_process

SHAPES = Path(__file__).resolve().parent.parent / "data" / "shapes"  # the shapes the site itself scores with
SPLIT = SHAPES / "3.0.1" / "split"
FLEMISH_SHAPES = SHAPES / "dcat-ap-vl" / "DCAT-AP-VL-SHACL.normalised.ttl"
DATASETS = TABLES + ["drugbeleid"]  # one dataset per table, and the whole database
SPDX = catalog.SPDX
AUTHORITY = "http://publications.europa.eu/resource/authority/"
SCRIPT = '<script type="application/ld+json">'
# rdflib's own JSON-LD parser still uses its deprecated ConjunctiveGraph internally.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    """The usual DCAT-AP validation set, merged: pyshacl takes one shapes graph."""
    graph = Graph()
    for name in ("shapes.ttl", "range.ttl", "mdr-vocabularies.shape.ttl"):
        graph.parse(SPLIT / name, format="turtle")
    return graph


@pytest.fixture(scope="module")
def flemish_shapes() -> Graph:
    """DCAT-AP-VL 2026-02-12, the profile the Flemish portal harvests against."""
    return Graph().parse(FLEMISH_SHAPES, format="turtle")


def serve(database: Path) -> Datasette:
    return in_process(database)


@pytest.fixture
def site(built) -> Datasette:
    return serve(built)


async def served_graph(datasette: Datasette, path="/catalog.ttl", fmt="turtle", **kwargs) -> Graph:
    response = await datasette.client.get(path, **kwargs)
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.text, format=fmt)


def results(report: Graph) -> list[dict]:
    return [
        {
            "severity": report.value(r, SH.resultSeverity),
            "path": report.value(r, SH.resultPath),
            "focus": report.value(r, SH.focusNode),
        }
        for r in report.objects(None, SH.result)
    ]


def test_the_shapes_are_the_official_ones():
    for line in (SHAPES / "MANIFEST.sha256").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((SHAPES / name).read_bytes()).hexdigest() == digest, name


async def test_catalog_conforms_to_dcat_ap(site, shapes):
    graph = await served_graph(site)
    conforms, report, text = validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert conforms, text
    # Strictly, only warnings remain, and only one kind: our publisher is not an EU corporate body
    # (the shapes suggest, at severity Warning, a publisher from the EU corporate-bodies list).
    _, report, _ = validate(graph, shacl_graph=shapes, inference="none")
    found = results(report)
    assert {(r["severity"], r["path"]) for r in found} == {(SH.Warning, DCT.publisher)}
    assert len(found) == 1 + len(DATASETS)  # the catalogue and each dataset name the same publisher


@pytest.mark.parametrize("path,fmt", [("/catalog.ttl", "turtle"), ("/catalog.jsonld", "json-ld")])
async def test_catalog_conforms_to_dcat_ap_vl_and_dcat_ap(site, shapes, flemish_shapes, path, fmt):
    graph = await served_graph(site, path, fmt)
    conforms, report, text = validate(graph, shacl_graph=flemish_shapes, inference="none")
    assert conforms, text
    assert results(report) == []  # no violation, and no warning either
    assert validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True)[0]


def without(graph: Graph, subject, predicate) -> Graph:
    changed = Graph()
    for triple in graph:
        changed.add(triple)
    assert (subject, predicate, None) in changed, (subject, predicate)
    changed.remove((subject, predicate, None))
    return changed


@pytest.mark.parametrize(
    "subject,predicate",
    [
        ("http://localhost/drugbeleid/caseload#csv", DCT.identifier),  # a distribution's identifier
        ("http://localhost/drugbeleid/caseload#dataset", DCT.identifier),  # a dataset's identifier
        ("http://localhost/drugbeleid/caseload#dataset", DCT.accessRights),
        ("http://localhost/drugbeleid/caseload#dataset", DCAT.contactPoint),
        ("http://localhost/#catalog", DCT.identifier),
        ("http://localhost/#catalog", DCAT.contactPoint),
        ("http://localhost/#publisher", FOAF.name),
    ],
)
async def test_removing_a_flemish_mandatory_property_fails(site, shapes, flemish_shapes, subject, predicate):
    graph = without(await served_graph(site), URIRef(subject), predicate)
    conforms, report, _ = validate(graph, shacl_graph=flemish_shapes, inference="none")
    assert not conforms
    assert {"severity": SH.Violation, "path": predicate, "focus": URIRef(subject)} in results(report)


async def test_the_flemish_profile_rejects_a_second_contact_point_and_untagged_keywords(site, flemish_shapes):
    graph = await served_graph(site)
    dataset = URIRef("http://localhost/drugbeleid/caseload#dataset")
    graph.add((dataset, DCAT.contactPoint, URIRef("http://localhost/#another-contact")))
    graph.add((URIRef("http://localhost/#another-contact"), RDF.type, catalog.VCARD.Kind))
    graph.add((dataset, DCAT.keyword, Literal("untagged")))
    conforms, report, _ = validate(graph, shacl_graph=flemish_shapes, inference="none")
    found = results(report)
    assert not conforms
    assert {"severity": SH.Violation, "path": DCAT.contactPoint, "focus": dataset} in found
    assert {"severity": SH.Violation, "path": DCAT.keyword, "focus": dataset} in found


async def test_publisher_and_contact_point_are_an_organisation_from_metadata(site, built):
    graph = await served_graph(site)
    metadata = json.loads((built.parent / "metadata.json").read_text(encoding="utf-8"))
    stated = metadata["plugins"]["drugbeleid"]["contact_point"]
    catalogue = graph.value(predicate=RDF.type, object=DCAT.Catalog)
    publisher = graph.value(catalogue, DCT.publisher)
    assert {DCT.Agent, FOAF.Agent, FOAF.Organization} <= set(graph.objects(publisher, RDF.type))
    for subject in [catalogue, *graph.subjects(RDF.type, DCAT.Dataset)]:
        contacts = list(graph.objects(subject, DCAT.contactPoint))
        assert len(contacts) == 1, subject
    contact = contacts[0]
    assert catalog.VCARD.Organization in set(graph.objects(contact, RDF.type))
    assert Literal(stated["name"], lang="nl") in set(graph.objects(contact, catalog.VCARD.fn))
    assert graph.value(contact, catalog.VCARD.hasURL) == URIRef("http://localhost" + stated["url"])
    assert graph.value(contact, catalog.VCARD.hasEmail) is None  # none is stated in metadata.yml
    text = (await site.client.get("/catalog.ttl")).text
    assert "mailto:" not in text and "@" not in text.replace("@prefix", "").replace("@nl", "").replace("@en", "")


async def test_a_catalog_without_its_title_fails(site, shapes):
    graph = await served_graph(site)
    catalogue = graph.value(predicate=RDF.type, object=DCAT.Catalog)
    graph.remove((catalogue, DCT.title, None))
    conforms, report, _ = validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert not conforms
    assert {"severity": SH.Violation, "path": DCT.title, "focus": catalogue} in results(report)


async def test_a_distribution_without_access_url_fails(site, shapes):
    graph = await served_graph(site)
    distribution = URIRef("http://localhost/drugbeleid/caseload#csv")
    assert (distribution, DCAT.accessURL, None) in graph
    graph.remove((distribution, DCAT.accessURL, None))
    conforms, report, _ = validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert not conforms
    violations = [r for r in results(report) if r["severity"] == SH.Violation]
    assert violations == [{"severity": SH.Violation, "path": DCAT.accessURL, "focus": distribution}]


async def test_jsonld_holds_the_same_triples(site):
    turtle = await served_graph(site)
    response = await site.client.get("/catalog.jsonld")
    assert response.headers["content-type"].startswith("application/ld+json")
    assert json.loads(response.text)["@context"]["dcat"] == str(DCAT)
    jsonld = Graph().parse(data=response.text, format="json-ld")
    assert len(jsonld) == len(turtle) > 1000
    assert isomorphic(jsonld, turtle)


async def test_catalog_describes_every_table_and_the_whole_database(site, built):
    response = await site.client.get("/catalog.ttl")
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    graph = Graph().parse(data=response.text, format="turtle")
    release = json.loads((built.parent / "release.json").read_text())
    base = "http://localhost/"

    catalogues = list(graph.subjects(RDF.type, DCAT.Catalog))
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(catalogues) == 1
    whole = URIRef(f"{base}drugbeleid#dataset")
    assert (
        datasets
        == {URIRef(f"{base}drugbeleid/{t}#dataset") for t in TABLES} | {whole}
        == set(graph.objects(catalogues[0], DCAT.dataset))
    )
    assert len(set(graph.subjects(RDF.type, DCAT.Distribution))) == 2 * len(TABLES) + 2

    publisher = graph.value(catalogues[0], DCT.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph and (publisher, RDF.type, DCT.Agent) in graph
    assert Literal("Open data drugbeleid", lang="nl") in set(graph.objects(publisher, FOAF.name))

    # The EU licence vocabulary's term for CC BY 4.0, matched to the licence's own URL.
    licence = URIRef(AUTHORITY + "licence/CC_BY_4_0")
    assert graph.value(licence, catalog.SKOS.exactMatch) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert graph.value(licence, catalog.SKOS.inScheme) == URIRef(AUTHORITY + "licence")
    for table in TABLES:
        dataset = URIRef(f"{base}drugbeleid/{table}#dataset")
        assert {str(t) for t in graph.objects(dataset, DCAT.theme)} == {
            AUTHORITY + f"data-theme/{c}" for c in ("JUST", "HEAL", "SOCI")
        }
        assert graph.value(dataset, DCT.language) == URIRef(AUTHORITY + "language/NLD")
        assert graph.value(dataset, DCT.accessRights) == URIRef(AUTHORITY + "access-right/PUBLIC")
        assert graph.value(dataset, DCT.spatial) == URIRef("https://sws.geonames.org/3337388/")
        assert graph.value(dataset, DCT.modified) == Literal(release["date"], datatype=XSD.date)
        assert graph.value(dataset, catalog.DCAT_VERSION) == Literal(release["semver"])
        assert graph.value(dataset, OWL.versionInfo) == Literal(release["version"])
        assert graph.value(dataset, DCT.identifier) == Literal(f"drugbeleid/{table}")
        assert graph.value(graph.value(dataset, DCAT.contactPoint), catalog.VCARD.hasURL) == URIRef(base)
        keywords = set(graph.objects(dataset, DCAT.keyword))
        assert keywords and {k.language for k in keywords} == {"nl", "en"}
        assert Literal("drugopvolgingskamer", lang="nl") in keywords
        assert graph.value(dataset, DCT.issued) == Literal(release["date"], datatype=XSD.date)
        assert graph.value(dataset, DCT.temporal) is not None
        languages = {t.language for t in graph.objects(dataset, DCT.title)}
        assert languages == {t.language for t in graph.objects(dataset, DCT.description)} == {"nl", "en"}

        csv = URIRef(f"{base}drugbeleid/{table}#csv")
        assert graph.value(csv, DCAT.downloadURL) == URIRef(f"{base}data/{table}.csv")
        assert graph.value(csv, DCT.format) == URIRef(AUTHORITY + "file-type/CSV")
        assert graph.value(csv, DCAT.byteSize).toPython() == release["tables"][table]["bytes"]
        assert (
            str(graph.value(graph.value(csv, SPDX.checksum), SPDX.checksumValue)) == release["tables"][table]["sha256"]
        )
        json_api = URIRef(f"{base}drugbeleid/{table}#json")
        assert graph.value(json_api, DCAT.accessURL) == URIRef(f"{base}drugbeleid/{table}.json")
        assert graph.value(json_api, DCT.format) == URIRef(AUTHORITY + "file-type/JSON")
        # every table fits in one page (at most 1000 rows): the whole table is one JSON download
        download = f"{base}drugbeleid/{table}.json?_shape=array&_size=max"
        assert graph.value(json_api, DCAT.downloadURL) == URIRef(download)
        whole_table = await site.client.get(download.replace(base, "/"))
        assert graph.value(json_api, DCAT.byteSize).toPython() == len(whole_table.content)
        assert (
            len(whole_table.json())
            == (await site.client.get(f"/drugbeleid/{table}.json?_size=0")).json()["filtered_table_rows_count"]
        )
        for distribution in (csv, json_api):
            assert graph.value(distribution, DCT.license) == licence
            assert graph.value(distribution, DCT.rights) == URIRef(f"{base}#rights")

    sqlite = URIRef(f"{base}drugbeleid#sqlite")
    assert set(graph.objects(whole, DCAT.distribution)) == {sqlite, URIRef(f"{base}drugbeleid#zip")}
    assert graph.value(sqlite, DCAT.downloadURL) == URIRef(f"{base}drugbeleid.db")
    assert str(graph.value(graph.value(sqlite, SPDX.checksum), SPDX.checksumValue)) == release["database"]["sha256"]
    assert graph.value(URIRef(f"{base}drugbeleid#zip"), DCAT.byteSize).toPython() == release["zip"]["bytes"]
    rights = str(graph.value(URIRef(f"{base}#rights"), catalog.RDFS.label))
    assert "CC BY 4.0" in rights and "No licence is stated in the documents themselves" in rights

    # Vocabulary terms carry their scheme in our own graph (no network to look them up).
    for term, scheme in [
        (AUTHORITY + "data-theme/JUST", "data-theme"),
        (AUTHORITY + "file-type/CSV", "file-type"),
        (AUTHORITY + "language/NLD", "language"),
        (AUTHORITY + "access-right/PUBLIC", "access-right"),
    ]:
        assert graph.value(URIRef(term), catalog.SKOS.inScheme) == URIRef(AUTHORITY + scheme)


async def test_temporal_coverage_comes_from_the_data(site):
    graph = await served_graph(site)

    def span(table):
        period = graph.value(URIRef(f"http://localhost/drugbeleid/{table}#dataset"), DCT.temporal)
        return str(graph.value(period, DCAT.startDate)), str(graph.value(period, DCAT.endDate))

    years = [row["year"] for row in (await site.client.get("/drugbeleid/caseload.json?_shape=array&_size=max")).json()]
    assert span("caseload") == (str(min(years)), str(max(years)))
    assert span("staffing") == ("2022-10-14", "2022-10-14")
    everything = catalog.span_of([s for t in TABLES for s in span(t)])
    assert span("data_quality") == span("glossary") == everything  # no dates of their own: the catalogue's span


def test_a_span_runs_from_the_earliest_start_to_the_latest_end():
    assert catalog.span_of(["2013-03-08", "2013", "2006-05-17", None, ""]) == ("2006-05-17", "2013")
    assert catalog.span_of([2016, 2022]) == ("2016", "2022")
    assert catalog.span_of(["2022-02", "2022-02-28"]) in {("2022-02", "2022-02")}
    assert catalog.span_of([]) is None


async def test_catalog_urls_start_with_the_public_base_url_whatever_the_host(site):
    """The catalogue is written once per release for the public base URL (here the default, no
    setting): a request's Host header never reaches it."""
    graph = await served_graph(site, headers={"host": "data.example.org"})
    assert (URIRef("http://localhost/#catalog"), RDF.type, DCAT.Catalog) in graph
    assert not [t for t in graph if "data.example.org" in " ".join(map(str, t))]


async def test_every_table_page_embeds_a_schema_org_dataset(site):
    for resource in PACKAGE["resources"] + PACKAGE["generatedResources"]:
        page = (await site.client.get(f"/drugbeleid/{resource['name']}")).text
        assert page.count(SCRIPT) == 1, resource["name"]
        start = page.index(SCRIPT) + len(SCRIPT)
        dataset = json.loads(page[start : page.index("</script>", start)])
        assert dataset["@type"] == "Dataset"
        assert dataset["name"] == [
            {"@language": "nl", "@value": resource["title_nl"]},
            {"@language": "en", "@value": resource["title"]},
        ]
        assert dataset["description"] == [
            {"@language": "nl", "@value": resource["description_nl"]},
            {"@language": "en", "@value": resource["description"]},
        ]
        assert dataset["url"] == f"http://localhost/drugbeleid/{resource['name']}"
        assert dataset["license"] == "https://creativecommons.org/licenses/by/4.0/"
        assert {d["encodingFormat"] for d in dataset["distribution"]} == {
            "text/csv",
            "application/json",
            "application/vnd.sqlite3",
        }


async def test_a_changed_description_reaches_the_catalogue_and_schema_org(datasets_copy, tmp_path, shapes):
    changed_nl = "Gewijzigde beschrijving van Tabel 1 <met tekens> & één keer geschreven."
    changed_title = "Gewijzigde titel van Tabel 1"
    path = datasets_copy / "datapackage.json"
    package = json.loads(path.read_text(encoding="utf-8"))
    resource = next(r for r in package["resources"] if r["name"] == "caseload")
    resource["description_nl"], resource["title_nl"] = changed_nl, changed_title
    path.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "build" / "drugbeleid.db"
    await asyncio.to_thread(build, datasets_copy, out, ROOT / "metadata.yml")  # build runs its own event loop
    datasette = serve(out)

    graph = await served_graph(datasette)
    dataset = URIRef("http://localhost/drugbeleid/caseload#dataset")
    assert Literal(changed_nl, lang="nl") in set(graph.objects(dataset, DCT.description))
    assert Literal(changed_title, lang="nl") in set(graph.objects(dataset, DCT.title))
    jsonld = await served_graph(datasette, "/catalog.jsonld", "json-ld")
    assert Literal(changed_nl, lang="nl") in set(jsonld.objects(dataset, DCT.description))
    assert validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True)[0]

    page = (await datasette.client.get("/drugbeleid/caseload")).text
    assert changed_nl not in page.split(SCRIPT)[1].split("</script>")[0]  # '<' and '&' escaped inside <script>
    start = page.index(SCRIPT) + len(SCRIPT)
    schema_org = json.loads(page[start : page.index("</script>", start)])
    assert schema_org["name"][0] == {"@language": "nl", "@value": changed_title}
    assert schema_org["description"][0] == {"@language": "nl", "@value": changed_nl}
