"""Break exactly one rule of a valid graph, and name the error ComfyUI answers with.

Error types are those of Comfy-Org/ComfyUI v0.3.77 execution.py (validate_prompt,
validate_inputs), which the mock follows: POST /prompt answers 400 with `error.type` and, for
a node's own fault, `node_errors[id].errors[0].type`. A broken node is kept upstream of every
output (the other outputs are dropped): an output that still validates would make ComfyUI
accept the prompt and run the rest.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

from ._comfyui_catalog import COMBO, Catalog, InputSpec
from ._comfyui_nodes import RULES

Prompt = dict[str, dict[str, Any]]
# (top-level error.type, node id or None, node_errors type or None)
Outcome = tuple[str, str | None, str | None]
FAILED = "prompt_outputs_failed_validation"
NOT_AN_OPTION = "harness-not-an-option"
UNKNOWN_CLASS = "HarnessUnknownNode"


class NoSite(Exception):
    """The graph has no place where this rule can be broken alone."""


def links(prompt: Prompt, node_id: str) -> list[tuple[str, str, int]]:
    """(input, source id, slot) of a node's well-formed links to nodes of the prompt."""
    out = []
    for name, value in prompt[node_id].get("inputs", {}).items():
        if isinstance(value, list) and len(value) == 2 and value[0] in prompt:
            out.append((name, value[0], value[1]))
    return out


def upstream(prompt: Prompt, node_id: str) -> set[str]:
    """`node_id` and every node it reaches through links (cycles included)."""
    seen, stack = {node_id}, [node_id]
    while stack:
        for _, src, _ in links(prompt, stack.pop()):
            if src not in seen:
                seen.add(src)
                stack.append(src)
    return seen


def _outputs(prompt: Prompt, catalog: Catalog) -> list[str]:
    return [
        n
        for n, node in prompt.items()
        if node.get("class_type") in catalog.specs and catalog.specs[node["class_type"]].output_node
    ]


def _only_through(prompt: Prompt, catalog: Catalog, broken: str) -> Prompt:
    """Keep the outputs that depend on `broken`, and the nodes they reach."""
    kept = [o for o in _outputs(prompt, catalog) if broken in upstream(prompt, o)]
    needed = set().union(*(upstream(prompt, o) for o in kept))
    return {n: node for n, node in prompt.items() if n in needed}


def _widgets(
    prompt: Prompt, catalog: Catalog, test: Callable[[InputSpec], bool]
) -> list[tuple[str, str]]:
    sites = []
    for node_id, node in prompt.items():
        spec = catalog.specs[node["class_type"]]
        rule = RULES.get(node["class_type"])
        for inp in spec.inputs:
            if rule is not None and rule.reads is not None and rule.reads[0] == inp.name:
                continue  # a loader's file: the class's own VALIDATE_INPUTS checks it instead
            value = node["inputs"].get(inp.name)
            if value is not None and not isinstance(value, list) and test(inp):
                sites.append((node_id, inp.name))
    return sites


def _pick(rng: random.Random, sites: list[Any]) -> Any:
    if not sites:
        raise NoSite
    return rng.choice(sites)


def _missing_input(prompt: Prompt, catalog: Catalog, rng: random.Random) -> Outcome:
    sites = [
        (n, i.name)
        for n, node in prompt.items()
        for i in catalog.specs[node["class_type"]].inputs
        if i.required and i.name in node["inputs"]
    ]
    node_id, name = _pick(rng, sites)
    del prompt[node_id]["inputs"][name]
    return FAILED, node_id, "required_input_missing"


def _bound(key: str, delta: int, error: str) -> Callable[[Prompt, Catalog, random.Random], Outcome]:
    def breaks(prompt: Prompt, catalog: Catalog, rng: random.Random) -> Outcome:
        sites = _widgets(prompt, catalog, lambda i: i.kind in ("INT", "FLOAT") and key in i.extra)
        node_id, name = _pick(rng, sites)
        spec = catalog.specs[prompt[node_id]["class_type"]].input(name)
        prompt[node_id]["inputs"][name] = spec.extra[key] + (
            delta if spec.kind == "INT" else delta * 1.0
        )
        return FAILED, node_id, error

    return breaks


def _not_in_list(prompt: Prompt, catalog: Catalog, rng: random.Random) -> Outcome:
    # only classic combos are checked against their list (a v3 COMBO's value reaches the node)
    sites = _widgets(prompt, catalog, lambda i: i.kind == COMBO and i.listed)
    node_id, name = _pick(rng, sites)
    prompt[node_id]["inputs"][name] = NOT_AN_OPTION
    return FAILED, node_id, "value_not_in_list"


def _wrong_value_type(prompt: Prompt, catalog: Catalog, rng: random.Random) -> Outcome:
    node_id, name = _pick(rng, _widgets(prompt, catalog, lambda i: i.kind in ("INT", "FLOAT")))
    prompt[node_id]["inputs"][name] = "not a number"
    return FAILED, node_id, "invalid_input_type"


def _link_sites(prompt: Prompt) -> list[tuple[str, str, str, int]]:
    return [(n, name, src, slot) for n in prompt for name, src, slot in links(prompt, n)]


def _output_type(prompt: Prompt, catalog: Catalog, node_id: str, slot: int) -> str:
    return catalog.specs[prompt[node_id]["class_type"]].outputs[slot]


def _wrong_link_type(prompt: Prompt, catalog: Catalog, rng: random.Random) -> Outcome:
    sites = []
    for node_id, name, _, _ in _link_sites(prompt):
        wanted = catalog.specs[prompt[node_id]["class_type"]].input(name).kind
        for other in prompt:
            if node_id in upstream(prompt, other):
                continue  # linking from downstream would also make a cycle
            for s, kind in enumerate(catalog.specs[prompt[other]["class_type"]].outputs):
                if "*" not in (kind, wanted) and kind != wanted:  # "*" takes any type
                    sites.append((node_id, name, other, s))
    node_id, name, other, s = _pick(rng, sites)
    prompt[node_id]["inputs"][name] = [other, s]
    return FAILED, node_id, "return_type_mismatch"


def _raising_link(kind: str) -> Callable[[Prompt, Catalog, random.Random], Outcome]:
    """A link ComfyUI cannot resolve: a slot past the source's outputs, or an unknown node id;
    validate_inputs raises, caught at the output (exception_during_validation) or at the
    consumer of the broken node (exception_during_inner_validation)."""

    def breaks(prompt: Prompt, catalog: Catalog, rng: random.Random) -> Outcome:
        node_id, name, src, _ = _pick(rng, _link_sites(prompt))
        if kind == "slot":
            slots = len(catalog.specs[prompt[src]["class_type"]].outputs)
            prompt[node_id]["inputs"][name] = [src, slots]
        else:
            prompt[node_id]["inputs"][name] = [str(1000 + max(int(n) for n in prompt)), 0]
        is_output = catalog.specs[prompt[node_id]["class_type"]].output_node
        caught = "exception_during_validation" if is_output else "exception_during_inner_validation"
        return FAILED, node_id, caught

    return breaks


def _malformed_link(prompt: Prompt, catalog: Catalog, rng: random.Random) -> Outcome:
    node_id, name, src, _ = _pick(rng, _link_sites(prompt))
    prompt[node_id]["inputs"][name] = [src]
    return FAILED, node_id, "bad_linked_input"


def _cycle(prompt: Prompt, catalog: Catalog, rng: random.Random) -> Outcome:
    sites = []
    for node_id, name, src, slot in _link_sites(prompt):
        wanted = _output_type(prompt, catalog, src, slot)
        for later in prompt:
            if node_id not in upstream(prompt, later):
                continue
            for s, kind in enumerate(catalog.specs[prompt[later]["class_type"]].outputs):
                if kind == wanted:
                    sites.append((node_id, name, later, s))
    node_id, name, later, s = _pick(rng, sites)
    prompt[node_id]["inputs"][name] = [later, s]
    # v0.3.77 fails the output with no reasons: no node_errors, empty details
    return FAILED, node_id, None


def _unknown_class(prompt: Prompt, catalog: Catalog, rng: random.Random) -> Outcome:
    node_id = _pick(rng, list(prompt))
    prompt[node_id]["class_type"] = UNKNOWN_CLASS
    return "invalid_prompt", node_id, None


def _missing_class(prompt: Prompt, catalog: Catalog, rng: random.Random) -> Outcome:
    node_id = _pick(rng, list(prompt))
    del prompt[node_id]["class_type"]
    return "invalid_prompt", node_id, None


def _no_output(prompt: Prompt, catalog: Catalog, rng: random.Random) -> Outcome:
    for node_id in _outputs(prompt, catalog):
        del prompt[node_id]
    return "prompt_no_outputs", None, None


BREAKERS: dict[str, Callable[[Prompt, Catalog, random.Random], Outcome]] = {
    "missing_input": _missing_input,
    "below_min": _bound("min", -1, "value_smaller_than_min"),
    "above_max": _bound("max", 1, "value_bigger_than_max"),
    "not_in_list": _not_in_list,
    "wrong_value_type": _wrong_value_type,
    "wrong_link_type": _wrong_link_type,
    "bad_link_slot": _raising_link("slot"),
    "dangling_link": _raising_link("node"),
    "malformed_link": _malformed_link,
    "cycle": _cycle,
    "unknown_class_type": _unknown_class,
    "missing_class_type": _missing_class,
    "no_output": _no_output,
}
# rules whose error is the whole prompt's, not one node's: the graph is kept whole
WHOLE_PROMPT = ("unknown_class_type", "missing_class_type", "no_output")


def break_rule(
    prompt: Prompt, catalog: Catalog, rule: str, rng: random.Random
) -> tuple[Prompt, Outcome]:
    """A copy of `prompt` with `rule` broken once, and the error ComfyUI answers with."""
    broken = copy.deepcopy(prompt)
    outcome = BREAKERS[rule](broken, catalog, rng)
    if rule not in WHOLE_PROMPT and outcome[1] is not None:
        broken = _only_through(broken, catalog, outcome[1])
    return broken, outcome
