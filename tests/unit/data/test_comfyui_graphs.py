"""Generated ComfyUI graphs checked in-process against object_info's rules (no server)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings

from harness.data import (
    PRESETS,
    ComfyGraph,
    InputImage,
    ObjectInfoError,
    catalog,
    comfyui_graph,
    invalid_comfyui_graph,
    mock_object_info,
)
from harness.data.strategies import comfyui_graphs

from .conftest import INPUT_FILES

INFO = mock_object_info()
BOUNDED = settings(max_examples=60, deadline=None, derandomize=True, database=None)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def check_valid(graph: ComfyGraph, info: dict[str, Any]) -> None:
    """Every rule a valid API-format graph obeys, read from object_info."""
    prompt = graph.prompt
    outputs = [n for n, node in prompt.items() if info[node["class_type"]]["output_node"]]
    assert outputs, "no output node"
    for node_id, node in prompt.items():
        spec = info[node["class_type"]]["input"]
        for name in spec["required"]:
            assert name in node["inputs"], (node_id, name)
        for name, value in node["inputs"].items():
            conf = {**spec.get("required", {}), **spec.get("optional", {})}[name]
            kind, extra = conf[0], conf[1] if len(conf) > 1 else {}
            if isinstance(value, list):
                src, slot = value
                assert kind == "*" or info[prompt[src]["class_type"]]["output"][slot] == kind, (
                    node_id,
                    name,
                )
            elif isinstance(kind, list):
                assert value in kind, (node_id, name, value)
            elif kind == "COMBO" and extra.get("options"):
                assert value in extra["options"], (node_id, name, value)
            elif kind in ("INT", "FLOAT"):
                assert isinstance(value, int if kind == "INT" else float)
                assert extra.get("min", value) <= value <= extra.get("max", value), (node_id, name)
    # acyclic, and every node upstream of an output
    reached: set[str] = set()
    stack = list(outputs)
    while stack:
        node_id = stack.pop()
        if node_id not in reached:
            reached.add(node_id)
            stack += [v[0] for v in prompt[node_id]["inputs"].values() if isinstance(v, list)]
    assert reached == set(prompt)
    depth: dict[str, int] = {}

    def level(node_id: str, path: tuple[str, ...]) -> int:
        assert node_id not in path, f"cycle through {node_id}"
        if node_id not in depth:
            links = [v[0] for v in prompt[node_id]["inputs"].values() if isinstance(v, list)]
            depth[node_id] = 1 + max((level(s, (*path, node_id)) for s in links), default=0)
        return depth[node_id]

    for out in outputs:
        level(out, ())


def widget(graph: ComfyGraph, node: dict[str, Any], name: str) -> Any:
    """A widget's value, through the primitive that feeds it when it is linked."""
    value = node["inputs"][name]
    if isinstance(value, list):
        return graph.prompt[value[0]]["inputs"]["value"]
    return value


@pytest.mark.parametrize("preset", list(PRESETS))
def test_graphs_are_valid_and_sized_by_preset(preset: str) -> None:
    chosen = PRESETS[preset]
    for seed in range(40):
        graph = comfyui_graph(INFO, preset, seed)
        check_valid(graph, INFO)
        assert chosen.nodes[0] <= len(graph) <= chosen.nodes[1] + 6  # the last producers
        samplers = [n for n in graph.prompt.values() if "steps" in n["inputs"]]
        assert len(samplers) >= chosen.samplers
        steps = [widget(graph, n, "steps") for n in samplers]
        assert all(chosen.steps[0] <= s <= chosen.steps[1] for s in steps)
        assert graph.steps == sum(steps)
        for out in graph.outputs:
            assert 1 <= out.batch <= chosen.batch
            assert max(out.width, out.height) <= chosen.size[1]
        checkpoints = INFO["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]
        for node in graph.prompt.values():
            if node["class_type"] == "CheckpointLoaderSimple":
                assert node["inputs"]["ckpt_name"] in checkpoints


@BOUNDED
@given(comfyui_graphs(INFO, preset="medium"))
def test_strategy_graphs_are_valid(graph: ComfyGraph) -> None:
    check_valid(graph, INFO)


def test_same_seed_same_graph_in_another_process() -> None:
    here = json.dumps([comfyui_graph(INFO, p, 11).prompt for p in PRESETS], sort_keys=True)
    code = (
        "import json; from harness.data import comfyui_graph, mock_object_info, PRESETS; "
        "print(json.dumps([comfyui_graph(mock_object_info(), p, 11).prompt for p in PRESETS],"
        " sort_keys=True))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": ROOT}
    there = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert there == here
    assert comfyui_graph(INFO, "medium", 12).prompt != comfyui_graph(INFO, "medium", 11).prompt


def test_every_class_of_the_mock_is_generated() -> None:
    # with files for its loaders, every class the mock serves appears in valid graphs
    info = mock_object_info(tuple(INPUT_FILES))
    nodes = catalog(info, files=INPUT_FILES)
    assert sorted(nodes.usable) == sorted(info)
    seen: set[str] = set()
    for seed in range(40):
        graph = comfyui_graph(nodes, "complex", seed)
        check_valid(graph, info)
        seen |= set(graph.class_types())
    assert seen == set(info), set(info) - seen
    without_files = catalog(info)
    assert set(info) - set(without_files.usable) == {
        "LoadImage",
        "LoadImageMask",
        "LoadImageOutput",
        "LoadLatent",
    }


def test_loaders_name_only_files_inside_the_preset() -> None:
    files = {"big.png": InputImage(2048, 64), "small.png": InputImage(64, 64)}
    info = mock_object_info(tuple(files))
    nodes = catalog(info, files=files)
    for seed in range(30):
        graph = comfyui_graph(nodes, "simple", seed)
        for node in graph.prompt.values():
            if node["class_type"].startswith("LoadImage"):
                assert node["inputs"]["image"] == "small.png"


def test_object_info_order_does_not_change_the_graph() -> None:
    reversed_info = dict(reversed(list(INFO.items())))
    assert (
        comfyui_graph(reversed_info, "medium", 3).prompt == comfyui_graph(INFO, "medium", 3).prompt
    )


def test_unfillable_and_unknown_classes_are_left_out() -> None:
    info = copy.deepcopy(INFO)
    # a class whose combo is empty (no model files), one needing a type nothing produces, one
    # whose behaviour the generator does not know; and no checkpoint at all
    info["UpscaleModelLoader"] = {
        **info["CheckpointLoaderSimple"],
        "input": {"required": {"model_name": [[]]}},
        "output": ["UPSCALE_MODEL"],
    }
    info["ImageUpscaleWithModel"] = {
        **info["ImageInvert"],
        "input": {"required": {"upscale_model": ["UPSCALE_MODEL"], "image": ["IMAGE"]}},
    }
    info["HarnessFilter"] = info["ImageInvert"]
    info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"] = [[]]
    nodes = catalog(info)
    assert not {"UpscaleModelLoader", "ImageUpscaleWithModel", "HarnessFilter"} & set(nodes.usable)
    assert "KSampler" not in nodes.usable  # its MODEL comes only from a checkpoint
    for seed in range(20):
        graph = comfyui_graph(nodes, "medium", seed)
        check_valid(graph, info)
        assert not {"KSampler", "HarnessFilter"} & set(graph.class_types())
    assert "HarnessFilter" in catalog(info, allow_unknown=True).usable


def test_bad_input_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown preset 'huge': use one of simple"):
        comfyui_graph(INFO, "huge")
    with pytest.raises(ValueError, match="unknown rule 'typo'"):
        invalid_comfyui_graph(INFO, "typo")
    with pytest.raises(ObjectInfoError, match="no output node"):
        catalog({"ImageInvert": INFO["ImageInvert"]})
    with pytest.raises(ObjectInfoError, match="object_info is empty"):
        catalog({})


def shrunk(case: str) -> dict[str, Any]:
    """The minimal graph of a failing property, shrunk in a process of its own (see _shrink)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.unit.data._shrink", case],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_shrinking_reaches_a_small_graph() -> None:
    # a deliberately failing property: "no graph makes an image 300 px wide or wider"
    minimal = shrunk("wide")
    assert minimal["nodes"] <= 3, minimal["prompt"]
    assert min(w for w in minimal["widths"] if w >= 300) <= 304, minimal["widths"]


def test_shrinking_keeps_the_preset() -> None:
    chosen = PRESETS["medium"]
    minimal = shrunk("medium")
    typical = minimal["typical_medium_nodes"]
    assert minimal["nodes"] <= chosen.nodes[0] + 2 < sum(typical) / len(typical)
    assert minimal["steps"] <= chosen.steps[0] * chosen.samplers + 2


def test_a_wrong_link_type_is_wrong_for_the_input_it_feeds() -> None:
    # PreviewAny's source is "*": relinking it to another type would still validate
    for seed in range(60):
        bad = invalid_comfyui_graph(INFO, "wrong_link_type", "simple", seed)
        assert bad.node_id is not None
        node = bad.prompt[bad.node_id]
        declared = {**INFO[node["class_type"]]["input"]["required"]}
        mismatched = [
            name
            for name, value in node["inputs"].items()
            if isinstance(value, list)
            and declared.get(name, ["*"])[0] != "*"
            and INFO[bad.prompt[value[0]]["class_type"]]["output"][value[1]] != declared[name][0]
        ]
        assert len(mismatched) == 1, (seed, node)
