"""An adopting project's configuration: `[tool.mediastack-harness]` in its pyproject.toml, or a
`harness.toml` beside it (same keys at the top level). Validated with pydantic; every error is one
line naming the file, the key and what is allowed.

    [tool.mediastack-harness]
    backends = ["redis", "litellm"]            # built-in backends to start (default: all)
    compose-files = ["harness.compose.yaml"]   # the project's own services, merged by compose
    seed = 1234
    health-timeout = 180
    reports-dir = "reports"

    [tool.mediastack-harness.images]           # image overrides, by service
    redis = "redis:7.2-bookworm"

    [tool.mediastack-harness.extra-backends.postgres]   # a backend from the project's compose file
    port = 5432                                          # the container port its clients use

    [tool.mediastack-harness.services.api]     # a service under test: in a compose file, or
    command = ["python", "-m", "api"]          # a host process (command, cwd, env)
    health = "/health"                         # an HTTP path (else the compose healthcheck)
    needs = ["redis", "postgres"]
    env = { REDIS_URL = "redis://{redis.host}:{redis.port}/0", PORT = "{port}" }

    [tool.mediastack-harness.prometheus]       # the optional Prometheus backend ("prometheus"
    targets = ["api"]                          # in `backends`): services under test it scrapes,
    rules = ["monitoring/rules.yml"]           # rule files; scrape/evaluation interval 1s

    [tool.mediastack-harness.test-env]         # env of the pytest process itself, set before
    REDIS_URL = "redis://{redis.host}:{redis.port}/0"   # collection (this worker's proxies)

    [tool.mediastack-harness.blender]          # a Blender add-on under test (harness.blender)
    addon = "my_addon"
    preferences = { comfyui_url = "http://{comfyui.host}:{comfyui.port}" }

Templates (`env` values and `command` arguments): `{SERVICE.host}`, `{SERVICE.port}`,
`{SERVICE.url}` of a backend or another service under test, the service's own `{port}` and
`{host}` (the address to listen on: 0.0.0.0 in a container, else where the stack's containers
reach this machine), and `{python}`, the interpreter the harness runs in. `test-env` values:
`{SERVICE.host|port|url}` (this worker's proxy), `{worker}` (`gw0`, or `master`) and
`{namespace}` (`<run>-<worker>`).
"""

from __future__ import annotations

import os
import re
import string
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness._errors import ConfigError, ConfigMissing

PYPROJECT = "pyproject.toml"
HARNESS_TOML = "harness.toml"
SECTION = "mediastack-harness"
BUILTIN_BACKENDS = ("redis", "chromadb", "litellm", "comfyui", "wan2gp", "cablecast")
OPTIONAL_BACKENDS = ("prometheus",)  # built in, started only when `backends` lists them
KNOWN_BACKENDS = (*BUILTIN_BACKENDS, *OPTIONAL_BACKENDS)
TEMPLATE_FIELDS = ("host", "port", "url")
SERVICE_PLAIN = ("host", "port", "python")  # its env/command: where to listen, the interpreter
TEST_ENV_PLAIN = ("worker", "namespace")  # test-env: this xdist worker and its namespace
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _http_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"must be an HTTP path starting with '/', got {value!r}")
    return value


class ExtraBackend(_Strict):
    """A backend the project's compose file defines; the harness treats it like a built-in."""

    port: int = Field(gt=0, lt=65536, description="the container port its clients connect to")
    protocol: Literal["http", "tcp"] = "tcp"  # http: HTTP faults and the journal reach it


class ServiceConfig(_Strict):
    """A service under test: a container of the project's compose file, or a host process."""

    command: list[str] | None = Field(default=None, min_length=1)
    cwd: str = "."
    port: int | None = Field(default=None, gt=0, lt=65536)
    health: str | None = None
    needs: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    protocol: Literal["http", "tcp"] = "http"  # tcp: its callers' leg skips the HTTP layer

    @property
    def is_process(self) -> bool:
        """A host process (else a container of the project's compose file)."""
        return self.command is not None

    @field_validator("health")
    @classmethod
    def _absolute_path(cls, value: str | None) -> str | None:
        return None if value is None else _http_path(value)


class BlenderConfig(_Strict):
    """The project's Blender add-on: where it is, and its preferences as templates."""

    addon: str | None = None  # a folder or zip, relative to the project root
    preferences: dict[str, str] = Field(default_factory=dict)  # e.g. "http://{comfyui.url}"


_DURATION = re.compile(r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$")


class PrometheusConfig(_Strict):
    """The optional Prometheus backend: what it scrapes, which rules it evaluates, how often."""

    targets: list[str] = Field(default_factory=list)  # services under test, by name
    rules: list[str] = Field(default_factory=list)  # rule files, relative to the project root
    metrics_path: str = Field(default="/metrics", alias="metrics-path")
    scrape_interval: str = Field(default="1s", alias="scrape-interval")
    evaluation_interval: str = Field(default="1s", alias="evaluation-interval")

    @field_validator("scrape_interval", "evaluation_interval")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not value or value == "0s" or not _DURATION.match(value):
            raise ValueError(
                f"must be a Prometheus duration such as '1s' or '500ms', got {value!r}"
            )
        return value

    @field_validator("metrics_path")
    @classmethod
    def _path(cls, value: str) -> str:
        return _http_path(value)


class ProjectConfig(_Strict):
    """The whole `[tool.mediastack-harness]` section."""

    backends: list[str] | None = None
    compose_files: list[str] = Field(default_factory=list, alias="compose-files")
    seed: int = 1234
    health_timeout: float = Field(default=180.0, gt=0, alias="health-timeout")
    images: dict[str, str] = Field(default_factory=dict)
    reports_dir: str = Field(default="reports", alias="reports-dir")
    extra_backends: dict[str, ExtraBackend] = Field(default_factory=dict, alias="extra-backends")
    services: dict[str, ServiceConfig] = Field(default_factory=dict)
    blender: BlenderConfig = Field(default_factory=BlenderConfig)
    prometheus: PrometheusConfig = Field(default_factory=PrometheusConfig)
    test_env: dict[str, str] = Field(default_factory=dict, alias="test-env")


class Project:
    """A loaded configuration and where it lives."""

    def __init__(self, root: Path, source: Path, config: ProjectConfig) -> None:
        self.root, self.source, self.config = root, source, config
        self.compose_services = self._compose_services()
        self._check()

    # -- what the project declares --------------------------------------------------------
    @property
    def compose_paths(self) -> list[Path]:
        """The project's own compose files, absolute."""
        return [(self.root / name).resolve() for name in self.config.compose_files]

    @property
    def backends(self) -> list[str]:
        """Every backend the stack starts: the chosen built-ins, then the project's own."""
        chosen = list(BUILTIN_BACKENDS) if self.config.backends is None else self.config.backends
        return [*chosen, *self.config.extra_backends]

    @property
    def services(self) -> dict[str, ServiceConfig]:
        """The services under test, by name."""
        return dict(self.config.services)

    def needs(self, service: str) -> list[str]:
        """The backends a service under test waits for (default: every backend started)."""
        declared = self.config.services[service].needs
        return self.backends if declared is None else list(declared)

    def environment(self) -> dict[str, str]:
        """Env vars the compose files and images read, from this config (the process env wins)."""
        values = {"HARNESS_SEED": str(self.config.seed)}
        values |= {
            f"HARNESS_{name.upper()}_IMAGE": image for name, image in self.config.images.items()
        }
        return {key: value for key, value in values.items() if not os.environ.get(key)}

    def rule_paths(self) -> list[Path]:
        """The Prometheus rule files, absolute."""
        return [(self.root / name).resolve() for name in self.config.prometheus.rules]

    def reports_path(self) -> Path:
        """Where run reports go."""
        return (self.root / self.config.reports_dir).resolve()

    # -- validation beyond types -----------------------------------------------------------
    def _error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {message}")

    def _compose_services(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for index, path in enumerate(self.compose_paths):
            key = f"compose-files[{index}]"
            if not path.is_file():
                raise self._error(key, f"no such file {path}")
            try:
                document = yaml.safe_load(path.read_text()) or {}
            except yaml.YAMLError as error:
                mark = getattr(error, "problem_mark", None)
                where = f" (line {mark.line + 1})" if mark else ""
                raise self._error(key, f"{path.name} is not valid YAML{where}") from None
            for name, spec in (document.get("services") or {}).items():
                found[str(name)] = dict(spec or {})
        return found

    def _check(self) -> None:
        config = self.config
        for name in config.backends or []:
            if name not in KNOWN_BACKENDS:
                raise self._error(
                    "backends",
                    f"unknown backend {name!r}; known: {', '.join(KNOWN_BACKENDS)} "
                    "(a backend of your own goes under [extra-backends] and in your compose file)",
                )
        for name in config.extra_backends:
            key = f"extra-backends.{name}"
            if name in KNOWN_BACKENDS:
                raise self._error(key, f"{name!r} is a built-in backend; pick another name")
            spec = self.compose_services.get(name)
            if spec is None:
                raise self._error(key, f"no service {name!r} in {self._files_named()}")
            if not spec.get("healthcheck"):
                raise self._error(key, f"service {name!r} needs a compose `healthcheck:`")
        known = set(self.backends) | set(config.services)
        for name, service in config.services.items():
            key = f"services.{name}"
            if name in self.backends:
                raise self._error(key, f"{name!r} is already a backend's name")
            if not service.is_process:
                spec = self.compose_services.get(name)
                if spec is None:
                    raise self._error(
                        key,
                        f"give a `command` (a host process) or define service {name!r} "
                        f"in {self._files_named()}",
                    )
                if not service.health and not spec.get("healthcheck"):
                    raise self._error(
                        key, "set `health` (an HTTP path) or a compose `healthcheck:`"
                    )
            elif not service.health:
                raise self._error(key, "a process needs `health`, an HTTP path such as '/health'")
            for need in service.needs or []:
                if need not in self.backends:
                    raise self._error(
                        f"{key}.needs",
                        f"unknown backend {need!r}; started: {', '.join(self.backends)}",
                    )
            templates = {f"env.{name}": value for name, value in service.env.items()}
            templates |= {f"command[{i}]": arg for i, arg in enumerate(service.command or [])}
            self._check_templates(key, templates, known, SERVICE_PLAIN)
        for name in config.test_env:
            if not _ENV_NAME.match(name):
                raise self._error(f"test-env.{name}", "not an environment variable name")
        self._check_templates("test-env", config.test_env, known, TEST_ENV_PLAIN)

        self._check_prometheus()

    def _check_templates(
        self, key: str, templates: dict[str, str], known: set[str], plain: tuple[str, ...]
    ) -> None:
        """Every reference of each template is `{SERVICE.host|port|url}` or one of `plain`."""
        for variable, template in templates.items():
            for reference in template_references(template):
                target, _, attribute = reference.partition(".")
                if reference in plain:
                    continue
                if target not in known or attribute not in TEMPLATE_FIELDS:
                    raise self._error(
                        f"{key}.{variable}",
                        f"unknown reference {{{reference}}}; use "
                        + ", ".join(f"{{{name}}}" for name in plain)
                        + " or {SERVICE.host|port|url} with SERVICE one of "
                        + ", ".join(sorted(known)),
                    )

    def _check_prometheus(self) -> None:
        prometheus = self.config.prometheus
        declared = ", ".join(self.config.services) or "none (declare them in [services])"
        for index, name in enumerate(prometheus.targets):
            if name not in self.config.services:
                raise self._error(
                    f"prometheus.targets[{index}]",
                    f"unknown service under test {name!r}; declared: {declared}",
                )
        for index, path in enumerate(self.rule_paths()):
            if not path.is_file():
                raise self._error(
                    f"prometheus.rules[{index}]",
                    f"no such rule file {path} (paths are relative to {self.root})",
                )

    def _files_named(self) -> str:
        return ", ".join(self.config.compose_files) or "no compose file (set `compose-files`)"


def template_references(template: str) -> list[str]:
    """The `{name.field}` references of an env template."""
    try:
        return [field for _, field, _, _ in string.Formatter().parse(template) if field]
    except ValueError as error:
        raise ConfigError(f"bad template {template!r}: {error}") from None


def render(
    template: str,
    addresses: dict[str, Any],
    port: int | None = None,
    values: dict[str, str] | None = None,
) -> str:
    """Fill a template from addresses (`{redis.host}`), the service's own `{port}`,
    `{python}`, the interpreter running the harness (a command in the project's venv), and
    `values` (test-env's `{worker}` and `{namespace}`)."""
    filled: dict[str, Any] = {name: address for name, address in addresses.items()}
    filled["python"] = sys.executable
    if port is not None:
        filled["port"] = port
    filled |= values or {}
    return template.format(**filled)


def _section(path: Path) -> dict[str, Any] | None:
    try:
        document = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    if path.name == HARNESS_TOML:
        return document
    tool = document.get("tool") or {}
    return tool.get(SECTION) if isinstance(tool, dict) else None


def find_source(start: Path | None = None) -> Path | None:
    """The nearest harness.toml, or pyproject.toml with the section, from `start` upwards."""
    override = os.environ.get("HARNESS_PROJECT_ROOT")
    directories = [Path(override)] if override else [start or Path.cwd()]
    if not override:
        directories += list(directories[0].resolve().parents)
    for directory in directories:
        for name in (HARNESS_TOML, PYPROJECT):
            candidate = directory / name
            if candidate.is_file() and _section(candidate) is not None:
                return candidate.resolve()
    return None


def _field_path(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location) or SECTION


def load_from(source: Path) -> Project:
    """Validate one configuration file."""
    section = _section(source) or {}
    try:
        config = ProjectConfig.model_validate(section)
    except ValidationError as error:
        first = error.errors()[0]
        key = _field_path(first["loc"])
        message = str(first["msg"])
        if first["type"] == "extra_forbidden":
            allowed = _allowed_keys(first["loc"])
            message = f"unknown key; allowed: {', '.join(allowed)}"
        raise ConfigError(f"{source}: {key}: {message}") from None
    return Project(source.parent, source, config)


def _allowed_keys(location: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = ProjectConfig
    if len(location) >= 3 and location[0] == "services":
        model = ServiceConfig
    elif len(location) >= 3 and location[0] == "extra-backends":
        model = ExtraBackend
    elif len(location) >= 2 and location[0] == "blender":
        model = BlenderConfig
    elif len(location) >= 2 and location[0] == "prometheus":
        model = PrometheusConfig
    return [field.alias or name for name, field in model.model_fields.items()]


@cache
def _cached(start: str) -> Project:
    source = find_source(Path(start))
    if source is None:
        raise ConfigMissing(
            f"no mediastack-harness configuration in {start} or above: run `harness init` "
            f"(it writes [tool.{SECTION}] into pyproject.toml and a compose overlay)"
        )
    return load_from(source)


def current(start: Path | None = None) -> Project:
    """The project the harness runs for (cached per start directory)."""
    return _cached(str((start or Path.cwd()).resolve()))


def current_or_none(start: Path | None = None) -> Project | None:
    """The project, or None when there is no configuration (an invalid one still fails)."""
    try:
        return current(start)
    except ConfigMissing:
        return None
