"""The catalogue scored by data.europa.eu's MQA, indicator by indicator: live over HTTP against make
serve on 127.0.0.1, at /-/mqa.json, and in the data_quality rows the build writes."""

from __future__ import annotations

import json
import urllib.request

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT

from scripts import mqa

from .conftest import TABLES, make_serve

pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def live():
    with make_serve() as base:
        yield base + "/"


@pytest.fixture(scope="module")
def live_result(live):
    return mqa.score_url(live)


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


def test_live_score_is_excellent_indicator_by_indicator(live_result):
    result = live_result
    assert result["max"] == 405 and result["score"] >= 351 and result["rating"] == "Excellent"
    assert [i["id"] for i in result["indicators"]] == [i[0] for i in mqa.INDICATORS]
    assert sum(i["points"] for i in result["indicators"]) == 405
    assert len(result["datasets"]) == len(TABLES) + 1
    for name, dimension in result["dimensions"].items():
        assert dimension["score"] == pytest.approx(
            sum(i["score"] for i in result["indicators"] if i["dimension"] == name)
        )
    assert result["dimensions"]["accessibility"] == {"score": 100, "max": 100}  # every URL answered, live
    # exact_score is the mean rounded to 2 decimals (scripts/mqa.py score)
    assert result["exact_score"] == pytest.approx(
        sum(d["score"] for d in result["datasets"]) / len(result["datasets"]), abs=0.005
    )
    for indicator in result["indicators"]:
        for miss in indicator["missed"]:
            assert miss["why"] and miss["points"] == indicator["points"]
    # The points that cannot be earned honestly: SQLite has no EU file-type term (docs/catalog.md).
    missed = {i["id"] for i in result["indicators"] if i["missed"]}
    assert missed == {"format", "format_vocabulary", "non_proprietary", "machine_readable"}
    for indicator in result["indicators"]:
        assert [m["dataset"].rsplit("/", 1)[1] for m in indicator["missed"]] in ([], ["drugbeleid#dataset"])


def test_the_live_check_sees_an_unanswered_url(live):
    assert mqa.http_reachable(live + "data/caseload.csv")
    assert not mqa.http_reachable(live + "data/nope.csv")
    assert not mqa.http_reachable("http://127.0.0.1:9/")  # nothing listens there


def test_mqa_json_is_served_with_the_same_score(live, live_result):
    served = get_json(live + "-/mqa.json")
    assert {k: served[k] for k in ("score", "max", "rating", "exact_score", "dimensions")} == {
        k: live_result[k] for k in ("score", "max", "rating", "exact_score", "dimensions")
    }
    assert [(i["id"], i["points"], i["score"]) for i in served["indicators"]] == [
        (i["id"], i["points"], i["score"]) for i in live_result["indicators"]
    ]


def test_data_quality_rows_publish_the_score_and_every_missed_point(live, live_result):
    rows = get_json(live + "drugbeleid/data_quality.json?check__startswith=mqa&_shape=array&_size=max")
    by_check = {row["check"]: row for row in rows}
    assert f"MQA score {live_result['score']}/405" in by_check["mqa:score"]["detail"]
    assert by_check["mqa:score"]["status"] == "pass"
    for name, dimension in live_result["dimensions"].items():
        assert by_check[f"mqa:{name}"]["detail"] == f"{name}: {dimension['score']:g}/{dimension['max']}"
    missed = {f"mqa:missed:{i['id']}" for i in live_result["indicators"] if i["missed"]}
    assert {c for c in by_check if c.startswith("mqa:missed:")} == missed
    for check in missed:
        assert by_check[check]["status"] == "warning" and "drugbeleid#dataset" in by_check[check]["detail"]


def test_every_distribution_must_meet_a_distribution_indicator(live):
    """The reading: one distribution without a byte size, or with a URL that does not answer, costs
    its dataset the indicator's points."""
    with urllib.request.urlopen(live + "catalog.ttl", timeout=60) as response:
        graph = Graph().parse(data=response.read().decode(), format="turtle")
    everything = mqa.score(graph, lambda url: True, "test")
    json_api = URIRef(live + "drugbeleid/caseload#json")
    graph.remove((json_api, DCAT.byteSize, None))
    fewer = mqa.score(graph, lambda url: not url.endswith("/data/staffing.csv"), "test")
    scores = {d["identifier"]: d["score"] for d in fewer["datasets"]}
    assert scores["drugbeleid/caseload"] == 405 - 5
    assert scores["drugbeleid/staffing"] == 405 - 50 - 30  # its CSV's access and download URL
    assert scores["drugbeleid/events"] == 405
    assert fewer["exact_score"] == pytest.approx(
        everything["exact_score"] - 85 / len(fewer["datasets"]), abs=0.01
    )  # both rounded to 2 decimals
