"""An adopter's own `mocks` and `tests` packages and the installed harness do not shadow each
other: the wheel (not an editable install, whose finder would hide a collision) installs
`harness` alone at top level, and the mocks as `harness.mocks`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration._outside import installed_venv, outside_env, run

pytestmark = pytest.mark.timeout(1200)

# Run inside the adopter's directory (its first sys.path entry), as its own tests would be.
CHECK = """
import json, socket, subprocess, sys

import httpx

import harness.data
import mocks, tests
from harness import wait_for


def serve(name):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", f"harness.mocks.{name}", "--host", "127.0.0.1"]
    process = subprocess.Popen([*command, "--port", str(port)])
    base = f"http://127.0.0.1:{port}"

    def healthy():
        try:
            return httpx.get(base + "/__harness/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return process.poll() is not None  # ended: the assertion below says so
    wait_for(healthy, 60, f"the {name} mock")
    assert process.poll() is None, f"the {name} mock ended: {process.returncode}"
    return process, base


seen = {"own": [mocks.OWN, tests.OWN]}
seen["object_info"] = len(harness.data.mock_object_info())
seen["dataset_shows"] = len(harness.data.cablecast_dataset(seed=7, shows=5)["shows"])
comfyui, comfyui_url = serve("comfyui")
cablecast, cablecast_url = serve("cablecast")
try:
    seen["served_object_info"] = len(httpx.get(comfyui_url + "/object_info", timeout=30).json())
    shows = httpx.get(cablecast_url + "/cablecastapi/v1/shows", timeout=30).json()
    seen["served_shows"] = len(shows["shows"]) > 0
finally:
    for process in (comfyui, cablecast):
        process.terminate()
        process.wait(timeout=30)
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return installed_venv(tmp_path_factory.mktemp("boundary-venv"), "[mocks]")


def test_the_wheel_installs_only_harness_at_top_level(venv: Path, tmp_path: Path) -> None:
    (record,) = venv.glob("lib/python*/site-packages/mediastack_harness-*.dist-info/RECORD")
    paths = [line.split(",")[0] for line in record.read_text().splitlines()]
    in_site_packages = [p for p in paths if not p.startswith("../")]  # scripts go to bin/
    tops = {p.split("/")[0] for p in in_site_packages if ".dist-info/" not in p}
    assert tops == {"harness"}
    probe = "import importlib.util as u; print(u.find_spec('mocks'))"
    found = run([str(venv / "bin" / "python"), "-c", probe], tmp_path, outside_env(), 60)
    assert found.strip() == "None"


def test_an_adopters_own_mocks_and_tests_packages_leave_the_harness_mocks_alone(
    venv: Path, tmp_path: Path
) -> None:
    adopter = tmp_path / "adopter"
    for package in ("mocks", "mocks/comfyui", "mocks/cablecast", "tests"):
        (adopter / package).mkdir(parents=True)
        (adopter / package / "__init__.py").write_text(f"OWN = {package!r}\n")
    (adopter / "check.py").write_text(CHECK)
    output = run([str(venv / "bin" / "python"), "check.py"], adopter, outside_env(), 300)
    seen = json.loads(output.splitlines()[-1])
    assert seen["own"] == ["mocks", "tests"]  # the adopter's packages stay theirs
    assert seen["object_info"] == seen["served_object_info"] > 50  # the harness's ComfyUI mock
    assert seen["dataset_shows"] == 5
    assert seen["served_shows"] is True
