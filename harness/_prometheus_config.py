"""A run's Prometheus configuration directory, mounted read-only into the container.

    prometheus.yml       global intervals, the rule files, one file_sd scrape job
    rules/<n>-<name>     copies of the project's rule files
    targets/<name>.json  one file per scraped service: its address, `job` and metrics path

Every target is a file_sd file: Prometheus watches the directory (and re-reads it every second),
so a service under test that starts after Prometheus, or a target a test adds, is scraped within
a scrape interval, with no reload. A target's labels set its `job` (the service's name) and its
`__metrics_path__`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from harness import _process
from harness._config import Project, PrometheusConfig

MOUNT = "/etc/prometheus/harness"  # where compose mounts the directory (compose.yaml)
CONFIG_FILE = "prometheus.yml"
TARGETS = "targets"
RULES = "rules"
JOB = "harness"


def directory(run: str) -> Path:
    """The run's configuration directory (it exists once the stack wrote it)."""
    return _process.run_dir(run) / "prometheus"


def document(settings: PrometheusConfig, rule_files: list[str]) -> dict[str, Any]:
    """prometheus.yml: the intervals, the rule files (paths in the container), the file_sd job."""
    return {
        "global": {
            "scrape_interval": settings.scrape_interval,
            "scrape_timeout": settings.scrape_interval,
            "evaluation_interval": settings.evaluation_interval,
        },
        "rule_files": [f"{MOUNT}/{RULES}/{name}" for name in rule_files],
        "scrape_configs": [
            {
                "job_name": JOB,
                "metrics_path": settings.metrics_path,
                "file_sd_configs": [
                    {"files": [f"{MOUNT}/{TARGETS}/*.json"], "refresh_interval": "1s"}
                ],
            }
        ],
    }


def write(run: str, project: Project | None) -> Path:
    """Write the run's directory from the project's `[prometheus]` table; returns it."""
    root = directory(run)
    shutil.rmtree(root / RULES, ignore_errors=True)
    for sub in (RULES, TARGETS):
        (root / sub).mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    settings = project.config.prometheus if project else PrometheusConfig()
    names = []
    for index, source in enumerate(project.rule_paths() if project else []):
        name = f"{index}-{source.name}"
        _write_text(root / RULES / name, source.read_text())
        names.append(name)
    for sub in (RULES, TARGETS):
        (root / sub).chmod(0o755)
    text = "# Written by mediastack-harness for this run: do not edit.\n"
    text += yaml.safe_dump(document(settings, names), sort_keys=False)
    _write_text(root / CONFIG_FILE, text)
    return root


def write_target(run: str, name: str, address: str, labels: dict[str, str]) -> Path:
    """Scrape `address` (host:port on 127.0.0.1) with these target labels, from now on."""
    path = directory(run) / TARGETS / f"{_file_name(name)}.json"
    _write_text(path, json.dumps([{"targets": [address], "labels": labels}], indent=1))
    return path


def remove_target(run: str, name: str) -> None:
    """Stop scraping a target written by `write_target`."""
    (directory(run) / TARGETS / f"{_file_name(name)}.json").unlink(missing_ok=True)


def target_names(run: str) -> list[str]:
    """The targets written so far (file names without `.json`)."""
    return sorted(path.stem for path in (directory(run) / TARGETS).glob("*.json"))


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _write_text(path: Path, text: str) -> None:
    """Atomically, readable by the container's user (nobody); never a half-written `*.json`."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as handle:
        handle.write(text)
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, path)
