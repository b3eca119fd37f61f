"""Which images a project uses (`images.needed`): what `harness images build` builds and what
Stack.up checks, from the configuration alone (no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from harness import _config as config
from harness import _images as images
from harness import cli

EVERY = ["base", "python", "redis", "chromadb", "litellm", "toxiproxy", "httpfaults", "netfault"]
EVERY += ["prometheus", "mocks", "blender"]
runner = CliRunner()
OWN_COMPOSE = """\
services:
  postgres:
    image: postgres:16
    healthcheck: {test: ["CMD", "pg_isready"]}
  api:
    build: .
    healthcheck: {test: ["CMD", "true"]}
"""


def project(tmp_path: Path, section: str) -> config.Project:
    """A project of this `[tool.mediastack-harness]` section (its compose file beside it)."""
    (tmp_path / "harness.compose.yaml").write_text(OWN_COMPOSE)
    (tmp_path / "rules.yml").write_text("groups: []\n")
    (tmp_path / "pyproject.toml").write_text(f"[tool.mediastack-harness]\n{section}")
    return config.load_from(tmp_path / "pyproject.toml")


def test_redis_and_cablecast_need_their_images_the_proxys_and_the_parents_only(
    tmp_path: Path,
) -> None:
    chosen = project(tmp_path, 'backends = ["redis", "cablecast"]\n')
    assert images.needed(chosen) == ["base", "python", "redis", "toxiproxy", "httpfaults", "mocks"]
    # what Stack.up checks: the images its containers run, not the parents
    assert images.stack_images(images.needed(chosen)) == [
        "redis:7.0.15-bookworm",
        "ghcr.io/shopify/toxiproxy:2.12.0",
        "mediastack-harness/httpfaults:local",
        "mediastack-harness/mocks:local",
    ]


def test_the_three_mocks_share_one_image(tmp_path: Path) -> None:
    chosen = project(tmp_path, 'backends = ["comfyui", "wan2gp", "cablecast"]\n')
    assert images.needed(chosen) == ["base", "python", "toxiproxy", "httpfaults", "mocks"]


def test_prometheus_only_when_chosen(tmp_path: Path) -> None:
    chosen = project(tmp_path, 'backends = ["redis", "prometheus"]\n')
    assert images.needed(chosen) == [
        "base",
        "python",
        "redis",
        "toxiproxy",
        "httpfaults",
        "prometheus",
    ]


def test_blender_when_the_project_configures_an_add_on(tmp_path: Path) -> None:
    section = 'backends = ["comfyui"]\n[tool.mediastack-harness.blender]\naddon = "my_addon"\n'
    chosen = project(tmp_path, section)
    assert images.needed(chosen) == [
        "base",
        "python",
        "toxiproxy",
        "httpfaults",
        "mocks",
        "blender",
    ]
    assert "mediastack-harness/blender:5.0.1" not in images.stack_images(images.needed(chosen))


def test_an_extra_backend_and_services_under_test_are_compose_s_to_build(tmp_path: Path) -> None:
    section = (
        'backends = ["redis"]\ncompose-files = ["harness.compose.yaml"]\n'
        "[tool.mediastack-harness.extra-backends.postgres]\nport = 5432\n"
        '[tool.mediastack-harness.services.api]\nneeds = ["redis", "postgres"]\n'
    )
    chosen = project(tmp_path, section)
    assert "postgres" in chosen.backends and "api" in chosen.services
    assert images.needed(chosen) == ["base", "python", "redis", "toxiproxy", "httpfaults"]


def test_every_built_in_by_default_and_some_when_named(tmp_path: Path) -> None:
    default = project(tmp_path, "seed = 1\n")  # no `backends`: every built-in but prometheus
    expected = [
        "base",
        "python",
        "redis",
        "chromadb",
        "litellm",
        "toxiproxy",
        "httpfaults",
        "mocks",
    ]
    assert images.needed(default) == expected
    assert images.needed(None) == expected  # no project: the packaged stack's defaults
    assert images.needed(default, ["redis"]) == [
        "base",
        "python",
        "redis",
        "toxiproxy",
        "httpfaults",
    ]


def test_netfault_is_never_a_projects_it_is_built_on_first_use(tmp_path: Path) -> None:
    section = 'backends = ["redis", "prometheus"]\n[tool.mediastack-harness.blender]\n'
    assert "netfault" not in images.needed(project(tmp_path, section))
    assert images.LAZY == ("netfault",)


def test_every_recipe_is_all_and_the_parents_come_first() -> None:
    assert list(images.recipes()) == EVERY
    for key, recipe in images.recipes().items():
        if recipe.parent is not None:
            assert EVERY.index(recipe.parent) < EVERY.index(key)


def test_an_image_override_still_maps_to_its_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_REDIS_IMAGE", "redis:7.2-bookworm")
    chosen = project(tmp_path, 'backends = ["redis"]\n')
    assert images.needed(chosen) == ["base", "python", "redis", "toxiproxy", "httpfaults"]
    assert images.stack_images(["redis"]) == ["redis:7.2-bookworm"]


def test_images_build_help_offers_all_and_named_images() -> None:
    shown = runner.invoke(cli.app, ["images", "build", "--help"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "--all" in shown.output and "Every image of the stack" in shown.output
    (usage,) = [line for line in shown.output.splitlines() if "Usage:" in line]
    assert "IMAGE" in usage  # `[IMAGE]...`; the typer floor (0.15.4) shows the metavar as it is
    build = typer.main.get_command(cli.app).commands["images"].commands["build"]
    (image,) = [param for param in build.params if param.name == "image"]
    assert image.nargs == -1 and not image.required  # any number of images, or none


def test_status_and_images_list_offer_all() -> None:
    for command in (["status", "--help"], ["images", "list", "--help"]):
        shown = runner.invoke(cli.app, command, terminal_width=200)
        assert shown.exit_code == 0 and "--all" in shown.output, shown.output
