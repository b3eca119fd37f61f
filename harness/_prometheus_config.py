"""A run's Prometheus configuration directory, written here and copied into the container.

    prometheus.yml       global intervals, the rule files, one file_sd scrape job
    rules/<n>-<name>     copies of the project's rule files
    targets/<name>.json  one file per scraped service: its address, `job` and metrics path

Every target is a file_sd file: Prometheus watches the directory (and re-reads it every second),
so a service under test that starts after Prometheus, or a target a test adds, is scraped within
a scrape interval, with no reload. A target's labels set its `job` (the service's name) and its
`__metrics_path__`.

The container gets the files by copy (`push`: the engine's archive API), never by a bind mount,
which a remote engine could not do: the whole directory before it starts, then each target file
as it is written; a removed target becomes an empty list there.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import yaml

from harness import _docker, _labels, _process
from harness._config import Project, PrometheusConfig

MOUNT = "/etc/prometheus/harness"  # where the container has the directory (compose.yaml)
SERVICE = "prometheus"
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
    """Scrape `address` (host:port as the Prometheus container reaches it) with these target
    labels, from now on."""
    path = directory(run) / TARGETS / f"{_file_name(name)}.json"
    text = json.dumps([{"targets": [address], "labels": labels}], indent=1)
    _write_text(path, text)
    push(run, {f"{TARGETS}/{path.name}": text})
    return path


def remove_target(run: str, name: str) -> None:
    """Stop scraping a target written by `write_target`."""
    path = directory(run) / TARGETS / f"{_file_name(name)}.json"
    path.unlink(missing_ok=True)
    push(run, {f"{TARGETS}/{path.name}": "[]"})


def push(run: str, files: dict[str, str] | None = None) -> None:
    """Copy files (relative path -> text; by default the whole directory) into the run's
    Prometheus container, created or running; nothing when it has none."""
    found = _docker.client().containers.list(
        all=True, filters={"label": [f"{_labels.PROJECT}={run}", f"{_labels.SERVICE}={SERVICE}"]}
    )
    if not found:
        return
    root = directory(run)
    if files is None:
        files = {
            str(path.relative_to(root)): path.read_text()
            for path in sorted(root.rglob("*"))
            if path.is_file() and not path.name.endswith(".tmp")
        }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for sub in (RULES, TARGETS):
            entry = tarfile.TarInfo(sub)
            entry.type, entry.mode = tarfile.DIRTYPE, 0o755
            archive.addfile(entry)
        for relative, text in files.items():
            data = text.encode()
            entry = tarfile.TarInfo(relative)
            entry.size, entry.mode = len(data), 0o644  # the container runs as nobody
            archive.addfile(entry, io.BytesIO(data))
    found[0].put_archive(MOUNT, buffer.getvalue())


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
