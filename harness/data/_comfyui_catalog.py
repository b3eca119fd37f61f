"""The node classes of an `object_info` document that a generated graph can use, and how."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._errors import HarnessError
from ._comfyui_files import InputFile
from ._comfyui_nodes import RULES

WIDGET_KINDS = ("INT", "FLOAT", "STRING", "BOOLEAN")
COMBO = "COMBO"


class ObjectInfoError(HarnessError):
    """An object_info document the generator cannot build a graph from."""


@dataclass(frozen=True)
class InputSpec:
    """One input of a node class: a widget (INT, FLOAT, STRING, BOOLEAN, COMBO) or a link type."""

    name: str
    required: bool
    kind: str
    options: tuple[Any, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    listed: bool = False  # a classic combo (the option list is the type): validation checks it

    @property
    def widget(self) -> bool:
        """Whether the input takes a value (not a link) by default."""
        return self.kind in WIDGET_KINDS or self.kind == COMBO


@dataclass(frozen=True)
class NodeSpec:
    """A node class as object_info describes it."""

    class_type: str
    inputs: tuple[InputSpec, ...]
    outputs: tuple[str, ...]
    output_node: bool
    list_output: bool

    def input(self, name: str) -> InputSpec:
        """The input called `name`."""
        return next(i for i in self.inputs if i.name == name)


def _input(name: str, required: bool, conf: Any) -> InputSpec:
    if not isinstance(conf, list | tuple) or not conf:
        raise ObjectInfoError(f"object_info input {name!r} is not a [type, options] list")
    kind, extra = conf[0], conf[1] if len(conf) > 1 and isinstance(conf[1], dict) else {}
    if isinstance(kind, list):  # the classic combo: the option list is the type
        return InputSpec(name, required, COMBO, tuple(kind), extra, listed=True)
    if kind == COMBO:  # the v3 schema's combo: ["COMBO", {"options": [...]}]
        return InputSpec(name, required, COMBO, tuple(extra.get("options", ())), extra)
    return InputSpec(name, required, str(kind), (), extra)


def parse(object_info: Mapping[str, Any]) -> dict[str, NodeSpec]:
    """Every class of an object_info document, in sorted class_type order."""
    if not isinstance(object_info, Mapping) or not object_info:
        raise ObjectInfoError("object_info is empty: pass the JSON of a ComfyUI's GET /object_info")
    specs: dict[str, NodeSpec] = {}
    for class_type in sorted(object_info):
        entry = object_info[class_type]
        try:
            declared = entry["input"]
            inputs = [
                _input(name, category == "required", conf)
                for category in ("required", "optional")
                for name, conf in (declared.get(category) or {}).items()
            ]
            specs[class_type] = NodeSpec(
                class_type,
                tuple(inputs),
                tuple(str(t) for t in entry["output"]),
                bool(entry.get("output_node")),
                any(entry.get("output_is_list") or ()),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ObjectInfoError(
                f"object_info entry {class_type!r} lacks {exc}: pass a ComfyUI's GET /object_info"
            ) from None
    return specs


ANY = "*"  # an input that takes any type (PreviewAny's source)


class Catalog:
    """The usable classes: known behaviour (or `allow_unknown`), every required input fillable
    (a non-empty combo, a widget, a file of `files` for a loader, or a link type some usable
    class produces), no list outputs. Also, per class, the fewest nodes a graph needs to
    satisfy it (`cost`)."""

    def __init__(
        self,
        object_info: Mapping[str, Any],
        allow_unknown: bool = False,
        files: Mapping[str, InputFile] | None = None,
    ) -> None:
        self.specs = parse(object_info)
        self.files = dict(files or {})
        candidates = [
            s
            for s in self.specs.values()
            if (allow_unknown or s.class_type in RULES)
            and not s.list_output
            and all(self._fillable(s.class_type, i) for i in s.inputs if i.required)
        ]
        self.cost: dict[str, int] = {}
        type_cost: dict[str, int] = {}
        changed = True
        while changed:  # Bellman-Ford over types: a class costs 1 + its cheapest link inputs
            changed = False
            for spec in candidates:
                links = [i.kind for i in spec.inputs if i.required and not i.widget]
                if ANY in links and type_cost:
                    type_cost[ANY] = min(c for t, c in type_cost.items() if t != ANY)
                if any(t not in type_cost for t in links):
                    continue
                cost = 1 + sum(type_cost[t] for t in links)
                if cost < self.cost.get(spec.class_type, cost + 1):
                    self.cost[spec.class_type] = cost
                    changed = True
                    for out in spec.outputs:
                        if cost < type_cost.get(out, cost + 1):
                            type_cost[out] = cost
        self.usable = [s.class_type for s in candidates if s.class_type in self.cost]
        self.producers: dict[str, list[tuple[str, int]]] = {}
        for class_type in self.usable:
            for slot, out in enumerate(self.specs[class_type].outputs):
                self.producers.setdefault(out, []).append((class_type, slot))
        self.producers[ANY] = [p for kind in sorted(self.producers) for p in self.producers[kind]]
        # image savers first: hypothesis shrinks a choice towards the first option, and the
        # plainest graph saves an image (PreviewAny would take any producer at all)
        self.outputs = sorted(
            (c for c in self.usable if self.specs[c].output_node),
            key=lambda c: (c in RULES and RULES[c].saves is None, c),
        )
        if not self.outputs:
            raise ObjectInfoError(
                "object_info has no output node whose inputs can be filled "
                "(pass allow_unknown=True to use classes without a known behaviour)"
            )
        self.sampler_cost = self._cost_with_input("steps")

    def _fillable(self, class_type: str, spec: InputSpec) -> bool:
        rule = RULES.get(class_type)
        if rule is not None and rule.reads is not None and rule.reads[0] == spec.name:
            return bool(self.file_options(class_type))
        if spec.kind == COMBO:
            return bool(spec.options)  # an empty list: files or models the server does not have
        return True

    def file_options(self, class_type: str) -> list[str]:
        """The files of `files` a loader class can name: of its kind, and among its combo's
        options when the combo lists them (LoadImage); any when it does not (LoadImageOutput)."""
        rule = RULES.get(class_type)
        if rule is None or rule.reads is None:
            return []
        name, kind = rule.reads
        options = self.specs[class_type].input(name).options
        return [
            f
            for f, described in sorted(self.files.items())
            if isinstance(described, kind) and (not options or f in options)
        ]

    def _cost_with_input(self, input_name: str) -> dict[str, int]:
        """Per class, the fewest nodes that satisfy it with one taking `input_name` among them
        (the class itself, or one feeding it through links); classes that cannot are absent."""
        found = {
            c: self.cost[c]
            for c in self.usable
            if any(i.name == input_name for i in self.inputs(c))
        }
        changed = True
        while changed:
            changed = False
            for c in self.usable:
                links = self.link_types(c)
                base = 1 + sum(self.type_cost(t) for t in links)
                for t in links:
                    through = [found[p] for p, _ in self.producers[t] if p in found]
                    if through and base - self.type_cost(t) + min(through) < found.get(c, 1 << 30):
                        found[c] = base - self.type_cost(t) + min(through)
                        changed = True
        return found

    def inputs(self, class_type: str) -> tuple[InputSpec, ...]:
        """The inputs of a class."""
        return self.specs[class_type].inputs

    def link_types(self, class_type: str) -> list[str]:
        """The types of a class's required link inputs."""
        return [i.kind for i in self.inputs(class_type) if i.required and not i.widget]

    def type_cost(self, kind: str) -> int:
        """The fewest nodes that produce a value of `kind`."""
        return min(self.cost[c] for c, _ in self.producers[kind])
