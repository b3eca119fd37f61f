"""Project configuration: what an adopting repository declares, and one-line errors for the rest."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness import _config as config
from harness._errors import ConfigError, ConfigMissing

COMPOSE = """\
services:
  postgres:
    build: ./pg
    healthcheck: {test: ["CMD", "true"]}
  web:
    build: ./web
    healthcheck: {test: ["CMD", "true"]}
  nohealth:
    image: busybox
volumes:
  pgdata: {}
"""


def project(tmp_path: Path, body: str, compose: str = COMPOSE) -> config.Project:
    """A harness.toml (the section's keys at the top level) beside a compose file."""
    (tmp_path / "harness.compose.yaml").write_text(compose)
    (tmp_path / "harness.toml").write_text(textwrap.dedent(body))
    return config.load_from(tmp_path / "harness.toml")


def error_of(tmp_path: Path, body: str) -> str:
    with pytest.raises(ConfigError) as caught:
        project(tmp_path, body)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_an_empty_section_starts_every_builtin_backend(tmp_path: Path) -> None:
    loaded = project(tmp_path, "")
    assert loaded.backends == list(config.BUILTIN_BACKENDS)
    assert loaded.services == {}
    assert loaded.reports_path() == (tmp_path / "reports").resolve()


def test_services_extra_backends_and_templates_are_read(tmp_path: Path) -> None:
    loaded = project(
        tmp_path,
        """
        backends = ["redis"]
        compose-files = ["harness.compose.yaml"]
        health-timeout = 30
        [extra-backends.postgres]
        port = 5432
        [services.api]
        command = ["python", "-m", "api"]
        health = "/health"
        needs = ["redis", "postgres"]
        env = { DB = "postgresql://{postgres.host}:{postgres.port}/x", PORT = "{port}" }
        [services.web]
        env = { API = "{api.url}" }
        """,
    )
    assert loaded.backends == ["redis", "postgres"]
    assert loaded.services["api"].is_process and not loaded.services["web"].is_process
    assert loaded.needs("api") == ["redis", "postgres"]
    assert loaded.needs("web") == ["redis", "postgres"]  # default: every backend started
    assert loaded.config.health_timeout == 30


def test_test_env_reads_templates_of_backends_services_worker_and_namespace(
    tmp_path: Path,
) -> None:
    loaded = project(
        tmp_path,
        """
        backends = ["redis"]
        compose-files = ["harness.compose.yaml"]
        [extra-backends.postgres]
        port = 5432
        [services.api]
        command = ["python", "-m", "api"]
        health = "/health"
        [test-env]
        REDIS_URL = "redis://{redis.host}:{redis.port}/0"
        DATABASE_URL = "postgresql://postgres@{postgres.host}:{postgres.port}/{namespace}"
        API_URL = "{api.url}"
        WORKER = "{worker}"
        """,
    )
    assert loaded.config.test_env["API_URL"] == "{api.url}"
    assert sorted(loaded.config.test_env) == ["API_URL", "DATABASE_URL", "REDIS_URL", "WORKER"]
    assert project(tmp_path, "").config.test_env == {}  # nothing declared: nothing set early


def test_env_templates_render_addresses_and_the_own_port() -> None:
    from harness._stack import Address

    rendered = config.render(
        "redis://{redis.host}:{redis.port}/0 {api.url} {port}",
        {"redis": Address("127.0.0.1", 6000), "api": Address("127.0.0.1", 7000)},
        port=8123,
    )
    assert rendered == "redis://127.0.0.1:6000/0 http://127.0.0.1:7000 8123"


def test_the_process_environment_wins_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SEED", "99")
    monkeypatch.delenv("HARNESS_REDIS_IMAGE", raising=False)
    loaded = project(tmp_path, 'seed = 7\n[images]\nredis = "redis:7.2"\n')
    assert loaded.environment() == {"HARNESS_REDIS_IMAGE": "redis:7.2"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('backends = ["redis", "mongo"]', "unknown backend 'mongo'; known: redis, chroma"),
        ("seeed = 1", "seeed: unknown key; allowed: backends, compose-files, seed"),
        ("health-timeout = -1", "health-timeout: Input should be greater than 0"),
        (
            '[services.api]\ncommand = ["x"]\nhelth = "/"',
            "services.api.helth: unknown key; allowed: command",
        ),
        ('[services.api]\ncommand = ["x"]', "services.api: a process needs `health`"),
        ('[services.api]\ncommand = ["x"]\nhealth = "health"', "an HTTP path starting with '/'"),
        ("[services.ghost]\n", "services.ghost: give a `command` (a host process) or define"),
        (
            '[services.api]\ncommand = ["x"]\nhealth = "/h"\nenv = { U = "{redis.hots}" }',
            "services.api.env.U: unknown reference {redis.hots}; use {host}, {port}, {python} or",
        ),
        (
            '[services.api]\ncommand = ["x"]\nhealth = "/h"\nenv = { U = "{pg.port}" }',
            "unknown reference {pg.port}",
        ),
        (
            '[services.api]\ncommand = ["x"]\nhealth = "/h"\nneeds = ["pg"]',
            "services.api.needs: unknown backend 'pg'",
        ),
        (
            '[test-env]\nREDIS_URL = "redis://{redis.hots}/0"',
            "test-env.REDIS_URL: unknown reference {redis.hots}; use {worker}, {namespace} or "
            "{SERVICE.host|port|url} with SERVICE one of cablecast, chromadb,",
        ),
        ('[test-env]\nPORT = "{port}"', "test-env.PORT: unknown reference {port}; use {worker}"),
        ('[test-env]\nU = "{pg.url}"', "test-env.U: unknown reference {pg.url}"),
        ('[test-env]\n"NOT-A-NAME" = "x"', "test-env.NOT-A-NAME: not an environment variable"),
        ("[test-env]\nN = 1", "test-env.N: Input should be a valid string"),
        ("[extra-backends.redis]\nport = 1", "extra-backends.redis: 'redis' is a built-in backend"),
        ("[extra-backends.mysql]\nport = 3306", "extra-backends.mysql: no service 'mysql' in"),
        ('compose-files = ["missing.yaml"]', "compose-files[0]: no such file"),
    ],
)
def test_bad_configuration_is_one_line_naming_file_key_and_allowed(
    tmp_path: Path, body: str, expected: str
) -> None:
    message = error_of(tmp_path, body)
    assert message.startswith(f"{tmp_path / 'harness.toml'}: ")
    assert expected in message


def test_a_project_backend_without_healthcheck_is_refused(tmp_path: Path) -> None:
    body = 'compose-files = ["harness.compose.yaml"]\n[extra-backends.nohealth]\nport = 80'
    assert "service 'nohealth' needs a compose `healthcheck:`" in error_of(tmp_path, body)


def test_harness_toml_is_found_from_a_subdirectory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARNESS_PROJECT_ROOT", raising=False)
    (tmp_path / "harness.toml").write_text('backends = ["redis"]\n')
    (tmp_path / "src" / "deep").mkdir(parents=True)
    assert config.find_source(tmp_path / "src" / "deep") == (tmp_path / "harness.toml").resolve()
    assert config.load_from(tmp_path / "harness.toml").backends == ["redis"]


def test_the_section_in_pyproject_toml_is_read_with_its_tables(tmp_path: Path) -> None:
    (tmp_path / "harness.compose.yaml").write_text(COMPOSE)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "adopter"\n\n[tool.mediastack-harness]\nbackends = ["redis"]\n'
        'compose-files = ["harness.compose.yaml"]\n'
        "[tool.mediastack-harness.extra-backends.postgres]\nport = 5432\n"
    )
    assert config.find_source(tmp_path) == (tmp_path / "pyproject.toml").resolve()
    assert config.load_from(tmp_path / "pyproject.toml").backends == ["redis", "postgres"]


def test_no_configuration_names_harness_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARNESS_PROJECT_ROOT", raising=False)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n')
    with pytest.raises(ConfigMissing, match="run `harness init`"):
        config.current(tmp_path)
