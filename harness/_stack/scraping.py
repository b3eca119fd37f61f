"""The stack's Prometheus: whether it runs, which services under test it scrapes (each through a
proxy of its own, `<name>--prometheus`), and the check that a link to it can exist."""

from __future__ import annotations

from harness import _prometheus_config
from harness._errors import HarnessError
from harness._stack.proxies import Proxies
from harness._topology import Topology

PROMETHEUS = "prometheus"


def has_prometheus(project: str) -> bool:
    """Whether Prometheus is part of this stack (its run configuration was written)."""
    return (_prometheus_config.directory(project) / _prometheus_config.CONFIG_FILE).exists()


def scrape_targets(project: str, topology: Topology) -> list[str]:
    """The services under test this stack's Prometheus scrapes (none without Prometheus)."""
    own = topology.project
    if own is None or not has_prometheus(project):
        return []
    return list(own.config.prometheus.targets)


def check_link(project: str, topology: Topology, service: str, via: str) -> None:
    """Fail unless `via` reaches `service` through a proxy of its own, `<service>--<via>`:
    a service under test reaching a backend, or Prometheus scraping a service under test."""
    if via != PROMETHEUS or via in topology.under_test:
        topology.service_under_test(via)
    elif not has_prometheus(project):
        raise HarnessError(
            f"no Prometheus in stack {project} to scrape {service}: "
            f'list "{PROMETHEUS}" in `backends` and {service} in [prometheus] targets'
        )
    elif service not in scrape_targets(project, topology):
        scraped = ", ".join(scrape_targets(project, topology)) or "none"
        raise HarnessError(
            f"Prometheus does not scrape {service} (its targets: {scraped}): "
            "list it in [prometheus] targets"
        )


def scrape(project: str, topology: Topology, proxies: Proxies, name: str) -> None:
    """Have this run's Prometheus scrape a service under test its project lists in
    `[prometheus] targets`, through a proxy of its own (`<name>--prometheus`)."""
    own = topology.project
    if own is None or name not in scrape_targets(project, topology):
        return
    link = proxies.ensure([name], namespace=PROMETHEUS)[name]
    labels = {"job": name, "__metrics_path__": own.config.prometheus.metrics_path}
    _prometheus_config.write_target(project, name, str(link), labels)
