"""Monitoring: a real Prometheus scrapes the studio and evaluates its shipped alert rules.

The project's config (pyproject.toml) starts Prometheus with the stack, has it scrape the studio
service under test and load monitoring/rules.yml. Each worker's own studios are added as
targets for the module (`prometheus.scrape`), so a fault or a broken record in one worker's
data raises that worker's alert only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
import redis
from docker.errors import ContainerError
from harness import Faults, Prometheus, PrometheusError, Stack, WorkerBackends

from studio._keys import Keys
from tests.integration.conftest import Studio

pytestmark = pytest.mark.monitoring

RULES = Path(__file__).resolve().parents[2] / "monitoring" / "rules.yml"


@pytest.fixture(scope="module")
def watched_intake(studio_intake: Studio, prometheus: Prometheus) -> Iterator[dict[str, str]]:
    """This worker's intake studio, scraped for the module: the labels its series carry."""
    with prometheus.scrape("studio-intake", studio_intake.url.removeprefix("http://")) as labels:
        yield labels


@pytest.fixture(scope="module")
def watched_pipeline(studio: Studio, prometheus: Prometheus) -> Iterator[dict[str, str]]:
    """This worker's studio with its pipeline on, scraped for the module."""
    with prometheus.scrape("studio-pipeline", studio.url.removeprefix("http://")) as labels:
        yield labels


@pytest.fixture
def studio_redis(backends: WorkerBackends) -> Iterator[redis.Redis]:
    """Database 0, where the studios keep their records, through this worker's proxy."""
    address = backends.address("redis")
    client = redis.Redis(host=address.host, port=address.port, db=0, decode_responses=True)
    yield client
    client.close()


def test_prometheus_scrapes_the_configured_studio_through_a_proxy_of_its_own(
    prometheus: Prometheus, stack: Stack
) -> None:
    prometheus.wait_for_sample('up{job="studio"}', newer_than=time.time())
    assert prometheus.value('up{job="studio"}') == 1.0
    (target,) = [t for t in prometheus.targets() if t["labels"]["job"] == "studio"]
    link = stack.toxiproxy.proxies()["studio--prometheus"]
    assert target["discoveredLabels"]["__address__"] == str(stack.proxy_address(link))
    assert target["scrapeUrl"] == f"http://{stack.proxy_address(link)}/metrics"
    assert prometheus.query('studio_episodes{job="studio",state="queued"}')


def test_a_request_to_the_studio_shows_in_prometheus(
    studio_intake: Studio, watched_intake: dict[str, str], prometheus: Prometheus
) -> None:
    series = (
        f'studio_http_requests_total{{job="{watched_intake["job"]}",'
        f'harness_namespace="{watched_intake["harness_namespace"]}",'
        'route="/projects",method="POST",status="201"}'
    )
    studio_intake.project()  # the series exists from the first such request on
    prometheus.wait_for_sample(series, newer_than=time.time())
    before = prometheus.value(series)
    assert before is not None and before >= 1
    studio_intake.project()
    prometheus.wait_for_sample(series, newer_than=time.time())
    assert prometheus.value(series) == before + 1


@dataclass(frozen=True)
class Numbered:
    """A new project with episodes 1..3 on the watched intake studio, and its Redis index."""

    project: str
    episodes: list[str]
    index: str  # the zset of its episode ids scored by number
    namespace: str  # the harness_namespace label of its series


@pytest.fixture
def numbered(studio_intake: Studio, watched_intake: dict[str, str]) -> Numbered:
    project = studio_intake.project()
    ids = [str(studio_intake.episode(project, title=f"e{n}")["id"]) for n in range(3)]
    index = Keys(studio_intake.prefix).project_episodes(project)
    return Numbered(project, ids, index, watched_intake["harness_namespace"])


def test_gap_alert_fires_when_an_episode_record_is_lost_and_resolves_when_restored(
    numbered: Numbered, prometheus: Prometheus, studio_redis: redis.Redis
) -> None:
    series = f'studio_episode_number_gaps{{project="{numbered.project}"}}'
    prometheus.wait_for_sample(series, newer_than=time.time())
    assert prometheus.value(series) == 0
    labels = {"project": numbered.project}

    studio_redis.zrem(numbered.index, numbered.episodes[1])  # episode 2 lost, as a failed write
    alert = prometheus.wait_for_alert("EpisodeNumberGap", labels=labels)
    assert alert is not None and float(alert["value"]) == 1
    assert alert["labels"]["severity"] == "page"
    assert alert["labels"]["harness_namespace"] == numbered.namespace

    studio_redis.zadd(numbered.index, {numbered.episodes[1]: 2})
    prometheus.wait_for_alert("EpisodeNumberGap", "inactive", labels=labels)
    assert prometheus.value(series) == 0


def test_duplicate_alert_fires_when_two_episodes_share_a_number(
    numbered: Numbered, prometheus: Prometheus, studio_redis: redis.Redis
) -> None:
    labels = {"project": numbered.project}
    studio_redis.zadd(numbered.index, {"written-by-hand": 1})
    alert = prometheus.wait_for_alert("EpisodeNumberDuplicate", labels=labels)
    assert alert is not None and float(alert["value"]) == 1
    prometheus.wait_for_alert("EpisodeNumberGap", "inactive", labels=labels)

    studio_redis.zrem(numbered.index, "written-by-hand")
    prometheus.wait_for_alert("EpisodeNumberDuplicate", "inactive", labels=labels)


@pytest.mark.faults
def test_error_rate_alert_fires_under_a_503_storm_on_comfyui(
    studio: Studio, watched_pipeline: dict[str, str], prometheus: Prometheus, faults: Faults
) -> None:
    labels = {"backend": "comfyui", **watched_pipeline}
    prometheus.wait_for_alert("StudioBackendErrorRate", "inactive", labels=labels, timeout=60)
    project = studio.project()
    with faults.http("comfyui", status=503):  # every ComfyUI request of this worker's studio
        episode = str(studio.episode(project)["id"])
        alert = prometheus.wait_for_alert("StudioBackendErrorRate", labels=labels, timeout=60)
        assert alert is not None and float(alert["value"]) > 0.5
    (final,) = studio.wait_terminal([episode], 180)
    assert final["keyframes"], final.get("error")  # it waited the storm out, then rendered
    prometheus.wait_for_alert("StudioBackendErrorRate", "inactive", labels=labels, timeout=60)


@pytest.mark.faults
def test_a_tcp_fault_on_prometheus_reaches_its_clients(
    prometheus: Prometheus, faults: Faults
) -> None:
    with faults.down("prometheus"), pytest.raises(PrometheusError, match=r"^Prometheus at "):
        prometheus.query("up")
    assert prometheus.query('up{job="studio"}')


@pytest.mark.faults
@pytest.mark.exclusive_stack
def test_prometheus_killed_comes_back_healthy_and_scrapes_again(
    prometheus: Prometheus, faults: Faults
) -> None:
    faults.kill("prometheus")
    with pytest.raises(PrometheusError):
        prometheus.query("up")
    faults.clear()  # started again and healthy
    prometheus.wait_for_sample('up{job="studio"}', newer_than=time.time())
    assert prometheus.value('up{job="studio"}') == 1.0


def _promtool(stack: Stack, rules: Path) -> str:
    """`promtool check rules` in the stack's Prometheus image; its output."""
    output = docker.from_env().containers.run(
        stack.topology.get("prometheus").image,
        ["check", "rules", f"/rules/{rules.name}"],
        entrypoint="/bin/promtool",
        volumes={str(rules.parent): {"bind": "/rules", "mode": "ro"}},
        labels={"org.mediastack-harness.run": stack.project},
        network_mode="none",
        remove=True,
        stderr=True,
    )
    return bytes(output).decode()


def test_promtool_accepts_the_shipped_rules(stack: Stack, tmp_path: Path) -> None:
    assert "SUCCESS: 3 rules found" in _promtool(stack, RULES)
    broken = tmp_path / "broken.yml"
    broken.write_text(RULES.read_text().replace("studio_episode_number_gaps > 0", "gaps >"))
    broken.chmod(0o644)
    tmp_path.chmod(0o755)
    with pytest.raises(ContainerError) as refused:
        _promtool(stack, broken)
    assert b"parse error" in (refused.value.stderr or b"")
