"""The plugins' options cannot swallow a path: each is a flag or takes exactly one value."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._pytest_run import run_pytest

GROUPS = ("mediastack-harness", "mediastack-harness-blender")


def _harness_options(config: pytest.Config) -> list[tuple[str, dict[str, object]]]:
    parser = config._parser  # pytest's own parser, which every plugin added its options to
    return [
        (option.names()[0], option.attrs())
        for group in parser._groups
        if group.name in GROUPS
        for option in group.options
    ]


def test_no_option_takes_an_optional_value(pytestconfig: pytest.Config) -> None:
    options = _harness_options(pytestconfig)
    assert {"--attach-stack", "--attach-run", "--keep-stack", "--harness-reports"} <= {
        name for name, _ in options
    }
    assert [name for name, attrs in options if attrs.get("nargs") in ("?", "*")] == []


@pytest.mark.parametrize(
    "flag", ["--attach-stack", "--keep-stack"], ids=["attach-stack", "keep-stack"]
)
def test_a_flag_leaves_the_path_after_it_alone(tmp_path: Path, flag: str) -> None:
    (tmp_path / "harness.toml").write_text('backends = ["redis"]\n')
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    (tmp_path / "test_two.py").write_text("def test_two():\n    pass\n")
    run_pytest(tmp_path, flag, "test_one.py").assert_passed(["test_one.py::test_one"])
