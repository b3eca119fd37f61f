"""Every code block of README.md and docs/**/*.md is run or checked; none can rot.

Each fenced block falls under exactly one rule, by language:

- python, starting `# from FILE`: FILE's code, verbatim (each top-level statement shown equals
  FILE's statement of that name); those files run in the suites (the studio's monitoring suite
  in `make test-studio`, tests/integration/... in the integration suite).
- python defining `test_` functions: a test module, run unchanged by an inner pytest against a
  ComfyUI mock process (`comfyui_url`); every test it defines must pass.
- other python: a script, run from the repository root; it must exit 0.
- toml: loaded by the harness's own configuration loader (harness._config.load_from), as the
  pyproject.toml (`[tool.mediastack-harness...]` tables) or harness.toml of a project whose
  compose overlay and rule file are those the docs name; it must validate.
- yaml: a fault scenario, validated by harness.faults.scenario, each step's arguments bound
  to the signature of its `Faults` method.
- sh / console (console: the `$ ` lines): every command line is `harness ...` (parsed by the
  real Typer CLI with each command's body replaced; `--help` and `init` lines also run for real
  in a scratch directory), `make ...` (targets and variables of the Makefile), `pytest ...`
  (pytest's own parser with the installed plugins; paths exist here), `pip install|wheel`
  (this project, its extras, or `.`) or `python -m MODULE|FILE ...` (`--help` of the module
  runs, options it shows; a file exists).
- text: a tree listing; each path in its first column exists in the repository.

A block of any other language, or one no rule accepts, fails naming its file and line.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer.main
import yaml
from typer.testing import CliRunner

from harness import _config as harness_config
from harness.cli import app
from harness.faults import Faults
from harness.faults.scenario import Scenario
from tests._markdown import ROOT, Block, all_blocks, top_level
from tests._pytest_run import run_pytest
from tests.unit.mocks.conftest import MockProcesses
from tests.unit.test_workflow import make_calls, makefile_targets

BLOCKS = all_blocks()
SOURCE = re.compile(r"# from (?P<path>\S+)\n")
SHELLS = ("sh", "console")

MOCK_CONFTEST = '''
import pytest

from tests.unit.mocks.conftest import MockProcesses


@pytest.fixture(scope="session")
def comfyui_url():
    """The ComfyUI mock as a local process, where the plugin's fixture would give the stack's."""
    procs = MockProcesses()
    try:
        yield procs.start("comfyui", "--step-seconds", "0", "--no-previews")
    finally:
        procs.close()
'''

# The project the docs' TOML examples describe: its compose overlay and its rule file.
COMPOSE_OVERLAY = """
services:
  postgres:
    image: postgres:16
    healthcheck: {test: ["CMD", "pg_isready"], interval: 1s}
  web:
    build: web
    healthcheck: {test: ["CMD", "true"], interval: 1s}
"""
RULES = "groups: [{name: example, rules: [{alert: TargetDown, expr: up == 0}]}]\n"


def kind(block: Block) -> str:
    """The rule a block falls under ('' for none)."""
    if block.language == "python":
        if SOURCE.match(block.text):
            return "python-verbatim"
        names = [getattr(node, "name", "") for node in ast.parse(block.text).body]
        return "python-tests" if any(n.startswith("test_") for n in names) else "python-script"
    if block.language in ("toml", "yaml", "text", "json", "http"):
        return block.language
    return "shell" if block.language in SHELLS else ""


def of_kind(name: str) -> list[Any]:
    return [pytest.param(b, id=b.where) for b in BLOCKS if kind(b) == name]


def test_every_block_falls_under_a_rule() -> None:
    uncovered = [f"{b.where}: ```{b.language}" for b in BLOCKS if not kind(b)]
    assert not uncovered, "blocks no rule covers:\n" + "\n".join(uncovered)
    assert {kind(b) for b in BLOCKS} >= {"python-verbatim", "python-tests", "toml", "shell"}


# -- python --------------------------------------------------------------------------------------
def check_verbatim(block: Block) -> None:
    named = SOURCE.match(block.text)
    assert named, f"{block.where}: names no source (# from FILE)"
    original = top_level((ROOT / named["path"]).read_text())
    shown = top_level(block.text[named.end() :])
    assert any(text.lstrip().startswith(("def ", "@")) for text in shown.values()), block.where
    for name, text in shown.items():
        assert original.get(name) == text, f"{block.where}: {name} differs from {named['path']}"


@pytest.mark.parametrize("block", of_kind("python-verbatim"))
def test_python_block_is_verbatim_code_of_a_file_that_runs(block: Block) -> None:
    check_verbatim(block)


def test_python_test_blocks_run_against_the_comfyui_mock(tmp_path: Path) -> None:
    blocks = [b for b in BLOCKS if kind(b) == "python-tests"]
    expected = []
    for index, block in enumerate(blocks):
        module = f"test_doc_{index}_{block.path.stem.replace('-', '_')}_{block.line}.py"
        (tmp_path / module).write_text(block.text)
        names = [getattr(node, "name", "") for node in ast.parse(block.text).body]
        expected += [f"{module}::{name}" for name in names if name.startswith("test_")]
    (tmp_path / "conftest.py").write_text(MOCK_CONFTEST)
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    outcome = run_pytest(tmp_path, "-p", "no:xdist", env={"PYTHONPATH": pythonpath})
    outcome.assert_passed(expected)


@pytest.mark.parametrize("block", of_kind("python-script"))
def test_python_script_block_runs(block: Block, mocks: MockProcesses) -> None:
    """Run from the repository; a script of a mock's README gets that mock as `<NAME>_URL`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    mock = _mock_of(block)
    if mock:
        env[f"{mock.upper()}_URL"] = mocks.start(mock) + "/"
    done = subprocess.run(
        [sys.executable, "-c", block.text],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{block.where}:\n{done.stdout}{done.stderr}"


@pytest.fixture(scope="module")
def mocks() -> Any:
    """Mock processes the blocks of a mock's README run against."""
    started = MockProcesses()
    try:
        yield started
    finally:
        started.close()


def _mock_of(block: Block) -> str | None:
    """`wan2gp` for a block of mocks/wan2gp/README.md; None elsewhere."""
    parts = block.path.relative_to(ROOT).parts
    return parts[1] if parts[0] == "mocks" else None


# -- json and http: a mock's request bodies and its own routes ----------------------------------
@pytest.mark.parametrize("block", of_kind("json"))
def test_json_block_parses(block: Block) -> None:
    json.loads(block.text)


@pytest.mark.parametrize("block", of_kind("http"))
def test_http_block_is_answered_by_its_mock(block: Block, mocks: MockProcesses) -> None:
    """Each `METHOD /path [JSON body]` line, sent to the README's own mock, answers 200."""
    mock = _mock_of(block)
    assert mock, f"{block.where}: an http block belongs in a mock's README"
    base = mocks.start(mock, reuse=True)
    for line in block.text.splitlines():
        method, path, *body = line.split(" ", 2)
        answer = httpx.request(method, base + path, json=json.loads(body[0]) if body else None)
        assert answer.status_code == 200, f"{block.where}: {line}: {answer.status_code}"


# -- toml ----------------------------------------------------------------------------------------
def load_toml(text: str, project: Path) -> harness_config.Project:
    """A TOML block as a project's configuration file, validated by the harness's loader."""
    (project / "monitoring").mkdir(parents=True, exist_ok=True)
    (project / "monitoring" / "rules.yml").write_text(RULES)
    (project / "harness.compose.yaml").write_text(COMPOSE_OVERLAY)
    document = tomllib.loads(text)
    if "tool" in document:
        assert set(document) == {"tool"} and set(document["tool"]) == {"mediastack-harness"}
        source = project / harness_config.PYPROJECT
    else:
        source = project / harness_config.HARNESS_TOML
    source.write_text(text)
    assert harness_config._section(source), "no [tool.mediastack-harness] table"
    return harness_config.load_from(source)


@pytest.mark.parametrize("block", of_kind("toml"))
def test_toml_block_is_a_valid_configuration(block: Block, tmp_path: Path) -> None:
    load_toml(block.text, tmp_path)


# -- yaml ----------------------------------------------------------------------------------------
def check_scenario(text: str) -> None:
    scenario = Scenario.parse(yaml.safe_load(text))
    assert scenario.steps
    for _, step, arguments in scenario.steps:
        if step.fault is not None:
            inspect.signature(getattr(Faults, step.fault)).bind(None, **arguments)


@pytest.mark.parametrize("block", of_kind("yaml"))
def test_yaml_block_is_a_valid_scenario(block: Block) -> None:
    check_scenario(block.text)


# -- text ----------------------------------------------------------------------------------------
def check_tree(text: str) -> None:
    listed = [line.split("  ")[0] for line in text.splitlines() if line and line[0] != " "]
    assert listed
    for entry in listed:
        for path in entry.split(", "):
            prefix = path.split("<")[0]
            assert (ROOT / prefix).exists(), f"{path}: no such path in the repository"


@pytest.mark.parametrize("block", of_kind("text"))
def test_text_block_lists_paths_that_exist(block: Block) -> None:
    check_tree(block.text)


# -- shell ---------------------------------------------------------------------------------------
def command_lines(block: Block) -> list[list[str]]:
    lines = block.text.splitlines()
    if block.language == "console":
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    return [words for line in lines if (words := shlex.split(line, comments=True))]


class ParseOnly:
    """The real CLI with every command's and group's body replaced by a recorder: parsing and
    validation run as in `harness ...`, no command does anything."""

    def __init__(self) -> None:
        self.cli = typer.main.get_command(app)
        self.called: list[str] = []
        self.replaced = 0
        stack = [self.cli]
        while stack:
            command = stack.pop()
            command.callback = self._recorder(command.name or "harness")
            self.replaced += 1
            stack.extend(getattr(command, "commands", {}).values())  # Typer's own click groups

    def _recorder(self, name: str) -> Any:
        return lambda *args, **kwargs: self.called.append(name)

    def parse(self, args: list[str]) -> None:
        try:
            code = self.cli.main(args, prog_name="harness", standalone_mode=False)
        except Exception as error:  # Typer's vendored click raises its own UsageError kinds
            message = error.format_message() if hasattr(error, "format_message") else repr(error)
            raise AssertionError(f"harness {shlex.join(args)}: {message}") from None
        assert code in (None, 0), f"harness {shlex.join(args)}: exit {code}"
        assert "--help" in args or self.called, f"harness {shlex.join(args)}: nothing parsed"


def check_harness(args: list[str]) -> None:
    parser = ParseOnly()
    assert parser.replaced > 20, "the CLI's command tree was not walked"
    parser.parse(args)


PYTEST_PARSE = """
import sys
from _pytest.config import get_config
config = get_config()
config.pluginmanager.load_setuptools_entrypoints("pytest11")
print("\\n".join(config._parser.parse(sys.argv[1:]).file_or_dir))
"""


def check_pytest(args: list[str]) -> None:
    parsed = subprocess.run(
        [sys.executable, "-c", PYTEST_PARSE, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert parsed.returncode == 0, f"pytest {shlex.join(args)}: {parsed.stderr[-800:]}"
    for path in parsed.stdout.split():
        assert (ROOT / path).exists(), f"pytest {shlex.join(args)}: no {path}"


def check_make(args: list[str]) -> None:
    makefile = (ROOT / "Makefile").read_text()
    (call,) = make_calls(shlex.join(["make", *args]))
    for word in call:
        name, assigned, _ = word.partition("=")
        if assigned:
            assert re.search(rf"\$\({name}\)|^{name} \?=", makefile, re.M), word
        else:
            assert word in makefile_targets(), f"make {word}: no such target"


def check_pip(args: list[str]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert args[0] in ("install", "wheel"), args
    for word in args[1:]:
        if word.startswith("-") or word == ".":
            continue
        name, _, extras = word.partition("[")
        assert name == project["name"], word
        wanted = set(filter(None, extras.rstrip("]").split(",")))
        assert wanted <= set(project["optional-dependencies"]), word


def check_python(args: list[str]) -> None:
    if args[0] != "-m":
        assert (ROOT / args[0]).is_file(), args
        return
    shown = subprocess.run(
        [sys.executable, "-m", args[1], "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, f"python -m {args[1]} --help: {shown.stderr[-800:]}"
    for option in (word.split("=")[0] for word in args[2:] if word.startswith("-")):
        assert option in shown.stdout, f"python -m {args[1]}: no option {option}"


CHECKS = {
    "harness": check_harness,
    "make": check_make,
    "pytest": check_pytest,
    "pip": check_pip,
    "python": check_python,
}


def check_command(words: list[str]) -> None:
    check = CHECKS.get(words[0])
    assert check, f"no rule for the command {words[0]!r}"
    check(words[1:])


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch directory as the working directory, and no Docker to reach: a check that ran
    a command instead of parsing it would fail rather than act."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    monkeypatch.setenv("HARNESS_PROJECT_ROOT", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("block", of_kind("shell"))
def test_shell_block_commands_exist_and_parse(block: Block, nowhere: Path) -> None:
    lines = command_lines(block)
    assert lines, f"{block.where}: no command"
    for words in lines:
        try:
            check_command(words)
        except AssertionError as error:
            raise AssertionError(f"{block.where}: {shlex.join(words)}: {error}") from None


def test_harmless_harness_commands_run(nowhere: Path) -> None:
    """`harness --help` and `harness init` lines run for real, in a scratch directory."""
    tmp_path = nowhere
    ran = []
    for block in BLOCKS:
        if kind(block) != "shell":
            continue
        for words in command_lines(block):
            if words[0] == "harness" and (words[1:2] == ["init"] or "--help" in words):
                outcome = CliRunner().invoke(app, words[1:])
                assert outcome.exit_code == 0, f"{block.where}: {outcome.output}"
                ran.append(words)
    assert any(words[1] == "init" for words in ran)
    assert (tmp_path / "harness.toml").is_file() or (tmp_path / "pyproject.toml").is_file()


# -- the rules fail on what they must refuse -----------------------------------------------------
@pytest.mark.parametrize(
    ("check", "argument"),
    [
        (check_harness, ["fault", "add", "latency"]),  # SERVICE missing
        (check_harness, ["up", "--service", "redis"]),  # no such option
        (check_harness, ["faults", "list"]),  # no such command
        (check_make, ["tset"]),
        (check_make, ["test", "MARKS=faults"]),
        (check_pytest, ["--stack-service", "redis", "tests"]),
        (check_pytest, ["tests/nowhere"]),
        (check_pip, ["install", "mediastack-harness[doc]"]),
        (check_python, ["-m", "harness.mocks.comfyui", "--prot", "8188"]),
        (check_command, ["docker", "ps"]),
        (check_scenario, "steps: [{at: 0, fault: latency, service: redis, milliseconds: 3}]"),
        (check_scenario, "steps: [{at: 0, fault: earthquake, service: redis}]"),
        (check_tree, "harness/nowhere.py   what is not there\n"),
        (check_verbatim, "# from tests/integration/test_backends.py\ndef test_x():\n    pass\n"),
    ],
)
def test_a_broken_example_fails_its_rule(check: Any, argument: Any, nowhere: Path) -> None:
    if check is check_verbatim:
        argument = Block(ROOT / "README.md", 1, "python", argument, "")
    with pytest.raises(Exception):  # noqa: B017 - an assertion, or the checked code's own error
        check(argument)


@pytest.mark.parametrize(
    "text",
    [
        '[tool.mediastack-harness]\nbackend = ["redis"]\n',  # unknown key
        '[tool.mediastack-harnes]\nbackends = ["redis"]\n',  # no such table
        '[tool.mediastack-harness.services.api]\ncommand = ["api"]\n',  # a process needs health
        "[tool.mediastack-harness.extra-backends.mysql]\nport = 3306\n",  # not in the overlay
    ],
)
def test_a_broken_configuration_fails_its_rule(text: str, tmp_path: Path) -> None:
    with pytest.raises(Exception):  # noqa: B017 - an assertion or the loader's ConfigError
        load_toml(text, tmp_path)
