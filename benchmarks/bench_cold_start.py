"""Cold start: from `harness engine ensure` to a green first test, on an engine with no image.

    python benchmarks/bench_cold_start.py [--backends redis,cablecast] [--all]

A fresh machine, as far as this one can play it: a second dockerd of its own (its own data root,
exec root, socket and bridge, started here and removed at the end, whatever happens), so the
shared engine and its images are left alone; a project fresh from `harness init --backends ...`
(so no wheelhouse); pip without its cache (the images' wheels come from the index again); no
registry (the harness builds every image locally when its first pull fails). Timed, each as the
user runs it: `harness engine ensure`, `harness images build` (`--all`: every image, as before
issue 25) and the scaffolded suite, `pytest -n 2 --dist loadgroup tests/integration`.

The second engine shares this machine's network namespace (Toxiproxy's host network works there
as on the first). It runs with `--iptables=false`, since a dockerd that manages iptables rebuilds
the DOCKER chains the first one's published ports live in; two rules of this script (masquerade
and forward for the second engine's subnets, removed at the end) give its builds the network.
Needs root, dockerd, debootstrap and ip/iptables.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import publish

ROOT = Path(__file__).resolve().parents[1]
RUN_DIR = Path("/run/harness-bench")  # socket, pid file, exec root
DATA_ROOT = Path("/var/lib/harness-bench")  # images and containers: on disk, not tmpfs
SOCKET = f"unix://{RUN_DIR}/docker.sock"
BRIDGE = "hbench0"
BRIDGE_ADDRESS = "10.202.0.1/24"
SUBNETS = "10.202.0.0/16"  # the bridge, and the pool compose's networks come from
ADDRESS_POOL = "base=10.202.128.0/17,size=24"
RULES = [
    ["nat", "POSTROUTING", "-s", SUBNETS, "!", "-d", SUBNETS, "-j", "MASQUERADE"],
    ["filter", "FORWARD", "-s", SUBNETS, "-j", "ACCEPT"],
    ["filter", "FORWARD", "-d", SUBNETS, "-j", "ACCEPT"],
]


def _run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=check, capture_output=True, text=True)


def _rule(action: str, rule: list[str]) -> list[str]:
    table, chain, *spec = rule
    return ["iptables", "-t", table, action, chain, *spec]


@contextlib.contextmanager
def scratch_engine() -> Iterator[str]:
    """A second, empty dockerd; its DOCKER_HOST. Everything it made is removed on the way out."""
    if any(path.exists() for path in (RUN_DIR, DATA_ROOT)):
        raise SystemExit(f"{RUN_DIR} or {DATA_ROOT} exists: another benchmark, or a leftover")
    RUN_DIR.mkdir(parents=True)
    DATA_ROOT.mkdir(parents=True)
    log = open(RUN_DIR / "dockerd.log", "w")  # noqa: SIM115 (closed on the way out)
    daemon: subprocess.Popen[bytes] | None = None
    added: list[list[str]] = []
    try:
        _run("ip", "link", "add", BRIDGE, "type", "bridge")
        _run("ip", "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE)
        _run("ip", "link", "set", BRIDGE, "up")
        for rule in RULES:
            _run(*_rule("-I", rule))
            added.append(rule)
        daemon = subprocess.Popen(
            [
                "dockerd",
                f"--data-root={DATA_ROOT}",
                f"--exec-root={RUN_DIR}/exec",
                f"--pidfile={RUN_DIR}/docker.pid",
                f"--host={SOCKET}",
                f"--bridge={BRIDGE}",
                f"--default-address-pool={ADDRESS_POOL}",
                "--iptables=false",
                "--ip-masq=false",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while _run("docker", "-H", SOCKET, "info", check=False).returncode != 0:
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the scratch dockerd did not start: see {RUN_DIR}/dockerd.log")
            time.sleep(0.5)
        yield SOCKET
    finally:
        if daemon is not None:
            left = _run("docker", "-H", SOCKET, "ps", "-aq", check=False).stdout.split()
            if left:
                _run("docker", "-H", SOCKET, "rm", "-f", *left, check=False)
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        log.close()
        for path in (DATA_ROOT, RUN_DIR):  # whatever it left mounted, deepest first
            mounts = _run("findmnt", "-rn", "-o", "TARGET", check=False).stdout.split()
            for target in sorted((m for m in mounts if m.startswith(str(path))), reverse=True):
                _run("umount", "-l", target, check=False)
            shutil.rmtree(path, ignore_errors=True)
        for rule in added:
            _run(*_rule("-D", rule), check=False)
        _run("ip", "link", "del", BRIDGE, check=False)


def _environment(docker_host: str) -> dict[str, str]:
    """This process's environment as a user's shell has it, pointed at the scratch engine and
    at this checkout's harness, with pip's cache off."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "HARNESS_", "DOCKER_", "COMPOSE_"))
    }
    return kept | {
        "DOCKER_HOST": docker_host,
        "PYTHONPATH": str(ROOT),
        "PIP_NO_CACHE_DIR": "1",
        "COLUMNS": "200",
    }


def _timed(name: str, command: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    began = time.monotonic()
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    took = time.monotonic() - began
    print(f"{name}: {took:.1f} s (exit {done.returncode})", flush=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed (exit {done.returncode}): see {log}")
    return took


def measure(backends: str, everything: bool) -> dict[str, object]:
    """The phases' wall times for a fresh project of `backends` on a scratch engine."""
    harness = [sys.executable, "-m", "harness.cli"]
    with tempfile.TemporaryDirectory(prefix="harness-cold-") as scratch:
        project = Path(scratch) / "project"
        project.mkdir()
        log = Path(scratch) / "commands.log"
        figures: dict[str, object] = {"backends": backends, "all": everything}
        figures["load_average_before"] = round(os.getloadavg()[0], 1)  # a shared machine
        try:
            with scratch_engine() as docker_host:
                env = _environment(docker_host)
                _timed("init", [*harness, "init", "--backends", backends], project, env, log)
                began = time.monotonic()
                figures["engine_ensure_s"] = _timed(
                    "engine ensure", [*harness, "engine", "ensure"], project, env, log
                )
                build = [*harness, "images", "build", *(["--all"] if everything else [])]
                figures["images_build_s"] = _timed("images build", build, project, env, log)
                images = _run(
                    "docker",
                    "-H",
                    docker_host,
                    "images",
                    "--format",
                    "{{.Repository}}:{{.Tag}} {{.Size}}",
                ).stdout.split("\n")
                figures["images"] = [line for line in images if line and "<none>" not in line]
                pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
                pytest += ["-n", "2", "--dist", "loadgroup", "tests/integration"]
                figures["first_pytest_s"] = _timed("first pytest", pytest, project, env, log)
                figures["total_s"] = time.monotonic() - began
                figures["load_average_after"] = round(os.getloadavg()[0], 1)
                subprocess.run(
                    [*harness, "down", "--all"],
                    cwd=project,
                    env=env,
                    check=False,
                    capture_output=True,
                )
        finally:
            if log.exists():
                shutil.copy(log, Path(tempfile.gettempdir()) / "bench-cold-start.log")
    return figures


def main() -> None:
    """Measure once, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="redis,cablecast")
    parser.add_argument("--all", action="store_true", help="build every image (the old way)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root: it starts a dockerd of its own")
    figures = measure(args.backends, args.all)
    name = "cold_start_all" if args.all else "cold_start"
    publish(name, {key: round(v, 1) if isinstance(v, float) else v for key, v in figures.items()})


if __name__ == "__main__":
    main()
