"""The catalogue scored by data.europa.eu's Metadata Quality Assessment (MQA), indicator by indicator.

    python -m scripts.mqa            # make mqa: serve the build on a free 127.0.0.1 port, score it live
    python -m scripts.mqa --url URL  # score the catalogue served at URL (its /catalog.ttl)

The points are those of data.europa.eu's published MQA methodology: 405 in five
dimensions. Reading used here (docs/catalog.md, "MQA"):
- every indicator is scored per dataset; a distribution-level indicator (access and download URL,
  format, media type, licence, rights, byte size) earns its points for a dataset only when every
  distribution of the dataset meets it (the strictest reading, as yoda-validator's mqaMetrics.py
  applies it: an indicator's weight is given once, and only if all its instances meet it);
- date of issue and modification are asked of the dataset and of each of its distributions;
- DCAT-AP compliance: no SHACL violation (warnings allowed) of the official DCAT-AP 3.0.1 shapes
  on the dataset or its distributions;
- the catalogue's score is the mean of its datasets' scores (rounded down).

Where the accessibility checks run is the caller's choice (`reachable`): over HTTP against the
served URLs (make mqa, tests/test_mqa.py), in process against the site's own routes
(/-/mqa.json), or, at build time, "does the URL name a file or table this release publishes"
(the data_quality rows; nothing is served yet).
"""

from __future__ import annotations

import argparse
import math
import sys
import urllib.error
import urllib.request
from pathlib import Path
from collections.abc import Callable

from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, RDF, SH, SKOS

from .catalog import AUTHORITY, IANA
from .text import dutch_number

ROOT = Path(__file__).resolve().parent.parent
EU_SHAPES = [
    ROOT / "data" / "shapes" / "3.0.1" / "split" / name
    for name in ("shapes.ttl", "range.ttl", "mdr-vocabularies.shape.ttl")
]
MAX = 405
RATINGS = [(351, "Excellent"), (221, "Good"), (121, "Sufficient"), (0, "Bad")]
EXCELLENT = 351

# The EU file types this catalogue uses, as data.europa.eu's own vocabularies classify them
# (edp-non-proprietary-format, edp-machine-readable-format). Only formats the catalogue names are
# listed; a format not listed here earns no point for either.
NON_PROPRIETARY = {"CSV", "JSON"}
MACHINE_READABLE = {"CSV", "JSON"}

# (id, dimension, indicator, points, level): level "dataset" or "distribution" (every distribution)
INDICATORS = [
    ("keyword", "findability", "dcat:keyword present", 30, "dataset"),
    ("theme", "findability", "dcat:theme present", 30, "dataset"),
    ("spatial", "findability", "dct:spatial present", 20, "dataset"),
    ("temporal", "findability", "dct:temporal present", 20, "dataset"),
    ("access_url_reachable", "accessibility", "dcat:accessURL answers (2xx/3xx)", 50, "distribution"),
    ("download_url", "accessibility", "dcat:downloadURL present", 20, "distribution"),
    ("download_url_reachable", "accessibility", "dcat:downloadURL answers (2xx/3xx)", 30, "distribution"),
    ("format", "interoperability", "dct:format present", 20, "distribution"),
    ("media_type", "interoperability", "dcat:mediaType present", 10, "distribution"),
    (
        "format_vocabulary",
        "interoperability",
        "format and media type from controlled vocabularies (EU file types, IANA)",
        10,
        "distribution",
    ),
    ("non_proprietary", "interoperability", "format non-proprietary", 20, "distribution"),
    ("machine_readable", "interoperability", "format machine-readable", 20, "distribution"),
    ("dcat_ap_compliance", "interoperability", "DCAT-AP 3.0.1 compliance (SHACL, no violation)", 30, "dataset"),
    ("licence", "reusability", "dct:license present", 20, "distribution"),
    ("licence_vocabulary", "reusability", "licence from the EU licence vocabulary", 10, "distribution"),
    ("access_rights", "reusability", "dct:accessRights present", 10, "dataset"),
    ("access_rights_vocabulary", "reusability", "access rights from the EU access-right vocabulary", 5, "dataset"),
    ("contact_point", "reusability", "dcat:contactPoint present", 20, "dataset"),
    ("publisher", "reusability", "dct:publisher present", 10, "dataset"),
    ("rights", "contextuality", "dct:rights present", 5, "distribution"),
    ("byte_size", "contextuality", "dcat:byteSize present", 5, "distribution"),
    ("issued", "contextuality", "dct:issued present (dataset and distributions)", 5, "dataset"),
    ("modified", "contextuality", "dct:modified present (dataset and distributions)", 5, "dataset"),
]
DIMENSIONS = {"findability": 100, "accessibility": 100, "interoperability": 110, "reusability": 75, "contextuality": 20}
assert sum(i[3] for i in INDICATORS) == MAX == sum(DIMENSIONS.values())

# The same in Dutch, for data_quality.detail_nl. The ratings keep the methodology's own names.
DIMENSIONS_NL = {
    "findability": "vindbaarheid",
    "accessibility": "toegankelijkheid",
    "interoperability": "interoperabiliteit",
    "reusability": "herbruikbaarheid",
    "contextuality": "context",
}
INDICATORS_NL = {
    "keyword": "dcat:keyword aanwezig",
    "theme": "dcat:theme aanwezig",
    "spatial": "dct:spatial aanwezig",
    "temporal": "dct:temporal aanwezig",
    "access_url_reachable": "dcat:accessURL antwoordt (2xx/3xx)",
    "download_url": "dcat:downloadURL aanwezig",
    "download_url_reachable": "dcat:downloadURL antwoordt (2xx/3xx)",
    "format": "dct:format aanwezig",
    "media_type": "dcat:mediaType aanwezig",
    "format_vocabulary": "formaat en mediatype uit gecontroleerde vocabularia (EU-bestandstypes, IANA)",
    "non_proprietary": "formaat niet-propriëtair",
    "machine_readable": "formaat machineleesbaar",
    "dcat_ap_compliance": "conform DCAT-AP 3.0.1 (SHACL, geen overtreding)",
    "licence": "dct:license aanwezig",
    "licence_vocabulary": "licentie uit het EU-vocabularium voor licenties",
    "access_rights": "dct:accessRights aanwezig",
    "access_rights_vocabulary": "toegangsrechten uit het EU-vocabularium voor toegangsrechten",
    "contact_point": "dcat:contactPoint aanwezig",
    "publisher": "dct:publisher aanwezig",
    "rights": "dct:rights aanwezig",
    "byte_size": "dcat:byteSize aanwezig",
    "issued": "dct:issued aanwezig (dataset en distributies)",
    "modified": "dct:modified aanwezig (dataset en distributies)",
}
assert set(INDICATORS_NL) == {i[0] for i in INDICATORS} and set(DIMENSIONS_NL) == set(DIMENSIONS)

Reachable = Callable[[str], bool]


def rating(score: float) -> str:
    return next(name for bound, name in RATINGS if score >= bound)


def eu_shapes() -> Graph:
    graph = Graph()
    for path in EU_SHAPES:
        graph.parse(path, format="turtle")
    return graph


def violations_by_focus(graph: Graph, shapes: Graph | None = None) -> dict:
    """Focus node -> its SHACL violations against the DCAT-AP 3.0.1 shapes (warnings left out)."""
    from pyshacl import validate

    _, report, _ = validate(graph, shacl_graph=shapes if shapes is not None else eu_shapes(), inference="none")
    found: dict = {}
    for result in report.objects(None, SH.result):
        if report.value(result, SH.resultSeverity) == SH.Violation:
            focus = report.value(result, SH.focusNode)
            found.setdefault(focus, []).append(str(report.value(result, SH.resultPath)))
    return found


def _in_scheme(graph: Graph, term, scheme: str) -> bool:
    return isinstance(term, URIRef) and (term, SKOS.inScheme, URIRef(AUTHORITY + scheme)) in graph


def in_format_list(graph: Graph, fmt, code, listed: set, list_en: str, list_nl: str) -> tuple[bool, str, str]:
    """A check that the format is from the EU file types and in one of data.europa.eu's lists."""
    return (
        code in listed and _in_scheme(graph, fmt, "file-type"),
        "no format" if fmt is None else f"format {code} not in data.europa.eu's {list_en} list",
        "geen formaat" if fmt is None else f"formaat {code} niet in de lijst van {list_nl} van data.europa.eu",
    )


def distribution_checks(graph: Graph, distribution, reachable: Reachable) -> dict[str, tuple[bool, str, str]]:
    """indicator -> (met, why not, the same in Dutch) for one distribution."""
    fmt = graph.value(distribution, DCT.format)
    media = graph.value(distribution, DCAT.mediaType)
    code = str(fmt).rsplit("/", 1)[-1] if fmt is not None else None
    licence = graph.value(distribution, DCT.license)
    access = graph.value(distribution, DCAT.accessURL)
    download = graph.value(distribution, DCAT.downloadURL)
    return {
        "access_url_reachable": (
            access is not None and reachable(str(access)),
            f"access URL {access} does not answer",
            f"toegangs-URL {access} antwoordt niet",
        ),
        "download_url": (download is not None, "no download URL", "geen download-URL"),
        "download_url_reachable": (
            download is not None and reachable(str(download)),
            "no download URL" if download is None else f"download URL {download} does not answer",
            "geen download-URL" if download is None else f"download-URL {download} antwoordt niet",
        ),
        "format": (fmt is not None, "no dct:format", "geen dct:format"),
        "media_type": (media is not None, "no dcat:mediaType", "geen dcat:mediaType"),
        "format_vocabulary": (
            _in_scheme(graph, fmt, "file-type") and media is not None and str(media).startswith(IANA),
            "format not from the EU file-type vocabulary"
            if not _in_scheme(graph, fmt, "file-type")
            else "media type not an IANA media type",
            "formaat niet uit het EU-vocabularium voor bestandstypes"
            if not _in_scheme(graph, fmt, "file-type")
            else "mediatype is geen IANA-mediatype",
        ),
        "non_proprietary": in_format_list(
            graph, fmt, code, NON_PROPRIETARY, "non-proprietary", "niet-propriëtaire formaten"
        ),
        "machine_readable": in_format_list(
            graph, fmt, code, MACHINE_READABLE, "machine-readable", "machineleesbare formaten"
        ),
        "licence": (licence is not None, "no dct:license", "geen dct:license"),
        "licence_vocabulary": (
            licence is not None and str(licence).startswith(AUTHORITY + "licence/"),
            f"licence {licence} not from the EU licence vocabulary",
            f"licentie {licence} niet uit het EU-vocabularium voor licenties",
        ),
        "rights": (graph.value(distribution, DCT.rights) is not None, "no dct:rights", "geen dct:rights"),
        "byte_size": (graph.value(distribution, DCAT.byteSize) is not None, "no dcat:byteSize", "geen dcat:byteSize"),
        "issued": (
            graph.value(distribution, DCT.issued) is not None,
            "a distribution has no dct:issued",
            "een distributie heeft geen dct:issued",
        ),
        "modified": (
            graph.value(distribution, DCT.modified) is not None,
            "a distribution has no dct:modified",
            "een distributie heeft geen dct:modified",
        ),
    }


def dataset_checks(graph: Graph, dataset, violations: dict) -> dict[str, tuple[bool, str, str]]:
    """indicator -> (met, why not, the same in Dutch) for one dataset."""
    access = graph.value(dataset, DCT.accessRights)
    distributions = list(graph.objects(dataset, DCAT.distribution))
    faults = [path for node in [dataset] + distributions for path in violations.get(node, [])]
    paths = ", ".join(sorted(set(faults)))
    return {
        "keyword": (graph.value(dataset, DCAT.keyword) is not None, "no dcat:keyword", "geen dcat:keyword"),
        "theme": (graph.value(dataset, DCAT.theme) is not None, "no dcat:theme", "geen dcat:theme"),
        "spatial": (graph.value(dataset, DCT.spatial) is not None, "no dct:spatial", "geen dct:spatial"),
        "temporal": (graph.value(dataset, DCT.temporal) is not None, "no dct:temporal", "geen dct:temporal"),
        "dcat_ap_compliance": (not faults, f"SHACL violations on {paths}", f"SHACL-overtredingen op {paths}"),
        "access_rights": (access is not None, "no dct:accessRights", "geen dct:accessRights"),
        "access_rights_vocabulary": (
            _in_scheme(graph, access, "access-right"),
            "access rights not from the EU vocabulary",
            "toegangsrechten niet uit het EU-vocabularium",
        ),
        "contact_point": (
            graph.value(dataset, DCAT.contactPoint) is not None,
            "no dcat:contactPoint",
            "geen dcat:contactPoint",
        ),
        "publisher": (graph.value(dataset, DCT.publisher) is not None, "no dct:publisher", "geen dct:publisher"),
        "issued": (graph.value(dataset, DCT.issued) is not None, "no dct:issued", "geen dct:issued"),
        "modified": (graph.value(dataset, DCT.modified) is not None, "no dct:modified", "geen dct:modified"),
    }


def score(
    graph: Graph, reachable: Reachable, checked: str, shapes: Graph | None = None, checked_nl: str | None = None
) -> dict:
    """The MQA of the catalogue graph: `score`, `max`, `rating`, per dimension, one entry per
    indicator (with the datasets that miss it and why, `why` and in Dutch `why_nl`), and per dataset.
    `checked` says how the accessibility was checked (`checked_nl`: the same in Dutch)."""
    violations = violations_by_focus(graph, shapes)
    cache: dict[str, bool] = {}

    def answered(url: str) -> bool:
        if url not in cache:
            cache[url] = bool(reachable(url))
        return cache[url]

    datasets = sorted(graph.subjects(RDF.type, DCAT.Dataset), key=str)
    per_dataset = []
    missed: dict[str, list[dict]] = {i[0]: [] for i in INDICATORS}
    for dataset in datasets:
        checks = dataset_checks(graph, dataset, violations)
        met = {key: ok for key, (ok, *_) in checks.items()}
        why = {key: (reason, reason_nl) for key, (ok, reason, reason_nl) in checks.items() if not ok}
        distributions = sorted(graph.objects(dataset, DCAT.distribution), key=str)
        for distribution in distributions:
            for key, (ok, reason, reason_nl) in distribution_checks(graph, distribution, answered).items():
                if not ok:
                    met[key] = False
                    why.setdefault(key, (f"{distribution}: {reason}", f"{distribution}: {reason_nl}"))
                else:
                    met.setdefault(key, True)
        if not distributions:
            for key, *_ in INDICATORS:
                met.setdefault(key, False)
                why.setdefault(key, ("no distribution", "geen distributie"))
        points = 0
        for key, _, _, value, _ in INDICATORS:
            if met.get(key):
                points += value
            else:
                reason, reason_nl = why.get(key, ("not met", "niet voldaan"))
                missed[key].append({"dataset": str(dataset), "points": value, "why": reason, "why_nl": reason_nl})
        per_dataset.append(
            {
                "dataset": str(dataset),
                "identifier": str(graph.value(dataset, DCT.identifier)),
                "score": points,
                "rating": rating(points),
            }
        )
    count = len(datasets) or 1
    indicators = []
    for key, dimension, label, value, level in INDICATORS:
        earned = value * (len(datasets) - len(missed[key])) / count
        indicators.append(
            {
                "id": key,
                "dimension": dimension,
                "indicator": label,
                "level": level,
                "points": value,
                "score": round(earned, 2),
                "datasets_meeting": len(datasets) - len(missed[key]),
                "datasets": len(datasets),
                "missed": missed[key],
            }
        )
    exact = sum(d["score"] for d in per_dataset) / count
    dimensions = {
        name: {"score": round(sum(i["score"] for i in indicators if i["dimension"] == name), 2), "max": top}
        for name, top in DIMENSIONS.items()
    }
    return {
        "score": math.floor(exact),
        "exact_score": round(exact, 2),
        "max": MAX,
        "rating": rating(math.floor(exact)),
        "checked": checked,
        "checked_nl": checked_nl or checked,
        "dimensions": dimensions,
        "indicators": indicators,
        "datasets": per_dataset,
    }


def quality_rows(result: dict, base: str = "") -> list[dict]:
    """data_quality rows: the score, each dimension, and every point missed (one row per indicator),
    each in English (detail) and Dutch (detail_nl); URLs under `base` written as paths."""

    def path(text: str) -> str:
        return text.replace(base, "/") if base else text

    count, exact = len(result["datasets"]), result["exact_score"]
    rows = [
        {
            "check": "mqa:score",
            "status": "pass" if result["score"] >= EXCELLENT else "warning",
            "detail": f"MQA score {result['score']}/{result['max']} ({result['rating']}; mean of {count} datasets, "
            f"{exact}); {result['checked']}",
            "detail_nl": f"MQA-score {result['score']}/{result['max']} (beoordeling ‘{result['rating']}’; gemiddelde van "
            f"{count} datasets: {dutch_number(exact)}); {result.get('checked_nl') or result['checked']}",
        }
    ]
    for name, dimension in result["dimensions"].items():
        scored = f"{dimension['score']:g}"
        rows.append(
            {
                "check": f"mqa:{name}",
                "status": "pass" if dimension["score"] == dimension["max"] else "warning",
                "detail": f"{name}: {scored}/{dimension['max']}",
                "detail_nl": f"{DIMENSIONS_NL[name]}: {dutch_number(scored)}/{dimension['max']}",
            }
        )
    for indicator in result["indicators"]:
        if indicator["missed"]:
            missed = indicator["missed"]
            lost = ", ".join(f"{m['dataset'].rsplit('/', 1)[-1]} ({path(m['why'])})" for m in missed)
            lost_nl = ", ".join(
                f"{m['dataset'].rsplit('/', 1)[-1]} ({path(m.get('why_nl') or m['why'])})" for m in missed
            )
            rows.append(
                {
                    "check": f"mqa:missed:{indicator['id']}",
                    "status": "warning",
                    "detail": f"{indicator['indicator']}: {indicator['points']} points missed by "
                    f"{len(missed)} of {indicator['datasets']} datasets: {lost}",
                    "detail_nl": f"{INDICATORS_NL[indicator['id']]}: {indicator['points']} punten gemist door "
                    f"{len(missed)} van {indicator['datasets']} datasets: {lost_nl}",
                }
            )
    return rows


# ---------------------------------------------------------------- live, over HTTP


def http_reachable(url: str, timeout: float = 30) -> bool:
    """GET (the MQA requests each URL); 2xx and 3xx count as answered. No redirect is followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, method="GET"), timeout=timeout) as response:
            response.read()
            return 200 <= response.status < 400
    except urllib.error.HTTPError as error:
        return 300 <= error.code < 400
    except OSError:
        return False


def score_url(base: str) -> dict:
    base = base.rstrip("/") + "/"
    with urllib.request.urlopen(base + "catalog.ttl", timeout=60) as response:
        graph = Graph().parse(data=response.read().decode("utf-8"), format="turtle")
    return score(graph, http_reachable, f"accessibility checked live over HTTP against {base}")


def report(result: dict) -> str:
    lines = [
        f"MQA {result['score']}/{result['max']} {result['rating']} (exact {result['exact_score']}; {result['checked']})"
    ]
    for name, dimension in result["dimensions"].items():
        lines.append(f"  {name:<17} {dimension['score']:>7g} / {dimension['max']}")
    for indicator in result["indicators"]:
        lines.append(
            f"  {indicator['dimension'][:5]} {indicator['id']:<26} {indicator['score']:>6g} / {indicator['points']:<3} "
            f"({indicator['datasets_meeting']}/{indicator['datasets']} datasets)"
        )
        for miss in indicator["missed"]:
            lines.append(f"      missed: {miss['dataset']}: {miss['why']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="base URL of a running site; without it, make serve runs on a free port")
    args = parser.parse_args(argv)
    if args.url:
        result = score_url(args.url)
    else:
        sys.path.insert(0, str(ROOT))
        from tests.conftest import make_serve

        with make_serve() as base:
            result = score_url(base)
    print(report(result))
    return 0 if result["score"] >= EXCELLENT else 1


if __name__ == "__main__":
    raise SystemExit(main())


# ---------------------------------------------------------------- at build time


def build_rows(database: Path, site: dict, package, date: str, max_rows: int) -> list[dict]:
    """data_quality rows for the catalogue this build will serve, scored before anything is served.

    The catalogue is made as the site will make it (scripts/catalog.py), from the database just
    loaded; sizes and checksums are not known yet (the release is hashed after this step), so
    they are placeholders: the MQA asks whether a property is present, and it is. Nothing is
    served yet, so an access or download URL counts as answering when it names a table or file
    this release publishes; make mqa, tests/test_mqa.py and /-/mqa.json make the same checks
    against the served URLs."""
    import sqlite3

    from . import catalog
    from .metadata import generated_tables

    resources = [{**r.to_descriptor(), "schema": r.schema.to_descriptor()} for r in package.resources]
    resources += [{**descriptor, "schema": schema.to_descriptor()} for descriptor, schema in generated_tables(package)]
    tables = [r["name"] for r in resources]
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        spans, sizes = {}, {}
        for resource in resources:
            table, values = resource["name"], []
            for column in catalog.temporal_columns(resource["schema"]):
                values += [
                    row[0]
                    for row in db.execute(
                        f"select distinct [{column}] from [{table}] where [{column}] is not null and [{column}] != ''"
                    )
                ]
            spans[table] = catalog.span_of(values)
            if db.execute(f"select count(*) from [{table}]").fetchone()[0] <= max_rows:
                sizes[table] = 0
    finally:
        db.close()
    placeholder = {"bytes": 0, "sha256": None}
    release = {
        "version": "(this build)",
        "date": date,
        "tables": {t: placeholder for t in tables},
        "database": placeholder,
        "zip": placeholder,
    }
    base = "http://localhost/"
    urls = catalog.Urls(base)
    published = {str(url) for t in tables for url in (urls.csv(t), urls.json(t), urls.json_download(t))}
    published |= {str(urls.database()), str(urls.zip())}
    graph = catalog.catalog_graph(
        site, {"name": package.name or catalog.DATABASE, "resources": resources}, release, base, spans, sizes
    )
    result = score(
        graph,
        published.__contains__,
        "scored at build; an access or download URL counts when it names what this release publishes "
        "(checked over HTTP by make mqa and tests/test_mqa.py, and in process by /-/mqa.json)",
        checked_nl="berekend bij de build; een toegangs- of download-URL telt mee wanneer hij iets noemt dat "
        "deze versie publiceert (over HTTP gecontroleerd door make mqa en tests/test_mqa.py, en "
        "binnen het proces door /-/mqa.json)",
    )
    return quality_rows(result, base)
