"""The project's `test-env`: environment variables of the pytest process itself, set before
collection, so code that reads its settings at import sees the stack.

That import may come from `tests/conftest.py`, which pytest loads as an initial conftest, before
`pytest_configure`. So for a project that declares `test-env` (and only then) the plugin's
`pytest_load_initial_conftests` (tryfirst) calls `prepare`:

* the controller (or a run without xdist) names the run and makes its shared directory
  (`_run.begin_early`), then starts the stack once under the lock there (`_shared_stack.start_once`:
  the record the `stack` fixture and the teardown use), or attaches (`--attach-stack`);
* an xdist worker attaches to what its controller started (the run and the shared directory come
  with the environment it inherits);
* each process that runs tests renders the templates with proxies of its own (a `WorkerBackends`
  for its namespace, kept for the `backends` fixture); an xdist controller runs none, so it makes
  no proxies and renders them with the stack's default ones (a conftest.py it loads, and the app
  that imports, still finds its settings).

The variables named win over the process environment: pointing the app at the stack is the point.
Their values are not printed. A failure is one line (a usage error) and leaves nothing running.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness import _backends, _options, _run, _shared_stack
from harness import _config as harness_config
from harness._backends import WorkerBackends
from harness._errors import HarnessError
from harness._stack import Address, Stack
from harness._state import attached_project

STACK = pytest.StashKey[Stack]()  # the stack this process reached before collection
BACKENDS = pytest.StashKey[WorkerBackends]()  # its proxies, for the `backends` fixture
NAMES = pytest.StashKey[list[str]]()  # the variables set (names only: values may be secrets)
MASTER = "master"  # xdist's worker_id of a process that is no worker


def prepare(config: pytest.Config) -> None:
    """Before the initial conftests: the stack up (or attached) and `test-env` set, when the
    project declares one; else nothing at all."""
    options = config.known_args_namespace
    if getattr(options, "help", False) or getattr(options, "version", False):
        return
    try:
        project = harness_config.current_or_none(config.rootpath)
    except HarnessError as error:
        raise pytest.UsageError(str(error)) from None
    if project is None or not project.config.test_env:
        return
    os.environ.update(project.environment())  # the images and the seed, as pytest_configure
    try:
        _prepare(config, project.config.test_env, options)
    except (HarnessError, pytest.fail.Exception) as error:
        lines = str(error).strip().splitlines() or [type(error).__name__]
        raise pytest.UsageError(f"mediastack-harness: test-env: {lines[0]}") from None


def _prepare(config: pytest.Config, templates: dict[str, str], options: Any) -> None:
    settings = _options.read(options)
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # xdist sets it before a worker's config
    if worker is None:
        run, shared = _run.begin_early(config)
        config.add_cleanup(lambda: finish(config, shared, settings.keep))  # if the session never
    else:  # comes: a conftest that fails to import, Ctrl-C
        run = os.environ.get("HARNESS_RUN_ID", "")
        shared = Path(os.environ.get(_run.SHARED_ENV) or "")
    if settings.attach:
        run = attached_project(settings.attach)
        stack = _shared_stack.attach(run, settings.services)
    else:
        if not (run and shared.name):
            raise HarnessError(f"xdist worker {worker}: its controller started no stack")
        stack = _shared_stack.start_once(
            shared, run, _run.owner(), settings.services, settings.health_timeout, _clients(options)
        )
    config.stash[STACK] = stack
    worker_id = worker or MASTER
    address: Callable[[str], Address]
    if worker is None and _distributed(options):
        address = stack.address  # this controller runs no tests: the default proxies
    else:
        backends = WorkerBackends(stack, f"{run}-{worker_id}", config.hook, worker_id)
        config.stash[BACKENDS] = backends
        if settings.attach:  # a long-lived stack keeps no proxy of this run
            config.add_cleanup(lambda: _backends.release(backends))
        address = backends.proxy
    values = {"worker": worker_id, "namespace": f"{run}-{worker_id}"}
    for variable, template in templates.items():
        targets = sorted(
            {ref.partition(".")[0] for ref in harness_config.template_references(template)}
            - set(values)
        )
        addresses = {target: address(target) for target in targets}
        os.environ[variable] = harness_config.render(template, addresses, values=values)
    config.stash[NAMES] = sorted(templates)


def _clients(options: Any) -> int | None:
    """How many xdist workers will run the tests (None: as many as cores)."""
    count = getattr(options, "numprocesses", None)
    return count if isinstance(count, int) and count > 0 else None


def _distributed(options: Any) -> bool:
    """Whether xdist will run the tests in workers (then this controller runs none), as its
    `pytest_cmdline_main` will decide from the same options."""
    if getattr(options, "collectonly", False):
        return False
    count = getattr(options, "numprocesses", None)
    if count in ("auto", "logical"):
        return not getattr(options, "usepdb", False)
    if count is not None:
        return bool(count)
    return getattr(options, "dist", "no") != "no" and bool(getattr(options, "tx", None))


def finish(config: pytest.Config, shared: Path, keep: bool) -> None:
    """Tear down what `prepare` started, unless the session did (it removes `shared` then)."""
    if shared.exists():
        try:
            _shared_stack.tear_down(shared, keep=keep)
        except HarnessError as error:
            print(f"mediastack-harness: teardown: {error}", file=sys.stderr)
        finally:
            _run.forget_early(config)
