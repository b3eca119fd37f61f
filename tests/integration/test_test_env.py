"""`test-env`: a project whose package reads its settings at import (`DATABASE_URL`, `REDIS_URL`,
Flask/Django-style) and imports it from tests/conftest.py and at the top of a test module sees the
stack, each xdist worker through proxies of its own. The same project without `[test-env]` fails
the same checks; a `test-env` that cannot be rendered is one line, and leaves nothing running."""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import textwrap
from pathlib import Path

import pytest

from harness import _reaper as reaper
from harness._paths import PACKAGE_DIR
from harness._stack import new_project_name
from tests._pytest_run import Outcome, run_pytest

pytestmark = [pytest.mark.xdist_group("inner-runs"), pytest.mark.timeout(900)]

CHECKOUT = PACKAGE_DIR.parent
CONFIG = """\
backends = ["redis"]

[services.api]
command = ["{python}", "api.py", "{port}", "{host}"]
health = "/health"
needs = ["redis"]
"""
TEST_ENV = """
[test-env]
REDIS_URL = "redis://{redis.host}:{redis.port}/0"
DATABASE_URL = "redis://{redis.host}:{redis.port}/1"
API_URL = "{api.url}"
APP_WORKER = "{worker}"
"""
FILES = {
    # the app: its settings, read once, at import
    "settings_app/__init__.py": """
        import os

        REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        DATABASE_URL = os.environ.get("DATABASE_URL", "redis://127.0.0.1:6379/1")
        API_URL = os.environ.get("API_URL", "http://127.0.0.1:8000")
        WORKER = os.environ.get("APP_WORKER", "")
    """,
    # a service under test of the project: a host process
    "api.py": """
        import sys
        from http.server import BaseHTTPRequestHandler, HTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"ok" if self.path == "/health" else b"pong"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        HTTPServer((sys.argv[2], int(sys.argv[1])), Handler).serve_forever()
    """,
    # an initial conftest (tests/ is on the command line) that imports the app
    "tests/conftest.py": """
        import json, os, pathlib

        import settings_app

        where = os.environ.get("PYTEST_XDIST_WORKER", "controller")
        seen = pathlib.Path(__file__).parent.parent / f"conftest-{where}.json"
        seen.write_text(json.dumps({"redis": settings_app.REDIS_URL, "api": settings_app.API_URL}))
    """,
    "tests/test_settings.py": """
        import json, pathlib
        from urllib.parse import urlsplit

        import httpx
        import redis

        from settings_app import API_URL, DATABASE_URL, REDIS_URL, WORKER


        def test_the_settings_read_at_import_reach_the_stack(worker_id):
            cache = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
            assert cache.ping()
            cache.set(f"seen-{worker_id}", worker_id)
            assert cache.get(f"seen-{worker_id}") == worker_id.encode()
            database = redis.Redis.from_url(DATABASE_URL, socket_timeout=5)
            assert database.set("rows", 1) and database.get("rows") == b"1"
            assert httpx.get(API_URL, timeout=5).text == "pong"
            seen = pathlib.Path(__file__).parent.parent / f"seen-{worker_id}.json"
            ports = {"redis": urlsplit(REDIS_URL).port, "api": urlsplit(API_URL).port}
            seen.write_text(json.dumps(ports))


        def test_they_are_this_workers_own_proxies(backends, worker_id):
            assert WORKER == worker_id
            assert urlsplit(REDIS_URL).port == backends.address("redis").port
            assert urlsplit(DATABASE_URL).port == backends.address("redis").port
            assert urlsplit(API_URL).port == backends.address("api").port
    """,
}


def _project(directory: Path, config: str) -> Path:
    directory.mkdir()
    (directory / "harness.toml").write_text(config)
    for name, text in FILES.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(textwrap.dedent(text).lstrip())
    return directory


def _run(project: Path, uid: str, *args: str) -> Outcome:
    """pytest -n 2 in `project`, every test on both workers, this checkout's harness."""
    path = os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))
    return run_pytest(
        project,
        "-n", "2", "--dist", "each", "--testrunuid", uid, *args, "tests",
        env={"PYTHONPATH": path},
    )  # fmt: skip


def _check(project: Path, outcome: Outcome) -> None:
    """What the app saw in each process: each worker its own proxies, which answered."""
    assert outcome.returncode == 0, outcome.output[-6000:]
    assert re.search(r"\b4 passed\b", outcome.output), outcome.output[-3000:]
    workers = {
        worker: json.loads((project / f"seen-{worker}.json").read_text())
        for worker in ("gw0", "gw1")
    }
    assert workers["gw0"]["redis"] != workers["gw1"]["redis"], workers
    assert workers["gw0"]["api"] != workers["gw1"]["api"], workers
    # the controller runs no tests, but loads tests/conftest.py (which imports the app): it
    # sees the stack too, through the default proxies, none of the workers'
    controller = json.loads((project / "conftest-controller.json").read_text())
    ports = {seen["redis"] for seen in workers.values()}
    assert re.fullmatch(r"redis://127\.0\.0\.1:\d+/0", controller["redis"]), controller
    assert int(controller["redis"].rsplit(":", 1)[1].split("/")[0]) not in ports | {6379}
    for worker in workers:  # the conftest each worker loaded saw what its tests saw
        conftest = json.loads((project / f"conftest-{worker}.json").read_text())
        assert conftest["redis"].endswith(f":{workers[worker]['redis']}/0"), conftest


def test_settings_read_at_import_see_each_workers_own_proxies(tmp_path: Path) -> None:
    uid = secrets.token_hex(8)
    run = new_project_name(uid)
    project = _project(tmp_path / "app", CONFIG + TEST_ENV)
    outcome = _run(project, uid, "--stack-services", "redis")
    _check(project, outcome)
    header = "test-env sets API_URL, APP_WORKER, DATABASE_URL, REDIS_URL"
    assert f"mediastack-harness: run {run}; {header}" in outcome.output
    assert "redis://" not in outcome.output  # the names, never the values
    assert reaper.leftovers(run) == {}
    assert not list(Path(tempfile.gettempdir()).glob(f"mediastack-harness-{run}-*"))


def test_without_test_env_the_same_checks_fail(tmp_path: Path) -> None:
    uid = secrets.token_hex(8)
    project = _project(tmp_path / "app", CONFIG)
    outcome = _run(project, uid, "--stack-services", "redis")
    assert outcome.returncode == 1, outcome.output[-6000:]
    for test in ("reach_the_stack", "are_this_workers_own_proxies"):
        assert re.search(rf"^FAILED tests/test_settings.py::\w+{test}", outcome.output, re.M)
    with pytest.raises(AssertionError):
        _check(project, outcome)
    assert reaper.leftovers(new_project_name(uid)) == {}


def test_a_test_env_that_cannot_be_rendered_is_one_line_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    uid = secrets.token_hex(8)
    run = new_project_name(uid)
    # a backend of the project, but not started (--stack-services redis)
    declared = CONFIG.replace('["redis"]', '["redis", "chromadb"]', 1)
    broken = declared + TEST_ENV + 'CHROMA_URL = "{chromadb.url}"\n'
    project = _project(tmp_path / "app", broken)
    outcome = _run(project, uid, "--stack-services", "redis")
    assert outcome.returncode == 4, outcome.output[-6000:]
    assert re.search(
        r"^ERROR: mediastack-harness: test-env: service chromadb is not running in stack "
        rf"{run}$",
        outcome.output,
        re.M,
    ), outcome.output[-3000:]
    assert "Traceback" not in outcome.output
    assert reaper.leftovers(run) == {}
    assert not list(Path(tempfile.gettempdir()).glob(f"mediastack-harness-{run}-*"))
