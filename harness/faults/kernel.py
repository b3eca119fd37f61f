"""Kernel faults on real packets, inside the target's network namespace.

A short-lived helper container joins the target's namespace (`--network container:<id>`) with
NET_ADMIN and runs iptables / tc there, so the service containers stay unprivileged and need no
tools. Loss uses netem where the kernel has it, else iptables' `statistic` match; bandwidth uses
tbf; a partition drops both directions between two containers; delay/jitter needs netem.
"""

from __future__ import annotations

import itertools
import os
import sys
from functools import cache
from typing import Any

from docker.errors import ContainerError, NotFound

from harness import _docker, _labels
from harness import _images as images
from harness.faults._base import Fault, FaultError, UnsupportedByKernel, require
from harness.faults._target import Target

CHAINS = {"in": "HARNESS-IN", "out": "HARNESS-OUT"}
_SETUP = (
    "for c in HARNESS-IN HARNESS-OUT; do iptables -N $c 2>/dev/null || true; done; "
    "iptables -C INPUT -j HARNESS-IN 2>/dev/null || iptables -I INPUT -j HARNESS-IN; "
    "iptables -C OUTPUT -j HARNESS-OUT 2>/dev/null || iptables -I OUTPUT -j HARNESS-OUT; "
)
_ids = itertools.count(1)


@cache
def _helper_image() -> str:
    """The netfault image, built on the first kernel fault when absent (no project's `harness
    images build` builds it: only `--all`, or `harness images build netfault`)."""
    return images.ensure_lazily("netfault", report=lambda line: print(line, file=sys.stderr))


def run_in_namespace(target: Target, script: str, *, gone_ok: bool = False) -> str:
    """Run a shell script in the target's network namespace; one clear error on failure.

    With `gone_ok`, a container that no longer exists is fine (its namespace went with it).
    """
    run = target.container.labels.get(_labels.RUN, "manual")
    try:
        output = _docker.client().containers.run(
            _helper_image(),
            ["sh", "-ec", script],
            network_mode=f"container:{target.container.id}",
            cap_add=["NET_ADMIN"],
            labels={_labels.RUN: run, _labels.OWNER: _labels.owner_token()},
            remove=True,
            stderr=True,
        )
    except ContainerError as error:
        detail = (error.stderr or b"").decode(errors="replace").strip().splitlines()
        last = detail[-1] if detail else str(error)
        if any(word in last for word in ("not permitted", "Permission denied")):
            client = _docker.client()
            kind = _docker.engine_kind(client.info(), client.version())
            raise UnsupportedByKernel(
                f"{target.service}: this engine ({kind}) does not grant NET_ADMIN in the "
                f"container's network namespace ({last}): kernel faults need an engine that "
                "does (rootful Docker; `harness doctor` tells)"
            ) from None
        raise FaultError(f"{target.service}: {last}") from None
    except NotFound:
        if gone_ok:
            return ""
        raise FaultError(f"{target.service}: its container no longer exists") from None
    return output.decode(errors="replace") if isinstance(output, bytes) else str(output)


@cache
def netem_available() -> bool:
    """Whether this kernel has sch_netem (probed once, on a throwaway namespace's loopback)."""
    try:
        _docker.client().containers.run(
            _helper_image(),
            ["sh", "-ec", "tc qdisc add dev lo root netem delay 1ms && tc qdisc del dev lo root"],
            cap_add=["NET_ADMIN"],
            network_mode="none",
            remove=True,
            stderr=True,
        )
    except ContainerError:
        return False
    return True


class KernelFault(Fault):
    """Rules tagged with this fault's id in the target namespace(s); cleared by that tag."""

    layer = "kernel"

    def __init__(self, *targets: Target) -> None:
        super().__init__()
        self.targets = targets
        self.tag = f"harness-{os.getpid()}-{next(_ids)}"

    def _script(self, target: Target) -> str:
        raise NotImplementedError

    def _apply(self) -> None:
        done: list[Target] = []
        try:
            for target in self.targets:
                run_in_namespace(target, _SETUP + self._script(target))
                done.append(target)
        except FaultError:
            for target in done:
                run_in_namespace(target, self._remove_script())
            raise

    def _remove_script(self) -> str:
        return "".join(
            f"iptables -S {chain} | grep -- '--comment {self.tag} ' | sed 's/^-A/-D/' "
            "| while read -r rule; do eval iptables $rule; done; "
            for chain in CHAINS.values()
        )

    def _clear(self) -> None:
        for target in self.targets:
            run_in_namespace(target, self._remove_script(), gone_ok=True)

    def _delete_qdisc(self) -> None:
        """Remove the root qdisc (tbf or netem) this fault added."""
        for target in self.targets:
            run_in_namespace(target, "tc qdisc del dev eth0 root 2>/dev/null || true", gone_ok=True)

    def _rule(self, chain: str, match: str) -> str:
        return f"iptables -A {CHAINS[chain]} {match} -m comment --comment {self.tag} -j DROP; "


class Loss(KernelFault):
    """Drop a fraction of the packets reaching the target (netem on egress where available)."""

    def __init__(self, target: Target, percent: float) -> None:
        require(0 < percent <= 100, f"loss must be within (0, 100] %, got {percent}")
        super().__init__(target)
        self.percent = percent
        self.netem = netem_available()

    def _script(self, target: Target) -> str:
        if self.netem:
            return f"tc qdisc add dev eth0 root netem loss {self.percent}%; "
        probability = self.percent / 100
        return self._rule("in", f"-m statistic --mode random --probability {probability:.6f}")

    def _clear(self) -> None:
        if self.netem:
            self._delete_qdisc()
        else:
            super()._clear()

    def describe(self) -> dict[str, Any]:
        how = "netem" if self.netem else "iptables statistic"
        return {
            "layer": self.layer,
            "fault": "loss",
            "service": self.targets[0].service,
            "percent": self.percent,
            "via": how,
        }


class RateLimit(KernelFault):
    """Limit the target's egress bandwidth with a token bucket (tbf)."""

    def __init__(self, target: Target, kbit: float) -> None:
        require(kbit > 0, f"rate must be > 0 kbit/s, got {kbit}")
        super().__init__(target)
        self.kbit = kbit

    def _script(self, target: Target) -> str:
        return f"tc qdisc add dev eth0 root tbf rate {self.kbit}kbit burst 32kbit latency 400ms; "

    def _clear(self) -> None:
        self._delete_qdisc()

    def describe(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "fault": "rate_limit",
            "service": self.targets[0].service,
            "kbit": self.kbit,
        }


class Partition(KernelFault):
    """No packet passes between two containers, in either direction."""

    def __init__(self, a: Target, b: Target) -> None:
        require(a.service != b.service, "a partition needs two different services")
        super().__init__(a, b)
        self.addresses = {a.service: a.ip_address(b), b.service: b.ip_address(a)}

    def _script(self, target: Target) -> str:
        peer = next(t for t in self.targets if t is not target)
        address = self.addresses[peer.service]
        return self._rule("in", f"-s {address}") + self._rule("out", f"-d {address}")

    def describe(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "fault": "partition",
            "services": [t.service for t in self.targets],
        }


class Delay(KernelFault):
    """Delay (and jitter) every packet leaving the target: needs the kernel's netem."""

    def __init__(self, target: Target, ms: float, jitter: float = 0) -> None:
        require(ms >= 0 and jitter >= 0, f"delay and jitter must be >= 0, got {ms}, {jitter}")
        if not netem_available():
            raise UnsupportedByKernel(
                "delay/jitter is not supported by this kernel (no sch_netem): "
                "use the TCP latency fault (faults.latency) instead"
            )
        super().__init__(target)
        self.ms, self.jitter = ms, jitter

    def _script(self, target: Target) -> str:
        return f"tc qdisc add dev eth0 root netem delay {self.ms}ms {self.jitter}ms; "

    def _clear(self) -> None:
        self._delete_qdisc()

    def describe(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "fault": "delay",
            "service": self.targets[0].service,
            "ms": self.ms,
            "jitter": self.jitter,
        }


def inspect(target: Target) -> list[str]:
    """Harness rules and root qdiscs present in the target's namespace."""
    output = run_in_namespace(
        target,
        "iptables -S HARNESS-IN 2>/dev/null || true; iptables -S HARNESS-OUT 2>/dev/null || true; "
        "tc qdisc show dev eth0 root",
    )
    found = [line for line in output.splitlines() if "--comment harness-" in line]
    found += [
        line
        for line in output.splitlines()
        if line.startswith("qdisc") and any(kind in line for kind in ("netem", "tbf"))
    ]
    return found


def clear_namespace(target: Target) -> None:
    """Remove every harness rule and qdisc from the target's namespace (CLI `fault clear`)."""
    run_in_namespace(
        target,
        "iptables -F HARNESS-IN 2>/dev/null || true; iptables -F HARNESS-OUT 2>/dev/null || true; "
        "tc qdisc del dev eth0 root 2>/dev/null || true",
    )
