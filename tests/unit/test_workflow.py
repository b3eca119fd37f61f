"""The GitHub Actions workflows, checked here since they cannot run here: GitHub's schema, the
suites and Pythons of the matrix, `if: always()` on the cleanup, Makefile targets that exist, the
floors job, the shards' merge job, and the release's build and trusted-publishing jobs."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
WORKFLOW = ROOT / ".github" / "workflows" / "integration.yml"
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
OLD_VERSIONS = ROOT / ".github" / "workflows" / "old-versions.yml"
CHECK_JSONSCHEMA = [sys.executable, "-m", "check_jsonschema"]
SUITES = ["smoke", "faults", "streaming", "load", "e2e"]


@pytest.fixture(scope="module")
def job() -> dict[str, Any]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return dict(workflow["jobs"]["integration"])


def _steps(job: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if key in step]


def _uses(job: dict[str, Any], action: str) -> dict[str, Any]:
    (step,) = [s for s in _steps(job, "uses") if s["uses"].split("@")[0] == action]
    return step


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {
        name
        for line in text.splitlines()
        if (match := re.match(r"^([A-Za-z0-9_.-]+(?: [A-Za-z0-9_.-]+)*)\s*:(?!=)", line))
        for name in match.group(1).split()
    }


def make_calls(command: str) -> list[list[str]]:
    """Each `make ...` in a shell line, as [targets and VAR=value arguments]."""
    calls = []
    for part in re.split(r"&&|\|\||;|\n", command):
        part = re.sub(r"\$\{\{[^}]*\}\}", "x", part.replace("${{ matrix.suite }}", "smoke"))
        words = shlex.split(part)
        if "make" in words:
            calls.append(words[words.index("make") + 1 :])
    return calls


def _check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with its vendored copy of GitHub's workflow schema (offline)."""
    return subprocess.run(
        [*CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_workflow_matches_githubs_schema(workflow: Path) -> None:
    checked = _check_schema(workflow)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _jobs(workflow: Path) -> dict[str, dict[str, Any]]:
    return dict(yaml.safe_load(workflow.read_text())["jobs"])


@pytest.mark.parametrize("workflow", [RELEASE, OLD_VERSIONS], ids=["release", "old-versions"])
def test_every_make_call_of_the_other_workflows_expands(workflow: Path) -> None:
    targets = makefile_targets()
    for job in _jobs(workflow).values():
        for step in _steps(job, "run"):
            for call in make_calls(step["run"]):
                named = [word for word in call if "=" not in word and not word.startswith("-")]
                assert named and set(named) <= targets, (step["run"], sorted(targets))
                dry = subprocess.run(
                    ["make", "-n", "-C", str(ROOT), *call],
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert dry.returncode == 0, (call, dry.stderr)


def test_the_old_versions_job_runs_the_unit_tests_at_the_floors() -> None:
    job = _jobs(OLD_VERSIONS)["old-versions"]
    assert [make_calls(step["run"]) for step in _steps(job, "run")] == [[["test-floors"]]]
    assert _uses(job, "actions/setup-python")["with"]["python-version"] == "3.11"


def test_a_tag_builds_then_publishes_to_pypi_by_trusted_publishing() -> None:
    workflow = yaml.safe_load(RELEASE.read_text())
    assert workflow[True]["push"] == {"tags": ["v*"]}  # YAML 1.1 reads `on` as true
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    (run,) = [call for step in _steps(build, "run") for call in make_calls(step["run"])]
    assert {"dist", "RELEASE_TAG=x"} <= set(run)
    assert _uses(build, "actions/upload-artifact")["with"]["name"] == "dist"
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    assert _uses(publish, "actions/download-artifact")["with"]["name"] == "dist"
    assert _uses(publish, "pypa/gh-action-pypi-publish")["uses"].endswith("@release/v1")
    assert "with" not in _uses(publish, "pypa/gh-action-pypi-publish")  # no token: OIDC


def test_a_broken_workflow_fails_the_schema(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on:", "runs-onn:"))
    assert _check_schema(broken).returncode == 1


def test_matrix_is_every_shard_on_both_pythons(job) -> None:
    assert job["strategy"]["matrix"] == {"shard": [1, 2, 3], "python": ["3.11", "3.12"]}
    assert job["strategy"]["fail-fast"] is False
    setup = _uses(job, "actions/setup-python")
    assert setup["with"]["python-version"] == "${{ matrix.python }}"
    assert setup["with"]["cache"] == "pip"


def test_suites_are_registered_markers() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    markers = {line.split(":")[0] for line in config["tool"]["pytest"]["ini_options"]["markers"]}
    assert set(SUITES) <= markers


def test_images_are_the_compose_files_upstream_defaults(job) -> None:
    compose = (ROOT / "compose" / "compose.yaml").read_text()
    defaults = dict(re.findall(r"\$\{(HARNESS_\w+_IMAGE):-([^}]+)\}", compose))
    pinned = {k: v for k, v in job["env"].items() if k.endswith("_IMAGE")}
    upstream = {k: v for k, v in defaults.items() if not v.startswith("mediastack-harness/")}
    assert pinned == upstream


def test_each_job_runs_its_shard_of_both_suites_through_make(job) -> None:
    count = len(job["strategy"]["matrix"]["shard"])
    shard = f'PYTEST_ARGS="--harness-shard ${{{{ matrix.shard }}}}/{count}"'
    runs = [step["run"] for step in _steps(job, "run")]
    for target in ("test-integration", "test-studio"):
        assert any(f"make {target} {shard}" in run for run in runs), (target, runs)


def test_the_merge_job_joins_each_pythons_shards_with_their_history() -> None:
    jobs = _jobs(WORKFLOW)
    integration, merge = jobs["integration"], jobs["merge"]
    assert merge["needs"] == "integration" and merge["if"] == "always()"
    assert merge["strategy"]["matrix"]["python"] == integration["strategy"]["matrix"]["python"]
    uploaded = [s["with"]["name"] for s in _steps(integration, "uses") if "upload" in s["uses"]]
    patterns = [
        s["with"]["pattern"] for s in _steps(merge, "uses") if "download-artifact" in s["uses"]
    ]
    for name in uploaded:  # every shard's artifact is downloaded by exactly one pattern
        shard = name.replace("${{ matrix.shard }}", "1")
        assert (
            sum(
                re.fullmatch(re.escape(p).replace(r"\*", ".*"), shard) is not None for p in patterns
            )
            == 1
        )
    script = "\n".join(step["run"] for step in _steps(merge, "run"))
    assert "harness report merge shards --out merged --history .harness-history/" in script
    assert "harness durations update merged" in script
    cache = _uses(merge, "actions/cache")["with"]
    assert cache["path"] == ".harness-history" and "github.run_id" in cache["key"]
    assert cache["restore-keys"] in cache["key"]


def test_every_run_step_calls_makefile_targets_that_exist(job) -> None:
    targets = makefile_targets()
    for step in _steps(job, "run"):
        calls = make_calls(step["run"])
        assert calls, f"step {step.get('name')!r} runs no make target"
        for call in calls:
            named = [word for word in call if "=" not in word and not word.startswith("-")]
            assert named and set(named) <= targets, (step["run"], sorted(targets))


def test_the_make_targets_expand(job) -> None:
    """`make -n` of each workflow call: the recipe parses and every prerequisite is known."""
    for step in _steps(job, "run"):
        for call in make_calls(step["run"]):
            dry = subprocess.run(
                ["make", "-n", "-C", str(ROOT), *call], capture_output=True, text=True, timeout=60
            )
            assert dry.returncode == 0, (call, dry.stderr)


def test_reports_summary_and_cleanup_always_run(job) -> None:
    uploads = [s for s in _steps(job, "uses") if s["uses"].startswith("actions/upload-artifact")]
    (upload,) = [s for s in uploads if s["with"]["path"].rstrip("/") == "reports"]
    assert all(s["if"] == "always()" for s in uploads)
    assert upload["with"]["path"].rstrip("/") == "reports"
    assert job["env"]["HARNESS_REPORTS_DIR"].endswith("/reports")
    always = {
        call[0]
        for step in _steps(job, "run")
        if step.get("if") == "always()"
        for call in make_calls(step["run"])
    }
    assert {"ci-summary", "ci-logs", "ci-down"} <= always
    last = job["steps"][-1]
    assert last["if"] == "always()" and make_calls(last["run"]) == [["ci-down"]]
