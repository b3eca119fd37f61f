"""Faults on Prometheus's scrape link to a service under test (`api--prometheus`): Prometheus sees
the target down or slow, while every other client of the service reaches it as before."""

import time

import httpx
import pytest

from harness._errors import HarnessError

UP = 'up{job="api"}'
SCRAPE_SECONDS = 'scrape_duration_seconds{job="api"}'


@pytest.mark.exclusive_stack  # the scrape link is shared by every worker
def test_a_cut_scrape_link_takes_the_target_down_for_prometheus_only(
    under_test, prometheus, faults
) -> None:
    api = under_test("api")
    prometheus.wait_for_sample(UP, newer_than=time.time())
    assert prometheus.value(UP) == 1.0

    with faults.down("api", via="prometheus"):
        alert = prometheus.wait_for_alert("TargetDown", labels={"job": "api"})
        assert alert is not None and float(alert["value"]) == 0
        assert prometheus.value(UP) == 0.0
        assert httpx.get(f"{api.url}/metrics", timeout=10).status_code == 200  # still up

    restored = time.time()
    prometheus.wait_for_sample(UP, newer_than=restored)
    assert prometheus.value(UP) == 1.0
    prometheus.wait_for_alert("TargetDown", "inactive", labels={"job": "api"})


@pytest.mark.exclusive_stack
def test_latency_on_the_scrape_link_slows_the_scrapes_until_it_ends(prometheus, faults) -> None:
    with faults.latency("api", 400, via="prometheus"):
        prometheus.wait_for_sample(SCRAPE_SECONDS, newer_than=time.time())
        slowed = prometheus.value(SCRAPE_SECONDS)
        assert slowed is not None and slowed >= 0.4, slowed
        assert prometheus.value(UP) == 1.0  # slow, not failed: within the 1 s scrape timeout
    prometheus.wait_for_sample(SCRAPE_SECONDS, newer_than=time.time())
    after = prometheus.value(SCRAPE_SECONDS)
    assert after is not None and after < 0.4, after


def test_a_service_prometheus_does_not_scrape_has_no_scrape_link(faults) -> None:
    with pytest.raises(HarnessError) as refused:
        faults.down("worker", via="prometheus")
    assert str(refused.value) == (
        "Prometheus does not scrape worker (its targets: api): list it in [prometheus] targets"
    )
    assert faults.active() == [] and faults.leftovers() == []
