"""The optional Prometheus backend: its `[prometheus]` table, one-line errors, the run's directory
and its place in the topology (no Docker)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import yaml

from harness import _paths, _prometheus_config
from harness import _topology as topology
from tests.unit.test_project_config import error_of, project

RULES = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n"


SERVICE = """
[services.api]
command = ["python", "-m", "api"]
health = "/health"
"""


def test_prometheus_is_built_in_but_not_started_unless_listed(tmp_path: Path) -> None:
    assert "prometheus" not in project(tmp_path, "").backends
    assert topology.load().get("prometheus").container_port == 9090
    assert "prometheus" not in topology.load().defaults
    listed = project(tmp_path, 'backends = ["redis", "prometheus"]')
    assert listed.backends == ["redis", "prometheus"]


def test_the_table_defaults_to_one_second_intervals(tmp_path: Path) -> None:
    settings = project(tmp_path, "").config.prometheus
    assert (settings.scrape_interval, settings.evaluation_interval) == ("1s", "1s")
    assert settings.targets == [] and settings.rules == []
    assert settings.metrics_path == "/metrics"


def test_targets_must_be_declared_services_under_test(tmp_path: Path) -> None:
    message = error_of(tmp_path, SERVICE + '[prometheus]\ntargets = ["api", "web"]\n')
    assert message == (
        f"{tmp_path / 'harness.toml'}: prometheus.targets[1]: unknown service under test 'web'; "
        "declared: api"
    )


def test_a_missing_rule_file_names_where_it_was_looked_for(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[prometheus]\nrules = ["monitoring/rules.yml"]\n')
    assert "prometheus.rules[0]: no such rule file" in message
    assert str(tmp_path / "monitoring" / "rules.yml") in message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('scrape-interval = "fast"', "prometheus.scrape-interval: Value error, must be a "),
        ('evaluation-interval = "0s"', "prometheus.evaluation-interval: Value error, must be a "),
        ('metrics-path = "metrics"', "prometheus.metrics-path: Value error, must be an HTTP path"),
        ("interval = 1", "prometheus.interval: unknown key; allowed: targets, rules, metrics-path"),
    ],
)
def test_bad_values_are_one_line_naming_the_key(tmp_path: Path, line: str, expected: str) -> None:
    assert expected in error_of(tmp_path, f"[prometheus]\n{line}\n")


def test_an_unknown_backend_lists_prometheus_among_the_known(tmp_path: Path) -> None:
    message = error_of(tmp_path, 'backends = ["grafana"]')
    assert "known: redis, chromadb, litellm, comfyui, wan2gp, cablecast, prometheus" in message


def test_the_run_directory_holds_the_config_the_rules_and_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_STATE_DIR", str(tmp_path / "state"))
    (tmp_path / "monitoring").mkdir()
    (tmp_path / "monitoring" / "rules.yml").write_text(RULES)
    loaded = project(
        tmp_path,
        SERVICE + '[prometheus]\ntargets = ["api"]\nrules = ["monitoring/rules.yml"]\n'
        'scrape-interval = "500ms"\n',
    )
    root = _prometheus_config.write("hx-test", loaded)
    assert root == _paths.state_dir() / "runs" / "hx-test" / "prometheus"
    document = yaml.safe_load((root / "prometheus.yml").read_text())
    assert document["global"] == {
        "scrape_interval": "500ms",
        "scrape_timeout": "500ms",
        "evaluation_interval": "1s",
    }
    assert document["rule_files"] == ["/etc/prometheus/harness/rules/0-rules.yml"]
    (job,) = document["scrape_configs"]
    assert job["file_sd_configs"][0]["files"] == ["/etc/prometheus/harness/targets/*.json"]
    assert (root / "rules" / "0-rules.yml").read_text() == RULES

    path = _prometheus_config.write_target("hx-test", "api", "127.0.0.1:4000", {"job": "api"})
    assert json.loads(path.read_text()) == [
        {"targets": ["127.0.0.1:4000"], "labels": {"job": "api"}}
    ]
    assert _prometheus_config.target_names("hx-test") == ["api"]
    for written in (path, root / "prometheus.yml", root / "rules" / "0-rules.yml"):
        assert stat.S_IMODE(written.stat().st_mode) == 0o644  # the container runs as nobody
    _prometheus_config.remove_target("hx-test", "api")
    assert _prometheus_config.target_names("hx-test") == []


def test_the_packaged_service_is_on_the_compose_network_and_published_where_the_stack_is() -> None:
    spec = yaml.safe_load(_paths.compose_file().read_text())["services"]["prometheus"]
    assert "network_mode" not in spec and spec["networks"] == ["backend"]
    assert spec["ports"] == ["${HARNESS_PUBLISH_HOST:-127.0.0.1}:${HARNESS_PROMETHEUS_PORT:-}:9090"]
    assert "--web.listen-address=0.0.0.0:9090" in spec["command"]
    assert spec["healthcheck"]["test"][-1].endswith("/-/ready")
    assert topology.load().get("prometheus").default_image == "prom/prometheus:v2.42.0"
