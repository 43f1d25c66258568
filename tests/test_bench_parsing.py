"""The pure parts of `make bench` and `make bench-scale`: reading wrk's report, and the synthetic
data of bench-scale passing the real build (the benchmarks themselves are not part of make test)."""

from __future__ import annotations

import csv

import pytest

from bench.bench import milliseconds, parse_wrk
from bench.scale import synthesise
from scripts.build import build
from tests.conftest import DATASETS, ROOT

WRK_REPORT = """\
Running 3s test @ http://127.0.0.1:8001/drugbeleid/caseload.json
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    2.04ms   1.20s    91.02%
    Req/Sec     1.56k   112.40     1.80k    70.00%
  Latency Distribution
     50%  812.00us
     75%    5.50ms
     90%    7.10ms
     99%    1.02s
  9342 requests in 3.01s, 75.40MB read
  Socket errors: connect 0, read 2, write 0, timeout 7
  Non-2xx or 3xx responses: 12
Requests/sec:   3103.65
Transfer/sec:     25.05MB
""".replace("1.02s\n", "1.02s \n")  # wrk pads a one-letter unit with a space


def test_wrk_report_is_read_with_its_units():
    figures = parse_wrk(WRK_REPORT)
    assert figures["requests"] == 9342
    assert figures["rps"] == pytest.approx(3103.65)
    assert figures["p50_ms"] == pytest.approx(0.812)
    assert figures["p90_ms"] == pytest.approx(7.1)
    assert figures["p99_ms"] == pytest.approx(1020)
    assert figures["duration_ms"] == pytest.approx(3010)
    assert figures["non2xx"] == 12
    assert figures["socket_errors"] == {"connect": 0, "read": 2, "write": 0, "timeout": 7}


def test_a_clean_wrk_report_has_no_errors():
    clean = "\n".join(line for line in WRK_REPORT.splitlines() if "errors" not in line and "Non-2xx" not in line)
    figures = parse_wrk(clean)
    assert figures["non2xx"] == 0 and sum(figures["socket_errors"].values()) == 0


def test_wrk_failure_is_not_read_as_figures():
    with pytest.raises(ValueError):
        parse_wrk("unable to connect to 127.0.0.1:8001 Connection refused\n")
    with pytest.raises(ValueError):
        milliseconds("12 parsecs")


def test_synthetic_copies_pass_the_strict_build(tmp_path):
    """bench-scale's data is the real data repeated; every check of the build still holds for it."""
    counts = synthesise(DATASETS, tmp_path / "datasets", 2)
    with open(DATASETS / "passages.csv", encoding="utf-8") as f:
        assert counts["passages"] == 2 * (sum(1 for _ in f) - 1)
    result = build(tmp_path / "datasets", tmp_path / "build" / "drugbeleid.db", ROOT / "metadata.yml")
    with open(DATASETS / "statistics.csv", encoding="utf-8", newline="") as f:
        assert result["counts"]["statistics"] == 2 * len(list(csv.DictReader(f)))
    with open(DATASETS / "documents.csv", encoding="utf-8", newline="") as f:
        assert result["counts"]["documents"] == 2 * len(list(csv.DictReader(f)))
    assert all(row["status"] != "fail" for row in result["quality"])
