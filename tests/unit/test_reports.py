"""Report content from synthetic runs: JSON fields, JUnit, Markdown table, HTML with plots."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import reports
from harness.reports import _html as html
from harness.reports import _latency as latency
from harness.reports import _markdown as markdown
from harness.reports import _plots as plots
from harness.reports import _resources as resources
from harness.reports import _writer as writer
from harness.reports._collect import PROPERTY, RunCollector

ROOT = Path(__file__).resolve().parents[2]
LATENCY_FAULT = {"layer": "tcp", "type": "latency", "service": "redis", "latency": 200}


def _report(nodeid: str, when: str, outcome: str = "passed", **extra: Any) -> SimpleNamespace:
    fields: dict[str, Any] = {
        "nodeid": nodeid,
        "when": when,
        "duration": 0.5,
        "failed": outcome == "failed",
        "skipped": outcome == "skipped",
        "passed": outcome == "passed",
        "sections": [],
        "user_properties": [],
        "longreprtext": "AssertionError: boom" if outcome == "failed" else "",
        "longrepr": None,
    }
    return SimpleNamespace(**{**fields, **extra})


def _run_with(tests: dict[str, dict[str, Any]]) -> RunCollector:
    collector = RunCollector("hx-synthetic")
    for nodeid, spec in tests.items():
        collector.add(_report(nodeid, "setup"))
        collector.add(
            _report(
                nodeid, "call", spec.get("outcome", "passed"), sections=spec.get("sections", [])
            )
        )
        data = {"faults": spec.get("faults", []), "samples": spec.get("samples", [])}
        collector.add(_report(nodeid, "teardown", user_properties=[(PROPERTY, data), ("x", 1)]))
    return collector


def _samples(backend: str, op: str, values: list[float], faulted: bool) -> list[list[Any]]:
    return [[backend, op, v, faulted] for v in values]


CLEAN = _samples("redis", "GET", [1.0 + i / 100 for i in range(100)], False)
SLOW = _samples("redis", "GET", [200.0 + i for i in range(50)], True)
CHROMA = _samples("chromadb", "GET /api/v2/heartbeat", [5.0, 6.0, 7.0], False)
CONTAINERS = {
    "hx-synthetic-redis-1": {
        "service": "redis",
        "samples": [
            {"t": 0.0, "cpu_percent": None, "memory_mb": 10.0},
            {"t": 2.0, "cpu_percent": 3.5, "memory_mb": 12.0},
        ],
    }
}


@pytest.fixture
def report() -> dict[str, Any]:
    collector = _run_with(
        {
            "tests/test_a.py::test_clean": {"samples": CLEAN + CHROMA},
            "tests/test_a.py::test_slow": {"samples": SLOW, "faults": [LATENCY_FAULT]},
            "tests/test_b.py::TestX::test_fails": {
                "outcome": "failed",
                "sections": [("harness logs: redis", "Ready to accept connections"), ("x", "y")],
            },
        }
    )
    return collector.build(resources.summarise(CONTAINERS))


def test_percentiles_interpolate_and_split_by_faults() -> None:
    assert latency.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert latency.stats([]) == {"count": 0}
    summary = latency.summarise(CLEAN + SLOW)
    redis = summary["redis"]
    assert redis["without_faults"]["count"] == 100 and redis["with_faults"]["count"] == 50
    assert redis["with_faults"]["p95"] > redis["without_faults"]["p99"]
    assert set(redis["operations"]["GET"]) == {"with_faults", "without_faults"}


def test_json_has_each_test_with_outcome_duration_faults_and_latency(report) -> None:
    tests = {t["nodeid"]: t for t in report["tests"]}
    assert report["summary"] == {"total": 3, "failed": 1, "passed": 2}
    slow = tests["tests/test_a.py::test_slow"]
    assert slow["outcome"] == "passed" and slow["duration"] == pytest.approx(1.5)
    assert slow["faults"] == [LATENCY_FAULT]
    assert slow["latency"]["redis"]["operations"]["GET"]["with_faults"]["p50"] == 224.5
    assert tests["tests/test_b.py::TestX::test_fails"]["logs"] == ["redis"]
    run = report["latency"]
    assert run["redis"]["with_faults"]["p95"] > run["redis"]["without_faults"]["p95"]
    for key in ("count", "p50", "p95", "p99"):
        assert key in run["chromadb"]["without_faults"]
    assert len(report["latency_samples_ms"]["redis"]["with_faults"]) == 50
    redis_container = report["resources"]["hx-synthetic-redis-1"]
    assert redis_container["memory_mb_max"] == 12.0 and redis_container["cpu_percent_max"] == 3.5
    json.dumps(report)  # plain data throughout


def test_collector_takes_its_property_out_of_the_report() -> None:
    teardown = _report("t::x", "teardown", user_properties=[(PROPERTY, {}), ("kept", 1)])
    RunCollector("r").add(teardown)
    assert teardown.user_properties == [("kept", 1)]


def test_junit_counts_and_failure_text(report) -> None:
    from harness.reports import _junit as junit

    suite = ET.fromstring(junit.render(report)).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    failed = suite.find("testcase[@name='test_fails']")
    assert failed is not None and failed.get("classname") == "tests.test_b.TestX"
    failure = failed.find("failure")
    assert failure is not None and "boom" in (failure.text or "")


def test_markdown_summary_tables(report) -> None:
    text = markdown.render(report)
    assert text.startswith("## mediastack-harness run `hx-synthetic`: 1 failed\n\n### Failed\n")
    failure = text.index("- `tests/test_b.py::TestX::test_fails` (failed, ")
    assert text.index("  - cause: `", failure) < text.index("  - logs: redis", failure)
    assert failure < text.index("3 tests (1 failed, 2 passed)")  # failures lead
    assert "| backend | faults | samples | p50 | p95 | p99 |" in text
    slow_p95 = report["latency"]["redis"]["with_faults"]["p95"]
    assert f"| redis | with faults | 50 | 224.5 | {slow_p95:.1f} |" in text
    assert "| hx-synthetic-redis-1 | redis | 3.5 | 12.0 | 11.0 |" in text


def test_html_is_self_contained_with_png_plots(report) -> None:
    page = html.render(report)
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)"', page)
    assert {alt for _, alt in images} == {"redis latency", "chromadb latency", "memory", "CPU"}
    for data, _ in images:
        assert base64.b64decode(data).startswith(b"\x89PNG")
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_html_without_matplotlib_says_what_draws_its_plots(report, tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text(json.dumps(report))
    code = (
        "import json, sys\n"
        "sys.modules['matplotlib'] = None  # not installed\n"
        "from harness.reports import _html as html\n"
        f"print(html.render(json.loads(open({str(tmp_path / 'report.json')!r}).read())))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    line = "plotting in the HTML report needs matplotlib: pip install 'mediastack-harness[plots]'"
    assert f"<p>{escape(line)}</p>" in done.stdout
    assert "<img" not in done.stdout and "<h2>Latency (ms)</h2>" in done.stdout


@pytest.mark.parametrize("values", [[5.0, 5.0, 5.0], [0.001], [0.01, 0.01]])
def test_latency_plot_draws_samples_that_are_all_equal(values: list[float]) -> None:
    png = plots.latency_plot("redis", {"without_faults": values})
    assert png is not None and base64.b64decode(png).startswith(b"\x89PNG")


def test_write_all_writes_every_file_and_the_step_summary(
    report, tmp_path: Path, monkeypatch
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    logs = {"tests/test_b.py::TestX::test_fails": {"redis": "Ready to accept connections"}}
    problems = writer.write_all(tmp_path / "run", report, logs)
    assert problems == []
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert names == {"report.json", "junit.xml", "summary.md", "report.html", "logs"}
    (log,) = (tmp_path / "run" / "logs").glob("*/redis.log")
    assert log.read_text() == "Ready to accept connections"
    assert summary.read_text().startswith("earlier step\n## mediastack-harness run `hx-synthetic`")
    assert reports.load(tmp_path / "run")["run"] == "hx-synthetic"


def test_one_writer_failing_leaves_the_others(report, tmp_path: Path, monkeypatch) -> None:
    def broken(_: dict[str, Any], logs: Any = None) -> str:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(html, "render", broken)
    problems = writer.write_all(tmp_path, report, {})
    assert problems == ["report.html: RuntimeError: no fonts"]
    assert (tmp_path / "report.json").is_file() and (tmp_path / "summary.md").is_file()


def test_find_run_picks_the_newest_or_names_the_missing(tmp_path: Path) -> None:
    import os

    for index, run in enumerate(("hx-old", "hx-new")):
        (tmp_path / run).mkdir()
        (tmp_path / run / "report.json").write_text("{}")
        os.utime(tmp_path / run / "report.json", (1000 + index, 1000 + index))
    assert reports.find_run(tmp_path).name == "hx-new"
    assert reports.find_run(tmp_path, "hx-old").name == "hx-old"
    with pytest.raises(reports.HarnessError, match="no report for run hx-gone"):
        reports.find_run(tmp_path, "hx-gone")
    with pytest.raises(reports.HarnessError, match="no run reports"):
        reports.find_run(tmp_path / "empty")


def test_sampler_computes_cpu_between_samples_and_bounds_memory() -> None:
    ticks = iter(range(10_000))

    def source() -> list[tuple[str, str, dict[str, Any]]]:
        n = next(ticks)
        stats = {
            "cpu_stats": {
                "cpu_usage": {"total_usage": n * 50},
                "system_cpu_usage": n * 1000,
                "online_cpus": 2,
            },
            "memory_stats": {"usage": (n + 1) * 2**20, "stats": {"inactive_file": 2**20}},
        }
        return [("c1", "redis", stats)]

    sampler = resources.ResourceSampler(source, interval=0)
    for _ in range(resources.MAX_SAMPLES + 1):
        sampler.sample_once()
    samples = sampler.containers["c1"]["samples"]
    assert samples[0]["cpu_percent"] is None and samples[0]["memory_mb"] == 0.0
    assert samples[1]["cpu_percent"] == 10.0  # 50/1000 of the host, times 2 CPUs
    assert len(samples) <= resources.MAX_SAMPLES


def test_sampler_thread_stops_on_request_and_keeps_errors() -> None:
    def failing() -> list[tuple[str, str, dict[str, Any]]]:
        raise ConnectionError("engine gone")

    sampler = resources.ResourceSampler(failing, interval=0.01).start()
    assert sampler.join(timeout=30)
    assert sampler.stop() == {}
    assert sampler.error == "ConnectionError: engine gone"


def test_instrumented_clients_keep_their_type_and_record_samples() -> None:
    import fakeredis
    import httpx

    from harness.reports._instrument import httpx_hooks, observe_redis, operation_name
    from harness.reports._latency import RECORDER

    faulted = {"now": False}
    RECORDER.begin(lambda: faulted["now"])
    client = observe_redis(fakeredis.FakeRedis())
    assert type(client) is fakeredis.FakeRedis and "FakeRedis" in repr(client)  # not a wrapper
    client.set("k", "v")
    faulted["now"] = True
    assert client.get("k") == b"v"
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    with httpx.Client(
        transport=transport, base_url="http://mock", event_hooks=httpx_hooks("comfyui")
    ) as http:
        assert http.get("/history/3f2a9c1e-aaaa-bbbb-cccc-1234567890ab").status_code == 204
    assert [(b, op, f) for b, op, _, f in RECORDER.drain()] == [
        ("redis", "SET", False),
        ("redis", "GET", True),
        ("comfyui", "GET /history/*", True),
    ]
    assert operation_name("POST", "/api/v2/tenants/hx-1-gw0/databases/tests") == (
        "POST /api/v2/tenants/*/databases/tests"
    )
    RECORDER.begin()
