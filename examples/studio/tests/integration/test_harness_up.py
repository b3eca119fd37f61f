"""`harness up` in this repository starts the backends and the studio as a service under test,
behind its own proxy and reaching every backend through proxies of its own."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from harness import Stack, leftovers, wait_for

pytestmark = pytest.mark.xdist_group("inner-runs")

HARNESS = str(Path(sys.executable).parent / "harness")
ROOT = Path(__file__).resolve().parents[2]


def test_harness_up_runs_the_studio_behind_its_proxies(tmp_path: Path) -> None:
    project = f"hx-st{secrets.token_hex(3)}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "HARNESS_RUN", "HARNESS_OWNER"))
    }
    env.update(HARNESS_UP_PROJECT=project, HARNESS_STATE_DIR=str(tmp_path), COLUMNS="250")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HARNESS, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
        )

    try:
        started = run("up")
        assert started.returncode == 0, started.stderr
        (row,) = [line for line in run("status").stdout.splitlines() if "│ studio " in line]
        assert "healthy" in row and "(under test)" in row, row
        url = re.search(r"http://127\.0\.0\.1:\d+", row)
        assert url, row
        wait_for(
            lambda: httpx.get(f"{url[0]}/health", timeout=30).status_code == 200,
            60,
            "the studio to reach every backend",
        )
        config = httpx.get(f"{url[0]}/config", timeout=30).json()
        stack = Stack(project)  # the process reaches its links at their published ports
        proxies = {p.name: stack.proxy_address(p) for p in stack.toxiproxy.proxies().values()}
        assert config["redis_url"] == f"redis://{proxies['redis--studio']}/0"  # its own link
        assert config["comfyui_url"] == f"http://{proxies['comfyui--studio']}"

        project_id = httpx.post(f"{url[0]}/projects", json={"name": "up"}).json()["id"]
        episode = httpx.post(
            f"{url[0]}/projects/{project_id}/episodes", json={"title": "From up"}, timeout=30
        ).json()["id"]
        wait_for(
            lambda: httpx.get(f"{url[0]}/episodes/{episode}").json()["state"] == "completed",
            180,
            "the studio to complete an episode",
        )
        logs = run("logs", "studio")
        assert logs.returncode == 0 and logs.stdout.strip(), logs.stderr
    finally:
        down = run("down")
    assert down.returncode == 0, down.stderr
    assert leftovers(project) == {}
    record = json.loads((tmp_path / "runs" / project / "studio.process.json").read_text())
    assert not _running(record["pid"]), "the studio process outlived `down`"


def _running(pid: int) -> bool:
    """Whether `pid` still runs: gone, or a zombie its new parent has not reaped yet, is not.
    (`harness up` has exited, so the studio's parent is now init or a subreaper, which reaps it
    in its own time.)"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")
