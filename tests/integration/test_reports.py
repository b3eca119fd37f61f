"""A real run's reports: latency with and without a fault, plots, resources, failure logs.

An inner pytest run (its own Redis-only stack, two workers) writes its reports into tmp.
"""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.xdist_group("inner-runs")

INNER = """
def _work(redis_client, count):
    for i in range(count):
        redis_client.set("k", i)
        assert redis_client.get("k") == str(i).encode()


def test_with_latency_fault(redis_client, faults):
    _work(redis_client, 5)
    with faults.latency("redis", ms=120):
        _work(redis_client, 20)


def test_without_faults(redis_client):
    _work(redis_client, 50)


def test_fails_after_using_redis(redis_client):
    _work(redis_client, 2)
    assert False, "boom"
"""


def test_latency_fault_shows_in_redis_p95_and_the_html_has_the_plots(
    inner_pytest, tmp_path
) -> None:
    out = tmp_path / "reports"
    run = inner_pytest(
        INNER,
        "-n",
        "2",
        "--stack-services",
        "redis",
        "--harness-reports",
        str(out),
        "--harness-sample-interval",
        "0.5",
    )
    code, output = run.finish(timeout=300)
    assert code == 1, output
    (directory,) = out.iterdir()
    report = json.loads((directory / "report.json").read_text())
    assert report["run"] == directory.name and report["summary"]["total"] == 3

    tests = {t["nodeid"].rsplit("::", 1)[-1]: t for t in report["tests"]}
    faulted = tests["test_with_latency_fault"]
    assert [f["fault"] for f in faulted["faults"]] == ["latency"]
    assert faulted["latency"]["redis"]["with_faults"]["count"] == 40  # 20 SET + 20 GET
    assert tests["test_without_faults"]["faults"] == []
    assert tests["test_without_faults"]["latency"]["redis"]["with_faults"] == {"count": 0}

    redis = report["latency"]["redis"]
    assert redis["with_faults"]["p95"] >= 100 > redis["without_faults"]["p95"]
    assert redis["with_faults"]["p95"] > redis["without_faults"]["p95"]
    assert {"GET", "SET", "FLUSHDB"} <= set(redis["operations"])

    containers = {entry["service"]: entry for entry in report["resources"].values()}
    assert containers["redis"]["memory_mb_max"] > 0
    assert any(s["cpu_percent"] is not None for s in containers["redis"]["samples"])

    html = (directory / "report.html").read_text()
    plots = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="([^"]+)"', html)
    assert {"redis latency", "memory", "CPU"} <= set(plots)

    failed = tests["test_fails_after_using_redis"]
    # the backend it reached, and the proxy that was in the way
    assert failed["outcome"] == "failed" and failed["logs"] == ["redis", "toxiproxy"]
    (log,) = (directory / "logs").glob("*test_fails_after_using_redis*/redis.log")
    assert "Ready to accept connections" in log.read_text()
    junit = (directory / "junit.xml").read_text()
    assert 'failures="1"' in junit and "<property" not in junit
    assert "| redis | with faults | 40 |" in (directory / "summary.md").read_text()
