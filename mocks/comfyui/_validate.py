"""Prompt validation with ComfyUI's error types, messages and node_errors shape."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _nodes
from ._node_catalog import NODES

Error = dict[str, Any]
BAD_LINK_MESSAGE = "Bad linked input, must be a length-2 list of [node_id, slot_index]"


def simple_error(
    kind: str, message: str, details: str = "", extra: dict[str, Any] | None = None
) -> Error:
    """An `error` object as in POST /prompt 400 responses."""
    return {"type": kind, "message": message, "details": details, "extra_info": extra or {}}


NO_PROMPT = simple_error("no_prompt", "No prompt provided", "No prompt provided")


@dataclass
class Validation:
    """Result of validate_prompt: (ok, error, good outputs, node_errors) like ComfyUI."""

    ok: bool
    error: Error | None
    outputs: list[str]
    node_errors: dict[str, Any] = field(default_factory=dict)


def _exception_error(kind: str, message: str, ex: Exception, extra: dict[str, Any]) -> Error:
    return {
        "type": kind,
        "message": message,
        "details": str(ex),
        "extra_info": {
            **extra,
            "exception_type": type(ex).__qualname__,
            "traceback": traceback.format_tb(ex.__traceback__),
        },
    }


class _Validator:
    def __init__(self, prompt: dict[str, Any], root: Path) -> None:
        self.prompt = prompt
        self.root = root
        self.validated: dict[str, tuple[bool, list[Error], str]] = {}

    def node(self, unique_id: str, visiting: list[str]) -> tuple[bool, list[Error], str]:
        if unique_id in self.validated:
            return self.validated[unique_id]
        if unique_id in visiting:
            # A real v0.3.77 server reports a cycle as an output that failed validation with
            # no reasons, so no node_errors (checked against a running v0.3.77).
            for n in visiting[visiting.index(unique_id) :]:
                self.validated[n] = (False, [], n)
            return self.validated[unique_id]

        node = self.prompt[unique_id]
        inputs = node.get("inputs", {})
        class_type = node["class_type"]
        errors: list[Error] = []
        valid = True
        node_class = NODES[class_type]
        custom_validated = set(node_class.validated_inputs)

        for name, category, input_type, extra in _nodes.input_specs(class_type):
            if name not in inputs:
                if category == "required":
                    errors.append(
                        {
                            "type": "required_input_missing",
                            "message": "Required input is missing",
                            "details": name,
                            "extra_info": {"input_name": name},
                        }
                    )
                continue
            val = inputs[name]
            info = [input_type, extra]
            if isinstance(val, list):
                if len(val) != 2:
                    errors.append(
                        {
                            "type": "bad_linked_input",
                            "message": BAD_LINK_MESSAGE,
                            "details": name,
                            "extra_info": {
                                "input_name": name,
                                "input_config": info,
                                "received_value": val,
                            },
                        }
                    )
                    continue
                o_id = val[0]
                # Unknown node ids and bad slots raise in ComfyUI; the caller reports them.
                o_class = self.prompt[o_id]["class_type"]
                received = _nodes.return_types(o_class)[val[1]]
                if received != input_type and "*" not in (received, input_type):
                    errors.append(
                        {
                            "type": "return_type_mismatch",
                            "message": "Return type mismatch between linked nodes",
                            "details": f"{name}, received_type({received}) mismatch "
                            f"input_type({input_type})",
                            "extra_info": {
                                "input_name": name,
                                "input_config": info,
                                "received_type": received,
                                "linked_node": val,
                            },
                        }
                    )
                    continue
                visiting.append(unique_id)
                try:
                    result = self.node(o_id, visiting)
                except Exception as ex:
                    reason = _exception_error(
                        "exception_during_inner_validation",
                        "Exception when validating inner node",
                        ex,
                        {"input_name": name, "input_config": info, "linked_node": val},
                    )
                    reason["extra_info"]["exception_message"] = str(ex)
                    self.validated[o_id] = (False, [reason], o_id)
                    valid = False
                    continue
                finally:
                    visiting.pop()
                if result[0] is False:
                    valid = False
                continue

            if isinstance(val, dict) and "__value__" in val:
                val = val["__value__"]
                inputs[name] = val
            try:
                if input_type == "INT":
                    val = int(val)
                elif input_type == "FLOAT":
                    val = float(val)
                elif input_type == "STRING":
                    val = str(val)
                elif input_type == "BOOLEAN":
                    val = bool(val)
                inputs[name] = val
            except Exception as ex:
                errors.append(
                    {
                        "type": "invalid_input_type",
                        "message": f"Failed to convert an input value to a {input_type} value",
                        "details": f"{name}, {val}, {ex}",
                        "extra_info": {
                            "input_name": name,
                            "input_config": info,
                            "received_value": val,
                            "exception_message": str(ex),
                        },
                    }
                )
                continue
            if name in custom_validated:
                continue
            if "min" in extra and val < extra["min"]:
                errors.append(
                    _range_error(
                        "value_smaller_than_min", "smaller than min", name, val, extra["min"], info
                    )
                )
                continue
            if "max" in extra and val > extra["max"]:
                errors.append(
                    _range_error(
                        "value_bigger_than_max", "bigger than max", name, val, extra["max"], info
                    )
                )
                continue
            if isinstance(input_type, list) and val not in input_type:
                too_long = len(input_type) > 20
                list_info = f"(list of length {len(input_type)})" if too_long else str(input_type)
                errors.append(
                    {
                        "type": "value_not_in_list",
                        "message": "Value not in list",
                        "details": f"{name}: {val!r} not in {list_info}",
                        "extra_info": {
                            "input_name": name,
                            "input_config": None if too_long else info,
                            "received_value": val,
                        },
                    }
                )
                continue

        literal = {k: v for k, v in inputs.items() if k in custom_validated}
        if custom_validated and not any(isinstance(v, list) for v in literal.values()):
            for checked, why in node_class.validate(self.root, literal).items():
                errors.append(
                    {
                        "type": "custom_validation_failed",
                        "message": "Custom validation failed for node",
                        "details": f"{checked} - {why}",
                        "extra_info": {"input_name": checked},
                    }
                )

        previous = self.validated.get(unique_id, (True, [], unique_id))
        result = (
            previous[0] and valid and not errors,
            previous[1] + [e for e in errors if e not in previous[1]],
            unique_id,
        )
        self.validated[unique_id] = result
        return result


def _range_error(kind: str, words: str, name: str, val: Any, bound: Any, info: Any) -> Error:
    return {
        "type": kind,
        "message": f"Value {val} {words} of {bound}",
        "details": name,
        "extra_info": {"input_name": name, "input_config": info, "received_value": val},
    }


def validate_prompt(prompt: Any, root: Path, partial_targets: Any = None) -> Validation:
    """Validate an API-format graph the way ComfyUI's execution.validate_prompt does.

    The first pass is the release's own Python on the posted JSON (execution.py
    validate_prompt, Comfy-Org/ComfyUI v0.3.77): `for x in prompt`, `'class_type' not in
    prompt[x]` (a substring test on a string node, membership on a list), then
    `prompt[x]['class_type']`. What raises there (a number or null node, a string node that
    contains "class_type", a list class_type) raises here too, and post_prompt answers it
    as the release's aiohttp does: a 500."""
    known = _nodes.object_info()
    outputs: list[str] = []
    for node_id in prompt:
        node = prompt[node_id]
        # both are invalid_prompt with an empty extra_info and no node_errors
        if "class_type" not in node:
            return Validation(
                False,
                simple_error(
                    "invalid_prompt",
                    "Cannot execute because a node is missing the class_type property.",
                    f"Node ID '#{node_id}'",
                ),
                [],
            )
        class_type = node["class_type"]
        if class_type not in known:
            return Validation(
                False,
                simple_error(
                    "invalid_prompt",
                    f"Cannot execute because node {class_type} does not exist.",
                    f"Node ID '#{node_id}'",
                ),
                [],
            )
        if _nodes.is_output_node(class_type) and (
            partial_targets is None or node_id in partial_targets
        ):
            outputs.append(node_id)

    if not outputs:
        return Validation(False, simple_error("prompt_no_outputs", "Prompt has no outputs"), [])

    validator = _Validator(prompt, root)
    good: list[str] = []
    failures: list[tuple[str, list[Error]]] = []
    node_errors: dict[str, Any] = {}
    for out in outputs:
        try:
            ok, reasons, _ = validator.node(out, [])
        except Exception as ex:
            ok = False
            reasons = [
                _exception_error(
                    "exception_during_validation", "Exception when validating node", ex, {}
                )
            ]
            validator.validated[out] = (False, reasons, out)
        if ok:
            good.append(out)
            continue
        failures.append((out, reasons))
        for node_id, (node_ok, node_reasons, _) in validator.validated.items():
            if node_ok is not True and node_reasons:
                entry = node_errors.setdefault(
                    node_id,
                    {
                        "errors": node_reasons,
                        "dependent_outputs": [],
                        "class_type": prompt[node_id]["class_type"],
                    },
                )
                entry["dependent_outputs"].append(out)

    if not good:
        details = "\n".join(f"{e['message']}: {e['details']}" for _, errs in failures for e in errs)
        error = simple_error(
            "prompt_outputs_failed_validation", "Prompt outputs failed validation", details
        )
        return Validation(False, error, [], node_errors)
    return Validation(True, None, good, node_errors)
