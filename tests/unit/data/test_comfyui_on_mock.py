"""Generated graphs against the ComfyUI mock (Comfy-Org/ComfyUI v0.3.77), through httpx and
websocket-client: valid ones run to execution_success with the images they declare, invalid
ones get exactly the error their broken rule calls for."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from harness.data import (
    ComfyGraph,
    InvalidGraph,
    catalog,
    comfyui_graph,
    fetch_object_info,
    mock_object_info,
)
from harness.data.strategies import comfyui_graphs, invalid_comfyui_graphs

from .conftest import INPUT_FILES, ComfyClient, Run, latent_shape, png_size

# every namespace of the mock starts with input/example.png; the client uploads INPUT_FILES
INFO = mock_object_info(("example.png", *INPUT_FILES))
NODES = catalog(INFO, files=INPUT_FILES)


def bounded(examples: int) -> settings:
    """Few examples, no deadline, the same examples on every run (no database)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def assert_runs_as_declared(comfy: ComfyClient, graph: ComfyGraph) -> None:
    with comfy.run(graph.prompt) as run:
        assert_run_matches(comfy, run, graph)


def assert_run_matches(comfy: ComfyClient, run: Run, graph: ComfyGraph) -> None:
    assert run.status == 200, run.body
    assert run.body["node_errors"] == {}
    assert "execution_success" in run.types() and "execution_error" not in run.types()
    saved = {o.node_id: o for o in graph.outputs if o.folder != "websocket"}
    shown = set(saved) | {o.node_id for o in graph.latents} | {o.node_id for o in graph.texts}
    assert set(run.history["outputs"]) == shown
    for node_id, declared in saved.items():
        images = run.history["outputs"][node_id]["images"]
        assert len(images) == declared.files
        for entry in images:
            assert entry["type"] == declared.folder
            size = png_size(comfy.view(run, entry))
            assert size == (declared.width, declared.height), (node_id, graph.prompt)
    for latent in graph.latents:
        (entry,) = run.history["outputs"][latent.node_id]["latents"]
        assert latent_shape(comfy.view(run, entry)) == latent.shape, (latent, graph.prompt)
    for text in graph.texts:
        (shown_text,) = run.history["outputs"][text.node_id]["text"]
        if text.text is not None:
            assert shown_text == text.text, (text, graph.prompt)
    for declared in (o for o in graph.outputs if o.folder == "websocket"):
        frames = run.frames.get(declared.node_id, [])
        assert len(frames) == declared.batch
        # binary event 1 (PREVIEW_IMAGE), format 2 (PNG), then the PNG
        assert all(f[:8] == b"\0\0\0\1\0\0\0\2" for f in frames)
        assert {png_size(f[8:]) for f in frames} == {(declared.width, declared.height)}


@bounded(12)
@given(comfyui_graphs(NODES, preset="simple"))
def test_simple_graphs_run_as_declared(comfy: ComfyClient, graph: ComfyGraph) -> None:
    assert_runs_as_declared(comfy, graph)


@bounded(10)
@given(comfyui_graphs(NODES, preset="medium"))
def test_medium_graphs_run_as_declared(comfy: ComfyClient, graph: ComfyGraph) -> None:
    assert_runs_as_declared(comfy, graph)


@bounded(5)
@given(comfyui_graphs(NODES, preset="complex"))
def test_complex_graphs_run_as_declared(comfy: ComfyClient, graph: ComfyGraph) -> None:
    assert_runs_as_declared(comfy, graph)


@bounded(40)
@given(invalid_comfyui_graphs(NODES))
def test_invalid_graphs_get_their_error(comfy: ComfyClient, bad: InvalidGraph) -> None:
    with comfy.run(bad.prompt) as run:
        pass
    assert run.status == 400, (bad.rule, run.body)
    assert run.body["error"]["type"] == bad.error_type, bad.rule
    if bad.node_error_type is None:
        assert run.body["node_errors"] == {}
    else:
        assert list(run.body["node_errors"]) == [bad.node_id]
        errors = run.body["node_errors"][bad.node_id]["errors"]
        assert [e["type"] for e in errors] == [bad.node_error_type]
    if bad.error_type == "invalid_prompt":
        assert run.body["error"]["details"] == f"Node ID '#{bad.node_id}'"


def test_mock_object_info_is_what_the_mock_serves(comfyui_base: str) -> None:
    # every namespace of the mock starts with input/example.png, which LoadImage lists
    assert fetch_object_info(comfyui_base) == mock_object_info(("example.png",))


@pytest.mark.parametrize("preset", ["simple", "medium", "complex"])
def test_seeded_graphs_run_as_declared(comfy: ComfyClient, preset: str) -> None:
    for seed in range(4):
        assert_runs_as_declared(comfy, comfyui_graph(NODES, preset, seed))


def test_every_class_of_the_mock_runs_in_generated_graphs(comfy: ComfyClient) -> None:
    # medium and complex graphs in seed order; each one that brings a class not yet run is run
    ran: set[str] = set()
    for seed in range(200):
        for preset in ("medium", "complex"):
            graph = comfyui_graph(NODES, preset, seed)
            if set(graph.class_types()) - ran:
                assert_runs_as_declared(comfy, graph)
                ran |= set(graph.class_types())
        if ran == set(INFO):
            break
    assert ran == set(INFO), set(INFO) - ran
