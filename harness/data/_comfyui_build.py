"""Valid API-format graphs: structure grown backwards from output nodes, values filled forwards.

Structure: start at an output node; each link input is a demand for its type, met by an
existing node's output (never one downstream, so no cycle) or by a new producer, until the
drawn node count is reached (then only reuse, or the cheapest producer). Every node is thus
upstream of an output. Values: in topological order, each widget gets a value inside its
object_info range, narrowed by the preset and by what the node's links carry (see
`_comfyui_nodes`); the shapes this gives are the graph's declared outputs.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from . import _words
from ._comfyui_catalog import COMBO, Catalog, InputSpec
from ._comfyui_nodes import RULES, Limits, Pixels, fits, name_bounds
from ._rng import words

TAME_SPAN = 1000  # numbers with an unbounded or astronomic range stay near their default
FULL_RANGE = 1 << 32
REUSE = 0.4  # chance a demand reuses an existing output when it may
STRING_LINK = 0.15  # chance a STRING widget is fed by a STRING producer instead


@dataclass
class Node:
    """A node under construction: its class and its links (input -> (node id, slot))."""

    id: str
    class_type: str
    links: dict[str, tuple[str, int]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Built:
    """A built graph: the prompt, its image outputs (node id -> shape, folder), total steps."""

    prompt: dict[str, dict[str, Any]]
    images: dict[str, tuple[Pixels, str]]
    steps: int


class Builder:
    """Builds one graph from `catalog` with `rng`, inside `limits`."""

    def __init__(self, rng: random.Random, catalog: Catalog, limits: Limits, samplers: int) -> None:
        self.rng = rng
        self.catalog = catalog
        self.limits = limits
        self.samplers_needed = samplers if catalog.sampler_cost else 0
        self.nodes: dict[str, Node] = {}
        self.demands: deque[tuple[str, str, str]] = deque()
        self.target = 0

    # -- structure ----------------------------------------------------------------------

    def grow(self, target: int) -> None:
        """Add output nodes and their producers until there are at least `target` nodes."""
        self.target = target
        while True:
            self._add(self._pick(self.catalog.outputs, self.samplers_needed > 0))
            while self.demands:
                self._meet(*self.demands.popleft())
            if len(self.nodes) >= target:
                return

    def _pick(self, classes: list[str], want_sampler: bool) -> str:
        """A class from `classes`: on the way to a sampler if wanted, cheap once over budget."""
        cost = self.catalog.cost
        if want_sampler:
            towards = [c for c in classes if c in self.catalog.sampler_cost]
            if towards:
                classes, cost = towards, self.catalog.sampler_cost
        left = self.target - len(self.nodes)
        affordable = [c for c in classes if cost[c] <= left]
        if affordable:
            return self.rng.choice(affordable)
        cheapest = min(cost[c] for c in classes)
        return self.rng.choice([c for c in classes if cost[c] == cheapest])

    def _add(self, class_type: str) -> str:
        node = Node(str(len(self.nodes) + 1), class_type)
        self.nodes[node.id] = node
        if any(i.name == "steps" for i in self.catalog.inputs(class_type)):
            self.samplers_needed -= 1
        for spec in self.catalog.inputs(class_type):
            if spec.required and not spec.widget:
                self.demands.append((node.id, spec.name, spec.kind))
            elif (
                spec.required
                and spec.kind == "STRING"
                and "STRING" in self.catalog.producers
                and "STRING" not in self.catalog.specs[class_type].outputs  # no string chains
                and len(self.nodes) < self.target
                and self.rng.random() < STRING_LINK
            ):
                self.demands.append((node.id, spec.name, "STRING"))
        return node.id

    def _meet(self, consumer: str, name: str, kind: str) -> None:
        producers = [c for c, _ in self.catalog.producers[kind]]
        want_sampler = self.samplers_needed > 0 and any(
            c in self.catalog.sampler_cost for c in producers
        )
        reusable = [
            (n.id, slot)
            for n in self.nodes.values()
            for slot, out in enumerate(self.catalog.specs[n.class_type].outputs)
            if out == kind and consumer not in self.upstream(n.id)
        ]
        over_budget = len(self.nodes) >= self.target
        if reusable and not want_sampler and (over_budget or self.rng.random() < REUSE):
            self.nodes[consumer].links[name] = self.rng.choice(reusable)
            return
        class_type = self._pick(sorted(set(producers)), want_sampler)
        slots = [s for c, s in self.catalog.producers[kind] if c == class_type]
        produced = self._add(class_type)
        self.nodes[consumer].links[name] = (produced, self.rng.choice(slots))

    def upstream(self, node_id: str) -> set[str]:
        """`node_id` and every node it depends on through links."""
        seen = {node_id}
        stack = [node_id]
        while stack:
            for src, _ in self.nodes[stack.pop()].links.values():
                if src not in seen:
                    seen.add(src)
                    stack.append(src)
        return seen

    # -- values -------------------------------------------------------------------------

    def fill(self) -> Built:
        """Give every widget a value, producers first; return the prompt and its outputs."""
        values: dict[tuple[str, int], Any] = {}
        images: dict[str, tuple[Pixels, str]] = {}
        for node in self._topological():
            spec = self.catalog.specs[node.class_type]
            rule = RULES.get(node.class_type)
            linked = {name: values[src] for name, src in node.links.items()}
            narrowed = rule.bounds(linked, self.limits) if rule else {}
            for inp in spec.inputs:
                if inp.name in node.links or not inp.widget:
                    continue
                if not inp.required and self.rng.random() < 0.5:
                    continue
                node.values[inp.name] = self._value(inp, narrowed.get(inp.name))
            resolved = {**linked, **node.values}
            if rule is None:
                outs: tuple[Any, ...] = (None,) * len(spec.outputs)
            else:
                outs = rule.outputs(resolved)
                if rule.saves and isinstance(resolved.get("images"), Pixels):
                    images[node.id] = (resolved["images"], rule.saves)
            for slot, out in enumerate(outs):
                if not fits(out, self.limits):
                    raise AssertionError(f"{node.class_type} #{node.id} made {out} from {resolved}")
                values[(node.id, slot)] = out
        self._drop_repeated_outputs()
        images = {n: image for n, image in images.items() if n in self.nodes}
        steps = sum(int(n.values.get("steps", 0)) for n in self.nodes.values())
        prompt = {
            n.id: {
                "class_type": n.class_type,
                "inputs": {
                    **n.values,
                    **{name: [src, slot] for name, (src, slot) in n.links.items()},
                },
            }
            for n in self.nodes.values()
        }
        return Built(prompt, images, steps)

    def _drop_repeated_outputs(self) -> None:
        """Remove an output node identical to an earlier one (same class, values and upstream):
        ComfyUI would serve it from its cache and it would produce nothing of its own."""
        signatures: dict[str, str] = {}
        for node in self._topological():
            linked = sorted((k, signatures[src], slot) for k, (src, slot) in node.links.items())
            values = sorted((k, repr(v)) for k, v in node.values.items())
            text = repr((node.class_type, values, linked))
            signatures[node.id] = hashlib.sha256(text.encode()).hexdigest()
        seen: set[str] = set()
        outputs = []
        for node in self.nodes.values():
            if self.catalog.specs[node.class_type].output_node:
                if signatures[node.id] not in seen:
                    outputs.append(node.id)
                seen.add(signatures[node.id])
        needed = set().union(*(self.upstream(o) for o in outputs))
        self.nodes = {k: n for k, n in self.nodes.items() if k in needed}

    def _topological(self) -> list[Node]:
        consumers: dict[str, list[str]] = {n: [] for n in self.nodes}
        waiting = {n.id: len({src for src, _ in n.links.values()}) for n in self.nodes.values()}
        for n in self.nodes.values():
            for src in sorted({src for src, _ in n.links.values()}, key=int):
                consumers[src].append(n.id)
        ready = deque(n for n, count in waiting.items() if count == 0)
        order: list[Node] = []
        while ready:
            current = ready.popleft()
            order.append(self.nodes[current])
            for consumer in consumers[current]:
                waiting[consumer] -= 1
                if waiting[consumer] == 0:
                    ready.append(consumer)
        return order

    def _value(self, spec: InputSpec, narrowed: Any) -> Any:
        rng = self.rng
        if spec.kind == COMBO:
            options = [o for o in spec.options if narrowed is None or o in narrowed]
            return rng.choice(options or list(spec.options))
        if spec.kind == "BOOLEAN":
            return rng.random() < 0.5
        if spec.kind == "STRING":
            return text_for(rng, spec.name)
        low, high = self._range(spec, narrowed)
        if spec.kind == "INT":
            step = max(1, int(spec.extra.get("step", 1)))
            first, last = math.ceil(low / step), math.floor(high / step)
            return rng.randint(first, last) * step if first <= last else math.ceil(low)
        quantum = float(spec.extra.get("round") or spec.extra.get("step") or 0.001)
        first, last = math.ceil(low / quantum - 1e-9), math.floor(high / quantum + 1e-9)
        if first > last:
            return float(low)
        value = round(rng.randint(first, last) * quantum, 10)
        return min(max(value, float(low)), float(high))

    def _range(self, spec: InputSpec, narrowed: Any) -> tuple[float, float]:
        extra = spec.extra
        low: float = extra.get("min", -math.inf)
        high: float = extra.get("max", math.inf)
        if high - low > FULL_RANGE and spec.name not in ("seed", "noise_seed"):
            centre = min(max(extra.get("default", 0), low), high)
            low, high = max(low, centre - TAME_SPAN), min(high, centre + TAME_SPAN)
        for bound in (name_bounds(spec.name, self.limits), narrowed):
            if bound is not None:
                low, high = max(low, bound[0]), min(high, bound[1])
        if low > high:
            raise AssertionError(f"input {spec.name!r} has an empty range after narrowing")
        return low, high


def text_for(rng: random.Random, name: str) -> str:
    """A STRING widget's value: a file prefix, a prompt, or a few words (letters and spaces only,
    so no path separator or %token% ever reaches a node)."""
    if "prefix" in name:
        return f"harness_{rng.choice(_words.NOUNS)}"
    if name in ("text", "prompt"):
        subject = f"{rng.choice(_words.ADJECTIVES)} {rng.choice(_words.NOUNS)}"
        return f"{subject}, {rng.choice(_words.STYLES)}"
    return words(rng, _words.NOUNS + _words.ADJECTIVES, 1, 4)
