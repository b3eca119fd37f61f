"""Starting one service under test, a container or a host process: its port, its own proxies to
its backends, its env templates filled in, health-waited, then scraped when its project says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from harness import _config as config
from harness import _labels, _overlay
from harness._compose import Compose
from harness._stack import addresses, health, scraping
from harness._stack.addresses import Address
from harness._stack.health import Progress
from harness._stack.inspection import Inspector
from harness._stack.proxies import Proxies
from harness._topology import UnderTest


@dataclass(frozen=True)
class UnderTestStarter:
    """Starts the services under test of one stack (`owner` decides whether a process is kept)."""

    owner: str
    compose: Compose
    inspector: Inspector
    proxies: Proxies

    def start(self, name: str, *, timeout: float, progress: Progress | None) -> Address:
        """`Stack.start_under_test`: a port (the one it had, else its configured or a free one),
        its links, its environment, then a container or a process health-waited."""
        inspector, topology = self.inspector, self.inspector.topology
        sut = topology.service_under_test(name)
        spec = sut.config
        port = spec.port or addresses.port_of(inspector, name) or addresses.free_port()
        host = addresses.process_host() if sut.is_process else "0.0.0.0"
        links = self.proxies.ensure(list(sut.needs), namespace=name)
        reach = self.proxies.inside if not sut.is_process else self.proxies.default
        others = {
            other: reach(other)
            for other in topology.under_test
            if other != name and other in inspector.running_under_test()
        }
        environment = {
            variable: config.render(template, {**others, **links}, port, {"host": host})
            for variable, template in spec.env.items()
        }
        began = time.time()
        if sut.is_process:
            reached = {**others, **links}
            self._start_process(
                sut, environment, reached, port, host, timeout=timeout, progress=progress
            )
        else:
            self.compose.env[sut.port_var] = str(port)
            for variable, value in environment.items():
                self.compose.env[_overlay.env_var(name, variable)] = value
            self.compose.up([name])
            if spec.health:
                exited = health.container_exit(inspector, name)
                health.wait_http(inspector, name, spec.health, timeout, exited)
            else:
                # its own healthcheck runs at once, not an interval after the start
                check = health.own_check(inspector, name)
                health.wait_healthy(
                    inspector,
                    [name],
                    timeout=timeout,
                    progress=progress,
                    since=began,
                    own_checks={name: check} if check else None,
                )
        self.proxies.forget(name)
        scraping.scrape(inspector.project, topology, self.proxies, name)
        return self.proxies.default(name)

    def _start_process(
        self,
        sut: UnderTest,
        environment: dict[str, str],
        reached: dict[str, Address],
        port: int,
        host: str,
        *,
        timeout: float,
        progress: Progress | None,
    ) -> None:
        process = self.inspector.process(sut.name)
        project = self.inspector.topology.project
        root = project.root if project else Path.cwd()
        command = [
            config.render(arg, reached, port, {"host": host}) for arg in sut.config.command or []
        ]
        process.start(
            command, root / sut.config.cwd, environment, port, kept=self.owner == _labels.KEPT
        )
        if progress:
            progress(sut.name, "starting")

        def exited() -> str | None:
            code = process.exit_code()
            if code is None:
                return None
            return f"exited with code {code} at start"

        health.wait_http(self.inspector, sut.name, sut.config.health or "/", timeout, exited)
        if progress:
            progress(sut.name, "healthy")
