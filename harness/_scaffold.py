"""`harness init`: scaffold an adopting repository. Idempotent; a changed file is never
overwritten without `force`."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness._config import BUILTIN_BACKENDS, HARNESS_TOML, KNOWN_BACKENDS, PYPROJECT, SECTION
from harness._errors import ConfigError

COMPOSE_OVERLAY = "harness.compose.yaml"
WORKFLOW = Path(".github/workflows/integration.yml")
RULES = Path("monitoring/rules.yml")
PROMETHEUS = "prometheus"
MAKE_TARGETS = ("test-integration", "up", "down")
# What runs write into the repository (the default reports-dir, and the `harness up` state).
IGNORED = ("reports/", ".harness/")
# The integration tests as the CI workflow runs them: without make, so that a repository whose
# own Makefile lacks the harness's targets still has a workflow that runs.
PYTEST_INTEGRATION = "pytest -n auto --dist loadgroup tests/integration"
# The extra whose client a backend's sample test (its fixture) uses: the workflow installs them.
SAMPLE_EXTRAS = {"redis": "redis", "chromadb": "chroma", "litellm": "openai"}


@dataclass(frozen=True)
class Written:
    """One file `init` looked after, and what it did with it."""

    path: Path
    action: str  # wrote, unchanged, kept, overwrote, appended, print


def _config_section(backends: Sequence[str], tables: str) -> str:
    """The configuration; `tables` prefixes table names (`tool.mediastack-harness.` in a
    pyproject.toml, nothing in a harness.toml)."""
    chosen = ", ".join(f'"{name}"' for name in backends)
    return f"""[tool.{SECTION}]
# Built-in backends to start: {", ".join(BUILTIN_BACKENDS)} (all six when
# left out), and {PROMETHEUS} (only when listed).
backends = [{chosen}]
# Your own services (under test, or extra backends), merged with the packaged stack by compose.
compose-files = ["{COMPOSE_OVERLAY}"]
seed = 1234
health-timeout = 180
reports-dir = "reports"

# A service under test, as a host process (or name a service of {COMPOSE_OVERLAY}), listening
# on {{host}}:{{port}} (the address the stack's containers reach it at):
# [{tables}services.api]
# command = ["python", "-m", "myapi", "--host", "{{host}}", "--port", "{{port}}"]
# health = "/health"
# env = {{ REDIS_URL = "redis://{{redis.host}}:{{redis.port}}/0" }}

# A backend of your own from {COMPOSE_OVERLAY} (it needs a compose healthcheck):
# [{tables}extra-backends.postgres]
# port = 5432
{_prometheus_table(PROMETHEUS in backends, tables)}"""


def _prometheus_table(chosen: bool, tables: str) -> str:
    """The `[prometheus]` table: real when Prometheus is chosen, else commented out."""
    mark = "" if chosen else "# "
    head = (
        "# Prometheus scrapes these services under test and evaluates these rules."
        if chosen
        else f'# Prometheus (add "{PROMETHEUS}" to `backends`) scrapes services under test:'
    )
    return f"""
{head}
{mark}[{tables}prometheus]
{mark}targets = []                        # services under test it scrapes, e.g. ["api"]
{mark}rules = ["{RULES}"]    # alert and recording rules (a starter: TargetDown)
# metrics-path = "/metrics"
# scrape-interval = "1s"            # 1 s scrapes and evaluations keep tests fast
# evaluation-interval = "1s"
"""


COMPOSE_TEXT = """\
# Your services for mediastack-harness, merged over the packaged stack by compose's own rules.
# Declare each one in [tool.mediastack-harness] too: under `services` (a service under test) or
# `extra-backends` (a backend of yours). The harness labels them with the run, puts them on the
# stack's network, publishes their port (on 127.0.0.1 unless HARNESS_PUBLISH_HOST says otherwise),
# and puts a proxy in front; a service under test listens on 0.0.0.0 ("{host}") in its container.
services: {}
#  api:                                  # a service under test, built from your Dockerfile
#    build: .
#    healthcheck:
#      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]
#      interval: 1s
#      retries: 60
#  postgres:                             # an extra backend
#    build: ./docker/postgres            # FROM mediastack-harness/bookworm-base:minbase offline
#    healthcheck:
#      test: ["CMD", "pg_isready", "-h", "127.0.0.1"]
#      interval: 1s
#      retries: 60
"""

SAMPLE_TESTS = {
    "redis": """def test_redis_answers(redis_client) -> None:
    redis_client.set("greeting", "hello")
    assert redis_client.get("greeting") == b"hello"
""",
    "chromadb": """def test_chroma_finds_the_nearest(chroma_client) -> None:
    collection = chroma_client.create_collection("sample")
    collection.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["x", "y"])
    found = collection.query(query_embeddings=[[0.9, 0.1]], n_results=1)
    assert found["ids"] == [["a"]]
""",
    "litellm": """def test_litellm_answers(openai_client) -> None:
    answer = openai_client.chat.completions.create(
        model="mock-gpt", messages=[{"role": "user", "content": "hello"}]
    )
    assert answer.choices[0].message.content
""",
    "comfyui": """def test_comfyui_lists_its_nodes(mock_http) -> None:
    nodes = mock_http("comfyui").get("/object_info").json()
    assert "KSampler" in nodes
""",
    "wan2gp": """from gradio_client import Client


def test_wan2gp_offers_its_api(wan2gp_url) -> None:
    assert Client(wan2gp_url, verbose=False).view_api(print_info=False, return_format="dict")
""",
    "prometheus": """def test_prometheus_evaluates_the_starter_rules(prometheus) -> None:
    loaded = [rule["name"] for group in prometheus.rules() for rule in group["rules"]]
    assert "TargetDown" in loaded
""",
    "cablecast": """import httpx


def test_cablecast_lists_channels(cablecast_url) -> None:
    answer = httpx.get(f"{cablecast_url}/cablecastapi/v1/channels", timeout=30)
    assert answer.status_code == 200 and "channels" in answer.json()
""",
}

RULES_TEXT = """\
# Alert and recording rules Prometheus evaluates in your tests ([prometheus] rules).
# Check them with `promtool check rules monitoring/rules.yml`.
groups:
  - name: harness-targets
    rules:
      # A scrape target that does not answer: the service is down, or its link from Prometheus
      # is cut (faults.down("api", via="prometheus")). Add a `for:` outside tests.
      - alert: TargetDown
        expr: up == 0
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.job }} ({{ $labels.instance }}) is not answering its scrapes"
"""

MAKEFILE = """\
# mediastack-harness: the stack your integration tests run against.
PYTEST ?= pytest
WORKERS ?= auto

.PHONY: test-integration up down

test-integration: ## integration tests under pytest-xdist, against one shared stack
\t$(PYTEST) -n $(WORKERS) --dist loadgroup tests/integration

up: ## keep a stack running (tests attach with --attach-stack)
\tharness up

down:
\tharness down
"""

WORKFLOW_TEXT = """\
name: integration

on:
  push:
  pull_request:

permissions:
  contents: read

jobs:
  integration:
    name: integration (Python ${{ matrix.python }}, ${{ matrix.engine }} Docker)
    runs-on: ubuntu-24.04
    timeout-minutes: 60
    strategy:
      fail-fast: false
      matrix:
        python: ["3.11", "3.12"]
        # rootful: the runner's own Docker. Add rootless to run the suite on rootless Docker too.
        engine: [rootful]
    env:
      # The official upstream images, pinned (the packaged compose file's defaults).
      HARNESS_REDIS_IMAGE: redis:7.0.15-bookworm
      HARNESS_CHROMADB_IMAGE: chromadb/chroma:1.5.9
      HARNESS_LITELLM_IMAGE: ghcr.io/berriai/litellm:v1.106.2-stable
      HARNESS_TOXIPROXY_IMAGE: ghcr.io/shopify/toxiproxy:2.12.0
      HARNESS_PROMETHEUS_IMAGE: prom/prometheus:v2.42.0
      HARNESS_REPORTS_DIR: ${{ github.workspace }}/reports
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ matrix.python }}
          cache: pip
      - name: Rootless Docker (the rootful daemon stopped; DOCKER_HOST its socket)
        if: matrix.engine == 'rootless'
        run: |
          set -eux
          # dockerd-rootless-setuptool.sh: docker-ce-rootless-extras, from Docker's apt repository
          repo=https://download.docker.com/linux/ubuntu
          sudo install -m 0755 -d /etc/apt/keyrings
          sudo curl -fsSL "$repo/gpg" -o /etc/apt/keyrings/docker.asc
          arch=$(dpkg --print-architecture)
          codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
          entry="deb [arch=$arch signed-by=/etc/apt/keyrings/docker.asc] $repo $codename stable"
          echo "$entry" | sudo tee /etc/apt/sources.list.d/docker.list
          sudo apt-get update
          server=$(docker version --format '{{.Server.Version}}')
          versions=$(apt-cache madison docker-ce-rootless-extras | awk '{print $3}')
          extras=$(echo "$versions" | grep -F "$server-" | head -n1 || true)
          sudo apt-get install -y uidmap slirp4netns "docker-ce-rootless-extras${extras:+=$extras}"
          sudo systemctl disable --now docker.service docker.socket
          # Ubuntu 24.04 limits unprivileged user namespaces (AppArmor): lifted on this runner
          sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0
          sudo modprobe -a sch_netem sch_tbf || true  # the kernel faults' qdiscs, loaded as root
          sudo loginctl enable-linger "$USER"
          export XDG_RUNTIME_DIR="/run/user/$(id -u)"
          for _ in $(seq 30); do [ -S "$XDG_RUNTIME_DIR/bus" ] && break; sleep 1; done
          # host processes under test listen on 127.0.0.1: containers reach it at 10.0.2.2
          mkdir -p ~/.config/systemd/user/docker.service.d
          cat > ~/.config/systemd/user/docker.service.d/harness.conf <<'CONF'
          [Service]
          Environment=DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns
          Environment=DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK=false
          CONF
          dockerd-rootless-setuptool.sh install
          for _ in $(seq 30); do [ -S "$XDG_RUNTIME_DIR/docker.sock" ] && break; sleep 1; done
          echo "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR" >> "$GITHUB_ENV"
          echo "DOCKER_HOST=unix://$XDG_RUNTIME_DIR/docker.sock" >> "$GITHUB_ENV"
      - name: Install (the harness and your project)
        run: pip install MEDIASTACK_HARNESS -e .
      - name: Tools for building the mocks image
        run: sudo apt-get update && sudo apt-get install -y debootstrap
      - name: Images (the upstream ones are pulled, the mocks built)
        run: harness engine ensure && sudo -E env PATH="$PATH" harness images build
      - name: Integration tests
        run: PYTEST_INTEGRATION
      - name: Job summary
        if: always()
        run: cat reports/*/summary.md >> "$GITHUB_STEP_SUMMARY" || true
      - name: Logs of what is still running
        if: always()
        run: |
          mkdir -p reports/ci-logs
          for c in $(docker ps -aq --filter label=org.mediastack-harness.run); do
            docker logs --tail 500 "$c" > "reports/ci-logs/$c.log" 2>&1
          done
      - name: Upload the reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: reports-py${{ matrix.python }}-${{ matrix.engine }}
          path: reports/
          if-no-files-found: warn
      - name: Tear down
        if: always()
        run: harness down --all
""".replace("PYTEST_INTEGRATION", PYTEST_INTEGRATION)


MERGE_JOB = """
  # One report of the shards of each Python and engine: every test once, a timeline lane per
  # shard and worker, the flaky tests of the last runs (their outcomes kept in a cache).
  merge:
    name: merged report (Python ${{ matrix.python }}, ${{ matrix.engine }} Docker)
    needs: integration
    if: always()
    runs-on: ubuntu-24.04
    strategy:
      fail-fast: false
      matrix:
        python: ["3.11", "3.12"]
        engine: [rootful]
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ matrix.python }}
      - run: pip install 'mediastack-harness[plots]'
      - uses: actions/download-artifact@v4
        with:
          pattern: reports-py${{ matrix.python }}-${{ matrix.engine }}-shard*
          path: shards
      - name: The outcomes of the last runs
        uses: actions/cache@v4
        with:
          path: .harness-history
          key: harness-history-py${{ matrix.python }}-${{ matrix.engine }}-${{ github.run_id }}
          restore-keys: harness-history-py${{ matrix.python }}-${{ matrix.engine }}-
      - name: Merge (the job summary is written too)
        run: harness report merge shards --out merged --history .harness-history
      - name: Durations to commit (.harness-durations.json balances the next shards)
        if: always()
        run: harness durations update merged --file merged/.harness-durations.json
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: reports-merged-py${{ matrix.python }}-${{ matrix.engine }}
          path: merged/
          include-hidden-files: true
"""


def _workflow_text(backends: Sequence[str], shards: int = 1) -> str:
    """The CI workflow, installing the harness with the extras the sample tests' fixtures need;
    with `shards` > 1, each matrix job runs one shard and a merge job joins their reports."""
    extras = ",".join(dict.fromkeys(SAMPLE_EXTRAS[b] for b in backends if b in SAMPLE_EXTRAS))
    requirement = f"'mediastack-harness[{extras}]'" if extras else "mediastack-harness"
    text = WORKFLOW_TEXT.replace("MEDIASTACK_HARNESS", requirement)
    if shards == 1:
        return text
    replacements = {
        "Docker)\n": f"Docker, shard ${{{{ matrix.shard }}}}/{shards})\n",
        "        engine: [rootful]\n": "        engine: [rootful]\n"
        "        # each shard on a runner of its own, with its own stack, balanced by the\n"
        "        # durations in .harness-durations.json (`harness durations update`)\n"
        f"        shard: [{', '.join(str(i) for i in range(1, shards + 1))}]\n",
        f"run: {PYTEST_INTEGRATION}\n": f"run: {PYTEST_INTEGRATION} "
        f"--harness-shard ${{{{ matrix.shard }}}}/{shards}\n",
        "-${{ matrix.engine }}\n": "-${{ matrix.engine }}-shard${{ matrix.shard }}\n",
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, old  # the template's lines, each once
        text = text.replace(old, new)
    return text + MERGE_JOB


def _write(path: Path, text: str, force: bool) -> Written:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return Written(path, "wrote")
    if path.read_text() == text:
        return Written(path, "unchanged")
    if force:
        path.write_text(text)
        return Written(path, "overwrote")
    return Written(path, "kept")


def _config(root: Path, backends: Sequence[str], force: bool) -> Written:
    pyproject = root / PYPROJECT
    if not pyproject.is_file():
        return _write(root / HARNESS_TOML, _config_section(backends, "").split("\n", 1)[1], force)
    section = _config_section(backends, f"tool.{SECTION}.")
    text = pyproject.read_text()
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{pyproject}: not valid TOML ({error}): fix it, then run init") from None
    if SECTION in (document.get("tool") or {}):
        return Written(pyproject, "unchanged")
    pyproject.write_text(text.rstrip("\n") + "\n\n" + section)
    return Written(pyproject, "appended")


def _makefile(root: Path) -> Written:
    makefile = root / "Makefile"
    if not makefile.is_file():
        makefile.write_text(MAKEFILE)
        return Written(makefile, "wrote")
    text = makefile.read_text()
    if all(f"\n{target}:" in f"\n{text}" for target in MAKE_TARGETS):
        return Written(makefile, "unchanged")
    return Written(makefile, "print")


def _gitignore(root: Path) -> Written:
    """`reports/` and `.harness/` in the repository's .gitignore: created, or the missing lines
    appended (a line that already ignores one, with or without its slashes, counts)."""
    path = root / ".gitignore"
    text = path.read_text() if path.is_file() else ""
    present = {line.strip().strip("/") for line in text.splitlines()}
    missing = [entry for entry in IGNORED if entry.strip("/") not in present]
    if not missing:
        return Written(path, "unchanged")
    block = "# mediastack-harness: run reports and `harness up` state\n" + "\n".join(missing)
    path.write_text(f"{text.rstrip(chr(10))}\n\n{block}\n" if text.strip() else f"{block}\n")
    return Written(path, "appended" if text else "wrote")


def init(
    root: Path, backends: Sequence[str] | None = None, force: bool = False, shards: int = 1
) -> list[Written]:
    """Scaffold `root`: config, compose overlay, one sample test per backend, Makefile, CI
    (in `shards` duration-balanced shards and a merge job when more than one), and with
    Prometheus a starter rules file."""
    if shards < 1:
        raise ConfigError(f"--shards {shards}: give 1 (no sharding) or more")
    chosen = list(backends or BUILTIN_BACKENDS)
    unknown = [name for name in chosen if name not in KNOWN_BACKENDS]
    if unknown:
        raise ConfigError(f"unknown backend {unknown[0]!r}; known: {', '.join(KNOWN_BACKENDS)}")
    written = [
        _config(root, chosen, force),
        _write(root / COMPOSE_OVERLAY, COMPOSE_TEXT, force),
    ]
    for name in chosen:
        path = root / "tests" / "integration" / f"test_harness_{name}.py"
        written.append(_write(path, SAMPLE_TESTS[name], force))
    if PROMETHEUS in chosen:
        written.append(_write(root / RULES, RULES_TEXT, force))
    written.append(_makefile(root))
    written.append(_write(root / WORKFLOW, _workflow_text(chosen, shards), force))
    written.append(_gitignore(root))
    return written
