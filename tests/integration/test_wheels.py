"""The images' wheelhouse from a host whose Python is not the images' (Debian's 3.11): the
requirements are resolved for the images' Python, as wheels from the index (PyPI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from harness import _wheels
from harness._errors import HarnessError


def wheels_in(directory: Path) -> dict[str, set[tuple[str, str]]]:
    """Each wheel's distribution name and its (interpreter, abi) tags."""
    found = {}
    for wheel in directory.glob("*.whl"):
        name, _, _, tags = parse_wheel_filename(wheel.name)
        found[str(name)] = {(t.interpreter, t.abi) for t in tags}
    return found


def test_another_python_gets_wheels_for_the_images_python(tmp_path: Path) -> None:
    # from this 3.11 host for a 3.12 image: what a 3.12 host does for the 3.11 images
    _wheels.build(["markupsafe==3.0.2", "idna==3.10"], tmp_path, python=(3, 12))
    found = wheels_in(tmp_path)
    assert found.keys() == {"markupsafe", "idna"}
    assert found["markupsafe"] == {("cp312", "cp312")}
    assert found["idna"] == {("py3", "none")}


def test_the_wheels_fetched_for_the_images_python_install_with_no_index(tmp_path: Path) -> None:
    # fetched for this Python as another host fetches them for the images': they install offline
    wheels = tmp_path / "wheels"
    _wheels.download(["markupsafe==3.0.2"], wheels, sys.version_info[:2])
    here = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert wheels_in(wheels)["markupsafe"] == {(here, here)}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = [str(venv / "bin" / "pip"), "install", "--quiet", "--no-index"]
    subprocess.run([*install, "--find-links", str(wheels), "markupsafe"], check=True)
    escaped = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import markupsafe; print(markupsafe.escape('<'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert escaped.stdout.strip() == "&lt;"


def test_a_release_without_a_wheel_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HarnessError) as raised:
        _wheels.build(["harness-no-such-distribution==0.0.1"], tmp_path, python=(3, 12))
    message = str(raised.value)
    assert message.startswith("no wheels for the images' Python 3.12 from this Python 3.")
    assert "harness-no-such-distribution==0.0.1" in message
    assert message.endswith(": build the images with Python 3.12")
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == []  # nothing half-applied
