"""Teardown that never leaks: remove a run's labeled resources, reap runs whose owner died."""

from __future__ import annotations

from collections import defaultdict

from docker.errors import APIError, NotFound

from harness import _docker, _labels


def runs() -> dict[str, str]:
    """Every run with resources on this engine, mapped to its owner token."""
    engine = _docker.client()
    owners: dict[str, str] = {}
    found = [
        *engine.containers.list(all=True, sparse=True, filters={"label": _labels.RUN}),
        *engine.networks.list(filters={"label": _labels.RUN}),
        *engine.volumes.list(filters={"label": _labels.RUN}),
    ]
    for resource in found:
        labels = resource.attrs.get("Labels") or {}
        if _labels.RUN in labels:
            owners.setdefault(labels[_labels.RUN], labels.get(_labels.OWNER, _labels.KEPT))
    return owners


def remove_run(run: str) -> int:
    """Remove every container, network and volume labeled with `run`; returns how many."""
    engine = _docker.client()
    selector = {"label": f"{_labels.RUN}={run}"}
    removed = 0
    for container in engine.containers.list(all=True, sparse=True, filters=selector):
        removed += _quietly(lambda c=container: c.remove(force=True, v=True))
    for network in engine.networks.list(filters=selector):
        removed += _quietly(network.remove)
    for volume in engine.volumes.list(filters=selector):
        removed += _quietly(lambda v=volume: v.remove(force=True))
    return removed


def built_images(run: str) -> list[str]:
    """Ids of the images compose built for `run`'s project (labeled with its project name)."""
    engine = _docker.client()
    found = engine.images.list(filters={"label": f"{_labels.PROJECT}={run}"})
    return [image.id for image in found]


def remove_built_images(run: str) -> int:
    """Remove the images compose built for `run` (`down` keeps them: they are the project's
    own, and the next build reuses them; a throwaway project removes them itself)."""
    engine = _docker.client()
    removed = 0
    for image in built_images(run):
        removed += _quietly(lambda i=image: engine.images.remove(i, force=True))
    return removed


def reap_dead_runs() -> list[str]:
    """Remove the runs whose owning process is gone.

    A live run's stack is never touched, nor a kept one (`harness up`, `--keep-stack`): only an
    explicit `down` of that stack removes it.
    """
    reaped = []
    for run, owner in sorted(runs().items()):
        if not _labels.owner_alive(owner):
            remove_run(run)
            reaped.append(run)
    return reaped


def leftovers(run: str) -> dict[str, list[str]]:
    """Names of whatever still carries `run`'s label, by kind (for teardown assertions)."""
    engine = _docker.client()
    selector = {"label": f"{_labels.RUN}={run}"}
    found: dict[str, list[str]] = defaultdict(list)
    for container in engine.containers.list(all=True, sparse=True, filters=selector):
        found["containers"].append(container.attrs.get("Names", [container.id])[0])
    for network in engine.networks.list(filters=selector):
        found["networks"].append(network.name or network.id)
    for volume in engine.volumes.list(filters=selector):
        found["volumes"].append(volume.name)
    return dict(found)


def _quietly(action: object) -> int:
    try:
        action()  # type: ignore[operator]
    except NotFound:
        return 0
    except APIError as error:
        if "removal of" in str(error) and "in progress" in str(error):
            return 0
        raise
    return 1
