"""`harness init`: what it writes, idempotence, never overwriting a changed file without force."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
import yaml

from harness import _config as config
from harness import _scaffold
from harness._errors import ConfigError
from tests.unit.test_workflow import _check_schema

EXPECTED = {
    "harness.toml",
    "harness.compose.yaml",
    "tests/integration/test_harness_redis.py",
    "tests/integration/test_harness_chromadb.py",
    "Makefile",
    ".github/workflows/integration.yml",
    ".gitignore",
}


def actions(root: Path, **options: object) -> dict[str, str]:
    return {
        str(item.path.relative_to(root)): item.action
        for item in _scaffold.init(root, **options)  # type: ignore[arg-type]
    }


def test_an_empty_repository_gets_every_file_and_a_loadable_config(tmp_path: Path) -> None:
    assert actions(tmp_path, backends=["redis", "chromadb"]) == dict.fromkeys(EXPECTED, "wrote")
    project = config.load_from(tmp_path / "harness.toml")
    assert project.backends == ["redis", "chromadb"]
    assert project.compose_paths == [(tmp_path / "harness.compose.yaml").resolve()]
    for test in tmp_path.glob("tests/integration/test_harness_*.py"):
        ast.parse(test.read_text())  # valid Python
    assert _check_schema(tmp_path / ".github/workflows/integration.yml").returncode == 0


def test_it_is_idempotent_and_keeps_changed_files_unless_forced(tmp_path: Path) -> None:
    actions(tmp_path, backends=["redis", "chromadb"])
    assert set(actions(tmp_path, backends=["redis", "chromadb"]).values()) == {"unchanged"}
    redis_test = "tests/integration/test_harness_redis.py"
    changed = tmp_path / redis_test
    changed.write_text("# mine\n")
    assert actions(tmp_path, backends=["redis"])[redis_test] == "kept"
    assert changed.read_text() == "# mine\n"
    forced = actions(tmp_path, backends=["redis"], force=True)
    assert forced[redis_test] == "overwrote"
    assert "redis_client" in changed.read_text()


def test_an_existing_pyproject_gets_the_section_and_a_makefile_gets_printed(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "vod-archive"\n')
    (tmp_path / "Makefile").write_text("build:\n\ttrue\n")
    done = actions(tmp_path, backends=["cablecast"])
    assert done["pyproject.toml"] == "appended" and done["Makefile"] == "print"
    assert (tmp_path / "Makefile").read_text() == "build:\n\ttrue\n"  # left alone
    document = tomllib.loads((tmp_path / "pyproject.toml").read_text())
    assert document["project"]["name"] == "vod-archive"
    assert document["tool"]["mediastack-harness"]["backends"] == ["cablecast"]
    assert actions(tmp_path, backends=["cablecast"])["pyproject.toml"] == "unchanged"


def test_the_workflow_runs_without_the_makefiles_targets(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text("test:\n\tpython -m unittest\n")
    assert actions(tmp_path, backends=["redis"])["Makefile"] == "print"
    workflow = yaml.safe_load((tmp_path / ".github/workflows/integration.yml").read_text())
    runs = [step.get("run", "") for step in workflow["jobs"]["integration"]["steps"]]
    assert not [run for run in runs if "make " in run]
    assert "pytest -n auto --dist loadgroup tests/integration" in runs


@pytest.mark.parametrize(
    ("backends", "install"),
    [
        (["redis", "litellm", "comfyui"], "pip install 'mediastack-harness[redis,openai]' -e ."),
        (["chromadb"], "pip install 'mediastack-harness[chroma]' -e ."),
        (["cablecast"], "pip install mediastack-harness -e ."),
    ],
)
def test_the_workflow_installs_the_extras_of_the_sample_tests(
    tmp_path: Path, backends: list[str], install: str
) -> None:
    """A sample test's client fixture needs its extra (redis_client: `redis`, ...)."""
    actions(tmp_path, backends=backends)
    workflow = yaml.safe_load((tmp_path / ".github/workflows/integration.yml").read_text())
    assert install in [step.get("run") for step in workflow["jobs"]["integration"]["steps"]]


def test_run_output_is_ignored_and_an_existing_gitignore_is_appended_once(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc\n/reports\n")
    assert actions(tmp_path, backends=["redis"])[".gitignore"] == "appended"
    assert actions(tmp_path, backends=["redis"])[".gitignore"] == "unchanged"
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[:2] == ["*.pyc", "/reports"] and lines[-1] == ".harness/"
    assert "reports/" not in lines  # already ignored as /reports


def test_an_unknown_backend_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        _scaffold.init(tmp_path, ["redis", "mongo"])
    assert str(refused.value) == (
        "unknown backend 'mongo'; known: redis, chromadb, litellm, comfyui, wan2gp, cablecast, "
        "prometheus"
    )
    assert list(tmp_path.iterdir()) == []


def test_prometheus_gets_its_table_a_starter_rules_file_and_a_sample_test(tmp_path: Path) -> None:
    done = actions(tmp_path, backends=["redis", "prometheus"])
    assert done == dict.fromkeys(
        {
            *EXPECTED - {"tests/integration/test_harness_chromadb.py"},
            "tests/integration/test_harness_prometheus.py",
            "monitoring/rules.yml",
        },
        "wrote",
    )
    project = config.load_from(tmp_path / "harness.toml")  # the rules file it names exists
    assert project.backends == ["redis", "prometheus"]
    assert project.config.prometheus.targets == []
    assert project.rule_paths() == [(tmp_path / "monitoring" / "rules.yml").resolve()]
    (group,) = yaml.safe_load((tmp_path / "monitoring" / "rules.yml").read_text())["groups"]
    (rule,) = group["rules"]
    assert (rule["alert"], rule["expr"]) == ("TargetDown", "up == 0")
    sample = (tmp_path / "tests/integration/test_harness_prometheus.py").read_text()
    assert "def test_prometheus_" in sample and '"TargetDown"' in sample
    ast.parse(sample)
    assert set(actions(tmp_path, backends=["redis", "prometheus"]).values()) == {"unchanged"}


def test_a_pyproject_gets_the_prometheus_table_under_its_tool_section(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "monitored"\n')
    actions(tmp_path, backends=["prometheus"])
    document = tomllib.loads((tmp_path / "pyproject.toml").read_text())
    section = document["tool"]["mediastack-harness"]
    assert section["backends"] == ["prometheus"]
    assert section["prometheus"] == {"targets": [], "rules": ["monitoring/rules.yml"]}
    assert "prometheus" not in document  # no top-level table outside the tool section
    assert config.load_from(tmp_path / "pyproject.toml").rule_paths()[0].is_file()


def test_without_prometheus_the_table_is_a_comment_and_no_rules_file_is_written(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "quiet"\n')
    actions(tmp_path)  # the default: every backend but prometheus
    text = (tmp_path / "pyproject.toml").read_text()
    section = tomllib.loads(text)["tool"]["mediastack-harness"]
    assert section["backends"] == list(config.BUILTIN_BACKENDS)
    assert "prometheus" not in section
    assert "# [tool.mediastack-harness.prometheus]\n# targets = []" in text
    assert not (tmp_path / "monitoring").exists()
    assert not (tmp_path / "tests/integration/test_harness_prometheus.py").exists()


def test_a_harness_toml_names_its_tables_without_the_tool_prefix(tmp_path: Path) -> None:
    actions(tmp_path, backends=["redis"])
    text = (tmp_path / "harness.toml").read_text()
    assert "# [services.api]" in text and "# [prometheus]" in text
    assert "tool.mediastack-harness" not in text


def test_shards_give_a_shard_matrix_and_a_merge_job_that_gathers_them(tmp_path: Path) -> None:
    actions(tmp_path, backends=["redis"], shards=3)
    path = tmp_path / ".github/workflows/integration.yml"
    assert _check_schema(path).returncode == 0
    jobs = yaml.safe_load(path.read_text())["jobs"]
    integration, merge = jobs["integration"], jobs["merge"]
    assert integration["strategy"]["matrix"]["shard"] == [1, 2, 3]
    runs = [step.get("run", "") for step in integration["steps"]]
    shard = "--harness-shard ${{ matrix.shard }}/3"
    assert "pytest -n auto --dist loadgroup tests/integration " + shard in runs
    (upload,) = [s for s in integration["steps"] if "upload-artifact" in s.get("uses", "")]
    (download,) = [s for s in merge["steps"] if "download-artifact" in s.get("uses", "")]
    assert upload["with"]["name"].endswith("-shard${{ matrix.shard }}")
    assert download["with"]["pattern"] == upload["with"]["name"].replace("${{ matrix.shard }}", "*")
    assert merge["needs"] == "integration" and merge["if"] == "always()"
    script = [step.get("run", "") for step in merge["steps"]]
    assert "harness report merge shards --out merged --history .harness-history" in script


def test_no_shards_is_the_plain_workflow_and_zero_is_refused(tmp_path: Path) -> None:
    actions(tmp_path / "one", backends=["redis"], shards=1)
    plain = (tmp_path / "one/.github/workflows/integration.yml").read_text()
    assert "merge" not in yaml.safe_load(plain)["jobs"] and "--harness-shard" not in plain
    with pytest.raises(ConfigError, match="--shards 0: give 1"):
        _scaffold.init(tmp_path / "zero", ["redis"], shards=0)
    assert not (tmp_path / "zero").exists()
