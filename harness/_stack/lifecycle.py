"""A stack's life: the compose files it runs, `up` (backends to healthy, their proxies, then the
services under test) and `down` (everything the run labeled)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness import _images as images
from harness import _overlay, _paths, _process, _prometheus_config
from harness import _reaper as reaper
from harness._compose import Compose
from harness._stack import addresses, health
from harness._stack.health import Progress
from harness._stack.inspection import Inspector
from harness._stack.proxies import POOL_LABEL, PROXY, Proxies, pool_range, pool_size
from harness._stack.scraping import PROMETHEUS
from harness._stack.starter import UnderTestStarter
from harness._topology import FRONT_SERVICES, Topology


def compose_files(topology: Topology) -> list[Path]:
    """The packaged stack, the project's own compose files, and the harness's overlay."""
    project = topology.project
    if project is None:
        return [_paths.compose_file()]
    overlay = _overlay.write(topology)
    return [_paths.compose_file(), *project.compose_paths, *([overlay] if overlay else [])]


@dataclass(frozen=True)
class Lifecycle:
    """Brings one stack up and takes it down."""

    compose: Compose
    inspector: Inspector
    proxies: Proxies
    starter: UnderTestStarter

    def up(
        self,
        services: Sequence[str] | None,
        *,
        under_test: Sequence[str] | None,
        timeout: float,
        progress: Progress | None,
        cleanup_on_failure: bool,
        clients: int | None = None,
    ) -> list[str]:
        """`Stack.up`: the images and ports first, then the backends (building the services
        under test meanwhile) and their default proxies, then each service under test."""
        topology, compose = self.inspector.topology, self.compose
        addresses.check_reachable()  # before anything starts
        names = [service.name for service in topology.select(services)]
        chosen = list(topology.under_test) if under_test is None else list(under_test)
        suts = [topology.service_under_test(name) for name in chosen]
        names += [need for sut in suts for need in sut.needs if need not in names]
        images.require(images.stack_images(images.needed(topology.project, names)))
        reaper.reap_dead_runs()
        proxy = self.inspector.containers().get(PROXY)
        # a running Toxiproxy keeps its pool: compose would recreate it for another
        compose.env["HARNESS_PROXY_POOL"] = (
            proxy.labels[POOL_LABEL] if proxy else pool_range(pool_size(len(names), suts, clients))
        )
        compose.env["HARNESS_HOST_GATEWAY"] = addresses.host_gateway()
        if PROMETHEUS in names:
            _prometheus_config.write(self.inspector.project, topology.project)
        began = time.time()
        try:
            own = [name for name in names if topology.get(name).own]
            if own:
                compose.build(own)
            own_suts = [sut.name for sut in suts if not sut.is_process]
            # the services under test build while the backends start (joined, even on failure,
            # before anything else happens)
            with ThreadPoolExecutor(max_workers=1) as pool:
                building = pool.submit(compose.build, own_suts) if own_suts else None
                if PROMETHEUS in names:  # its configuration, copied in before it starts
                    compose.create([PROMETHEUS])
                    _prometheus_config.push(self.inspector.project)
                compose.up([*FRONT_SERVICES, *names])
                health.wait_healthy(
                    self.inspector,
                    [*FRONT_SERVICES, *names],
                    timeout=timeout,
                    progress=progress,
                    since=began,
                )
                self.proxies.ensure(names)
                if building is not None:
                    building.result()
            for sut in suts:
                self.starter.start(sut.name, timeout=timeout, progress=progress)
        except BaseException:
            if cleanup_on_failure:
                self.down()
            raise
        return names + [sut.name for sut in suts]

    def down(self) -> None:
        """Remove everything this run labeled: its processes, compose's resources and any
        isolated container."""
        project = self.inspector.project
        try:
            _process.stop_all(project)
            self.compose.down()
        finally:
            reaper.remove_run(project)
            shutil.rmtree(_prometheus_config.directory(project), ignore_errors=True)
        self.proxies.clear()
