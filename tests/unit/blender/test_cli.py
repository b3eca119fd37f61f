"""`harness blender`: bad input is one line and exit 1; `show` prints a panel headless."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app

from .test_session import ADDON, write_addon


def test_bad_addon_paths_are_one_line(tmp_path: Path) -> None:
    plain = write_addon(tmp_path, "plain", "x = 1\n")
    for args, expected in [
        (["blender", "run", str(tmp_path / "missing")], "does not exist"),
        (["blender", "run", str(plain)], "no bl_info in __init__.py and no blender_manifest"),
        (["blender", "show", str(tmp_path / "missing")], "does not exist"),
    ]:
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1, result.output
        assert expected in result.output
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_register_raising_is_one_line(tmp_path: Path) -> None:
    raising = write_addon(
        tmp_path,
        "raising",
        'bl_info = {"name": "R", "blender": (4, 2, 0)}\n'
        "def register():\n    raise ValueError('no backend configured')\n",
    )
    result = CliRunner().invoke(app, ["blender", "show", str(raising)])
    assert result.exit_code == 1
    assert "register() of add-on raising raised ValueError: no backend configured" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    log = Path(result.output.split("(see the log: ")[1].split(")")[0])
    assert "raise ValueError('no backend configured')" in log.read_text()
    log.unlink()


def test_show_prints_the_panel_tree(tmp_path: Path) -> None:
    folder = write_addon(tmp_path, "probe", ADDON)
    result = CliRunner().invoke(app, ["blender", "show", str(folder)])
    assert result.exit_code == 0, result.output
    assert "PROBE_PT_main — 'Probe' (poll: True)" in result.output
    assert "label 'count 0' icon=INFO" in result.output
    assert "prop 'Backend URL' = 'http://127.0.0.1:1'" in result.output
    assert "operator probe.talk 'Warn' {'level': 'WARNING'}" in result.output
