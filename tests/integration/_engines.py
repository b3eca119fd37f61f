"""Other Docker engines on this machine, for `harness doctor`'s tests (root, Debian/Ubuntu).

- rootful: the machine's own engine (never started, stopped or restarted here);
- rootless: Docker for the dedicated user `harness-rootless` (rootlesskit, slirp4netns,
  uidmap installed when missing; subuid/subgid ranges; /dev/net/tun lent to the user while it
  runs), socket /run/user/<uid>/docker.sock;
- remote: a dockerd in the network namespace `harness-remote`, reached over a veth pair at
  tcp://10.200.0.2:2375 (only the network namespace is entered: `ip netns exec` would remount
  /sys and dockerd would find no cgroups);
- podman: Podman's Docker API (`podman system service`) at /run/podman/podman.sock; what stops
  its containers is recorded in `note`.

Each gets the probe images (the base and netfault images) by `docker save | load` from the
rootful engine, never from a registry. `up` is idempotent (an engine that already answers is
reused, and not stopped by `down`); `down` stops what `up` started, by process id, and removes
the namespace. From a shell or `.ci/run`:

    python -m tests.integration._engines up      # prints each engine's DOCKER_HOST or its error
    python -m tests.integration._engines down    # stops what the last `up` started
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness import _images as images

ROOTLESS_USER = "harness-rootless"
NETNS = "harness-remote"
VETH_HOST, VETH_REMOTE = "hr-host", "hr-remote"
HOST_IP, REMOTE_IP = "10.200.0.1", "10.200.0.2"
REMOTE_BRIDGE = "10.201.0.1/24"  # the remote's docker0, clear of the main engine's pools
REMOTE_ROOT = Path("/var/lib/harness-engines/remote")
PODMAN_SOCKET = Path("/run/podman/podman.sock")
STATE = Path("/run/harness-engines")
WORK = Path("/var/tmp/harness-engines")
PROBE_IMAGES = (images.BASE_TAG, images.NETFAULT_TAG)
NAMES = ("rootful", "rootless", "remote", "podman")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class SetupFailed(Exception):
    """An engine could not be brought up: the message says why."""


@dataclass
class Engine:
    """One engine: its DOCKER_HOST, or why it could not come up."""

    name: str
    docker_host: str = ""
    error: str = ""
    started: bool = False  # by this set-up (so `down` stops it)
    seconds: float = 0.0
    note: str = ""  # e.g. what stops Podman's containers
    pids: list[int] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        environ = {
            k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")
        }
        if self.docker_host:
            environ["DOCKER_HOST"] = self.docker_host
        return environ


def _run(*command: str, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise SetupFailed(f"`{' '.join(command)}` failed: {said[-1] if said else done.returncode}")
    return done.stdout


def _answers(docker_host: str) -> bool:
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            env={**os.environ, "DOCKER_HOST": docker_host},
            timeout=20,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def _wait(docker_host: str, seconds: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not _answers(docker_host):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
            why = "exited" if process.poll() is not None else f"did not answer in {seconds:.0f} s"
            raise SetupFailed(f"{why} (log {log}): {' | '.join(tail)}")
        time.sleep(0.5)


def _apt_install(*packages: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        _run("apt-get", "install", "-y", "-qq", *packages, env=env)
    except SetupFailed:  # an old package list: refresh it once
        _run("apt-get", "update", "-qq", env=env)
        _run("apt-get", "install", "-y", "-qq", *packages, env=env)


def _start(
    name: str, command: list[str], env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    STATE.mkdir(parents=True, exist_ok=True)
    log = STATE / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    (STATE / f"{name}.pid").write_text(str(process.pid))
    return process, log


def _images_tar(tags: tuple[str, ...]) -> Path:
    """These images saved once from the rootful engine (again when one of them changed)."""
    WORK.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256("\n".join(tags).encode()).hexdigest()[:12]
    tar, stamp = WORK / f"images-{name}.tar", WORK / f"images-{name}.ids"
    ids = []
    for tag in tags:
        try:
            ids.append(_run("docker", "image", "inspect", "-f", "{{.Id}}", tag).strip())
        except SetupFailed:
            raise SetupFailed(
                f"{tag} is not on the rootful engine: `harness images build` first"
            ) from None
    if not (tar.exists() and stamp.exists() and stamp.read_text() == "\n".join(ids)):
        _run("docker", "save", "-o", str(tar), *tags)
        stamp.write_text("\n".join(ids))
    return tar


def load_images(
    docker_host: str, tags: tuple[str, ...] = PROBE_IMAGES, loader: list[str] | None = None
) -> None:
    """Give an engine these images from the rootful one (`docker save | load`, never a
    registry); those it has already, by id, are kept."""
    env = {**os.environ, "DOCKER_HOST": docker_host}
    wanted = []
    for tag in tags:
        here = _run("docker", "image", "inspect", "-f", "{{.Id}}", tag).strip()
        there = subprocess.run(
            ["docker", "image", "inspect", "-f", "{{.Id}}", tag],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        ).stdout.strip()
        if here != there:
            wanted.append(tag)
    if wanted:
        _run(*(loader or ["docker", "load"]), "-i", str(_images_tar(tuple(wanted))), env=env)


# -- rootless ----------------------------------------------------------------------------------
def _ranges(path: Path) -> list[tuple[str, int, int]]:
    found = []
    for line in path.read_text().splitlines() if path.exists() else []:
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            found.append((parts[0], int(parts[1]), int(parts[2])))
    return found


def _rootless_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(ROOTLESS_USER)
    except KeyError:
        _run("useradd", "--create-home", "--shell", "/bin/bash", ROOTLESS_USER)
        return pwd.getpwnam(ROOTLESS_USER)


def _subids(user: str) -> None:
    for path, option in (
        (Path("/etc/subuid"), "--add-subuids"),
        (Path("/etc/subgid"), "--add-subgids"),
    ):
        ranges = _ranges(path)
        if any(owner == user and count >= 65536 for owner, _, count in ranges):
            continue
        start = max([100000, *(first + count for _, first, count in ranges)])
        _run("usermod", option, f"{start}-{start + 65535}", user)


def rootless_up() -> Engine:
    engine = Engine("rootless")
    if not all(
        shutil.which(tool, path=PATH) for tool in ("rootlesskit", "slirp4netns", "newuidmap")
    ):
        _apt_install("--no-install-recommends", "rootlesskit", "slirp4netns", "uidmap")
    user = _rootless_user()
    _subids(user.pw_name)
    runtime = Path(f"/run/user/{user.pw_uid}")
    engine.docker_host = f"unix://{runtime}/docker.sock"
    if _answers(engine.docker_host):
        load_images(engine.docker_host)
        return engine
    runtime.mkdir(parents=True, exist_ok=True)
    os.chown(runtime, user.pw_uid, user.pw_gid)
    runtime.chmod(0o700)
    tun = Path("/dev/net/tun")
    mode = tun.stat()
    (STATE).mkdir(parents=True, exist_ok=True)
    (STATE / "tun.json").write_text(json.dumps({"uid": mode.st_uid, "gid": mode.st_gid}))
    os.chown(tun, user.pw_uid, -1)  # lent to the user while its engine runs; `down` gives it back
    env = {
        "HOME": user.pw_dir,
        "USER": user.pw_name,
        "XDG_RUNTIME_DIR": str(runtime),
        "PATH": PATH,
        # containers reach this machine's loopback at 10.0.2.2 (host processes under test)
        "DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK": "false",
    }
    script = _rootless_script()
    command = ["runuser", "-u", user.pw_name, "--", "env", "-i"]
    command += [f"{k}={v}" for k, v in env.items()]
    process, log = _start("rootless", [*command, script])
    engine.started, engine.pids = True, [process.pid]
    _wait(engine.docker_host, 90, process, log)
    load_images(engine.docker_host)
    return engine


def _rootless_script() -> str:
    """dockerd-rootless.sh with the host loopback open, so that containers reach this machine's
    127.0.0.1 at 10.0.2.2 (services under test run as processes): Docker 23+'s script honours
    DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK=false, Debian's (20.10) hard-codes
    `--disable-host-loopback`, so a copy without it is run."""
    script = Path("/usr/share/docker.io/contrib/dockerd-rootless.sh")
    if not script.exists():
        script = Path(shutil.which("dockerd-rootless.sh", path=PATH) or script)
    text = script.read_text()
    if "DISABLE_HOST_LOOPBACK" in text:
        return str(script)
    WORK.mkdir(parents=True, exist_ok=True)
    copy = WORK / "dockerd-rootless.sh"
    copy.write_text(text.replace("--disable-host-loopback ", ""))
    copy.chmod(0o755)
    return str(copy)


def rootless_down() -> None:
    _stop_group("rootless")
    try:
        user = pwd.getpwnam(ROOTLESS_USER)
    except KeyError:
        return
    _stop_uid(user.pw_uid)
    saved = STATE / "tun.json"
    if saved.exists():
        owner = json.loads(saved.read_text())
        os.chown("/dev/net/tun", owner["uid"], owner["gid"])
        saved.unlink()
    shutil.rmtree(f"/run/user/{user.pw_uid}", ignore_errors=True)


# -- remote (a network namespace) ----------------------------------------------------------------
def _netns_exists() -> bool:
    return NETNS in _run("ip", "netns", "list").split()


def remote_up() -> Engine:
    engine = Engine("remote", docker_host=f"tcp://{REMOTE_IP}:2375")
    if _netns_exists() and _answers(engine.docker_host):
        load_images(engine.docker_host)
        return engine
    if not _netns_exists():
        _run("ip", "netns", "add", NETNS)
    if subprocess.run(["ip", "link", "show", VETH_HOST], capture_output=True).returncode != 0:
        _run("ip", "link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_REMOTE)
        _run("ip", "link", "set", VETH_REMOTE, "netns", NETNS)
        _run("ip", "addr", "add", f"{HOST_IP}/24", "dev", VETH_HOST)
        _run("ip", "link", "set", VETH_HOST, "up")
        _run("ip", "-n", NETNS, "addr", "add", f"{REMOTE_IP}/24", "dev", VETH_REMOTE)
        _run("ip", "-n", NETNS, "link", "set", VETH_REMOTE, "up")
        _run("ip", "-n", NETNS, "link", "set", "lo", "up")
    run_dir = Path("/run/harness-engines/remote")
    run_dir.mkdir(parents=True, exist_ok=True)
    REMOTE_ROOT.mkdir(parents=True, exist_ok=True)
    command = [
        "nsenter",
        f"--net=/var/run/netns/{NETNS}",
        "dockerd",
        "--data-root",
        str(REMOTE_ROOT),
        "--exec-root",
        str(run_dir / "exec"),
        "--pidfile",
        str(run_dir / "docker.pid"),
        "--bip",
        REMOTE_BRIDGE,
        "-H",
        engine.docker_host,
        "--tls=false",
    ]
    process, log = _start("remote", command, env={**os.environ, "PATH": PATH})
    engine.started, engine.pids = True, [process.pid]
    _wait(engine.docker_host, 60, process, log)
    load_images(engine.docker_host)
    return engine


def remote_down() -> None:
    _stop_group("remote")
    if _netns_exists():
        subprocess.run(["ip", "netns", "del", NETNS], check=False)
    subprocess.run(["ip", "link", "del", VETH_HOST], capture_output=True, check=False)


# -- podman --------------------------------------------------------------------------------------
def podman_up() -> Engine:
    engine = Engine("podman", docker_host=f"unix://{PODMAN_SOCKET}")
    # netavark and aardvark-dns: compose networks whose containers find each other by name
    network = [Path("/usr/lib/podman/netavark"), Path("/usr/lib/podman/aardvark-dns")]
    if (
        shutil.which("podman", path=PATH) is None
        or shutil.which("catatonit", path=PATH) is None
        or shutil.which("runc", path=PATH) is None
        or not all(path.exists() for path in network)
    ):
        _apt_install("podman", "catatonit", "runc", "crun", "netavark", "aardvark-dns")
    env = {**os.environ, "PATH": PATH, "CONTAINERS_CONF": str(_podman_conf())}
    if not _answers(engine.docker_host):
        PODMAN_SOCKET.parent.mkdir(parents=True, exist_ok=True)
        process, log = _start(
            "podman", ["podman", "system", "service", "--time=0", engine.docker_host], env=env
        )
        engine.started, engine.pids = True, [process.pid]
        _wait(engine.docker_host, 60, process, log)
    load_images(engine.docker_host, loader=["podman", "load"])
    engine.note = _podman_blocker(env)
    return engine


# This VM (cgroup v1 hybrid; root without CAP_SYS_RESOURCE): crun refuses hybrid cgroups, and
# runc cannot raise a container's RLIMIT_NOFILE/NPROC to Podman's defaults (1048576; the hard
# limits here are lower). Podman runs containers here with runc and limits it may set.
PODMAN_CONF = """\
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
"""


def _podman_conf() -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    conf = WORK / "containers.conf"
    conf.write_text(PODMAN_CONF)
    return conf


def _podman_blocker(env: dict[str, str]) -> str:
    """What `podman run` of the base image says, each runtime in turn ('' when it works)."""
    said = []
    for runtime in ("runc", "crun"):
        if shutil.which(runtime, path=PATH) is None:
            continue
        done = subprocess.run(
            [
                "podman",
                "--runtime",
                runtime,
                "run",
                "--rm",
                "--label",
                "org.mediastack-harness.run=engines-podman",
                "--network",
                "none",
                images.BASE_TAG,
                "true",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )
        if done.returncode == 0:
            return ""
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        said.append(f"{runtime}: {lines[-1] if lines else done.returncode}")
    return "; ".join(said)


def podman_down() -> None:
    if shutil.which("podman", path=PATH):
        ids = subprocess.run(
            ["podman", "ps", "-aq", "--filter", "label=org.mediastack-harness.run"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        if ids:
            subprocess.run(["podman", "rm", "-f", *ids], capture_output=True, check=False)
    _stop_group("podman")


# -- processes -----------------------------------------------------------------------------------
def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _group(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def _stop_group(name: str) -> None:
    """SIGTERM the session started as `name` (its process group), SIGKILL what lingers."""
    pidfile = STATE / f"{name}.pid"
    if not pidfile.exists():
        return
    pgid = int(pidfile.read_text())
    for signum, grace in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        if not _group(pgid):
            break
        try:
            os.killpg(pgid, signum)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while _group(pgid) and time.monotonic() < deadline:
            time.sleep(0.2)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)
    pidfile.unlink()


def _stop_uid(uid: int) -> None:
    """Stop any process of the dedicated rootless user (ours alone), by id."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        pids = [
            int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == uid
        ]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.2)


def _owner(proc: Path) -> int:
    try:
        return proc.stat().st_uid
    except OSError:
        return -1


# -- the set ---------------------------------------------------------------------------------------
UP = {"rootless": rootless_up, "remote": remote_up, "podman": podman_up}
DOWN = {"rootless": rootless_down, "remote": remote_down, "podman": podman_down}


def up(names: Iterable[str] = NAMES) -> dict[str, Engine]:
    """Bring each engine up; one that cannot come up carries its reason in `error`, and
    whatever it had started is stopped again."""
    found: dict[str, Engine] = {}
    for name in names:
        began = time.monotonic()
        if name == "rootful":
            engine = Engine("rootful", docker_host="unix:///var/run/docker.sock")
            if not _answers(engine.docker_host):
                engine.error = "the rootful engine does not answer: `make setup` starts it"
        else:
            try:
                engine = UP[name]()
            except (SetupFailed, OSError, subprocess.SubprocessError) as error:
                engine = Engine(name, error=str(error))
                DOWN[name]()
        engine.seconds = round(time.monotonic() - began, 1)
        found[name] = engine
    STATE.mkdir(parents=True, exist_ok=True)
    started = [name for name, engine in found.items() if engine.started]
    (STATE / "started.json").write_text(json.dumps(started))
    return found


def down(names: Iterable[str] | None = None) -> None:
    """Stop what `up` started (by default, what the last `up` recorded)."""
    record = STATE / "started.json"
    if names is None:
        names = json.loads(record.read_text()) if record.exists() else []
    for name in names:
        if name in DOWN:
            DOWN[name]()
    record.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["up"]:
        found = up(argv[1:] or NAMES)
        for engine in found.values():
            print(json.dumps(asdict(engine)))
        return 1 if any(engine.error for engine in found.values()) else 0
    if argv[:1] == ["down"]:
        down(argv[1:] or None)
        return 0
    print("usage: python -m tests.integration._engines up|down [rootful|rootless|remote|podman…]")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
