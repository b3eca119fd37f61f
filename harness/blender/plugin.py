"""pytest fixtures for Blender add-ons: `blender` (a fresh session) and `blender_addon`.

The add-on and its preferences come from pytest options or ini keys:

    [pytest]
    blender_addon = addons/director
    blender_prefs =
        comfyui_url = http://{comfyui.host}:{comfyui.port}
        litellm_url = http://{litellm.host}:{litellm.port}

`{service.host}` / `{service.port}` are the stack's proxied addresses (`backends.address`);
override the `blender_endpoints` fixture to point them elsewhere. A failing test gets the
session's log and the add-on's tracebacks in its report.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import _config as harness_config
from harness._errors import HarnessError
from harness.blender._session import BlenderError, Session

_LOG_TAIL = 200
_SESSION_KEY = pytest.StashKey[Session]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mediastack-harness-blender", "Blender add-on tests")
    group.addoption(
        "--blender-addon", help="Add-on folder or zip the blender_addon fixture enables."
    )
    group.addoption(
        "--blender-pref",
        action="append",
        default=[],
        metavar="NAME=TEMPLATE",
        help="An add-on preference, e.g. comfyui_url=http://{comfyui.host}:{comfyui.port}.",
    )
    parser.addini("blender_addon", "Add-on folder or zip the blender_addon fixture enables.")
    parser.addini("blender_prefs", "Lines `name = template` of add-on preferences.", "linelist")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "blender: Blender add-on suite (needs bpy or its image)")


@dataclass(frozen=True)
class AddonSettings:
    """Which add-on to enable and its preferences as templates over the stack's addresses."""

    path: Path
    preferences: dict[str, str]


def addon_settings(config: pytest.Config) -> AddonSettings:
    """The add-on and preference templates: options first, then the project's configuration
    (`[tool.mediastack-harness.blender]`), then ini."""
    project = harness_config.current_or_none(Path(config.rootpath))
    declared = project.config.blender if project else harness_config.BlenderConfig()
    raw = config.getoption("blender_addon") or declared.addon or config.getini("blender_addon")
    if not raw:
        raise HarnessError(
            "no add-on given: set `addon` in [tool.mediastack-harness.blender] "
            "(or pass --blender-addon PATH)"
        )
    path = Path(str(raw))
    if not path.is_absolute():
        path = (project.root if project and declared.addon else Path(config.rootpath)) / path
    preferences = dict(declared.preferences)
    lines = [*config.getini("blender_prefs"), *config.getoption("blender_pref")]
    for line in lines:
        name, sep, template = line.partition("=")
        if not sep:
            raise HarnessError(f"blender preference {line!r} is not `name = template`")
        preferences[name.strip()] = template.strip()
    return AddonSettings(path, preferences)


class _StackAddresses(Mapping[str, Any]):
    """`{comfyui.host}` in a template: the stack's proxied address, asked only when used."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.request = request

    def __getitem__(self, service: str) -> Any:
        return self.request.getfixturevalue("backends").address(service)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@pytest.fixture
def blender_endpoints(request: pytest.FixtureRequest) -> Mapping[str, Any]:
    """Service name -> object with `.host` and `.port` for the preference templates."""
    return _StackAddresses(request)


@pytest.fixture
def blender(request: pytest.FixtureRequest) -> Iterator[Session]:
    """A fresh Blender session with factory settings (timers on the real clock)."""
    with Session(clock="real") as session:
        request.node.stash[_SESSION_KEY] = session
        yield session


@dataclass(frozen=True)
class EnabledAddon:
    """The project's add-on as enabled in a session."""

    session: Session
    module: str
    preferences: dict[str, Any]


@pytest.fixture
def blender_addon(
    blender: Session, pytestconfig: pytest.Config, blender_endpoints: Mapping[str, Any]
) -> EnabledAddon:
    """The project's add-on enabled, its preferences pointed at the stack's addresses."""
    settings = addon_settings(pytestconfig)
    module = blender.enable(settings.path)
    values = {
        name: template.format_map(blender_endpoints)
        for name, template in settings.preferences.items()
    }
    preferences = blender.preferences(module, **values) if values else {}
    return EnabledAddon(blender, module, preferences)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    session = item.stash.get(_SESSION_KEY, None)
    if session is not None and report.failed:
        report.sections.append(
            ("Blender session log", "\n".join(session.log_lines[-_LOG_TAIL:]) or "(empty)")
        )
        try:
            tracebacks = "\n".join(session.tracebacks()) or "(none)"
        except BlenderError as error:
            tracebacks = f"(session gone: {error})"
        report.sections.append(("Blender add-on tracebacks", tracebacks))
    return report
