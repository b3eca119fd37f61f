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
from ._comfyui_catalog import ANY, COMBO, WIDGET_KINDS, Catalog, InputSpec
from ._comfyui_nodes import RULES, Latent, Limits, Pixels, fits, name_bounds, require
from ._rng import words

TAME_SPAN = 1000  # numbers with an unbounded or astronomic range stay near their default
FULL_RANGE = 1 << 32
REUSE = 0.4  # chance a demand reuses an existing output when it may
WIDGET_LINK = 0.15  # chance a widget is fed by a producer of its type (a primitive) instead
MAX_RESOLUTION = 16384  # nodes.py MAX_RESOLUTION: no image side GetImageSize reports exceeds it
OPTIONAL_LINK = 0.5  # chance an optional link input (a composite's mask) is fed


@dataclass(frozen=True)
class Deferred:
    """The output of a primitive whose value its first consumer chooses, inside that
    consumer's range (a PrimitiveInt feeding a sampler's steps)."""

    node_id: str


@dataclass
class Node:
    """A node under construction: its class and its links (input -> (node id, slot))."""

    id: str
    class_type: str
    links: dict[str, tuple[str, int]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Built:
    """A built graph: the prompt, its image outputs (node id -> shape, folder, animated), its
    saved latents (node id -> shape), its text previews (node id -> text, None when it is a
    tensor's repr) and total sampler steps."""

    prompt: dict[str, dict[str, Any]]
    images: dict[str, tuple[Pixels, str, bool]]
    latents: dict[str, Latent]
    texts: dict[str, str | None]
    steps: int


class Builder:
    """Builds one graph from `catalog` with `rng`, inside `limits`."""

    def __init__(self, rng: random.Random, catalog: Catalog, limits: Limits, samplers: int) -> None:
        self.rng = rng
        self.catalog = catalog
        self.limits = limits
        self.samplers_needed = samplers if catalog.sampler_cost else 0
        self.nodes: dict[str, Node] = {}
        self.demands: deque[tuple[str, str]] = deque()  # (consumer id, input name)
        self.target = 0
        self.echo_signature: dict[str, tuple[Any, ...]] = {}  # primitive -> first consumer's

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

    def _add(self, class_type: str, urgent: bool = False) -> str:
        """A new node of `class_type` whose link demands queue up; `urgent` (on the way to a
        sampler) puts them first, so the route completes before other demands pick producers."""
        node = Node(str(len(self.nodes) + 1), class_type)
        self.nodes[node.id] = node
        if any(i.name == "steps" for i in self.catalog.inputs(class_type)):
            self.samplers_needed -= 1
        outputs = self.catalog.specs[class_type].outputs
        queued: list[tuple[str, str]] = []
        for spec in self.catalog.inputs(class_type):
            if self._links(class_type, spec, outputs):
                queued.append((node.id, spec.name))
        if urgent:
            self.demands.extendleft(reversed(queued))
        else:
            self.demands.extend(queued)
        return node.id

    def _links(self, class_type: str, spec: InputSpec, outputs: tuple[str, ...]) -> bool:
        """Whether the new node's input is fed by a link: always a required link; while the
        node budget lasts, sometimes an optional link, or a widget (by a primitive)."""
        if not spec.widget and spec.required:
            return True
        if len(self.nodes) >= self.target:
            return False
        if spec.widget and not (
            spec.required and spec.kind in WIDGET_KINDS and spec.kind not in outputs
        ):
            return False  # combos have no producers; no primitive chains
        if not self._producers(class_type, spec):
            return False
        return self._chance(WIDGET_LINK if spec.widget else OPTIONAL_LINK)

    def _chance(self, p: float) -> bool:
        """True with probability `p`, on the draws' high side: hypothesis shrinks draws towards
        0, so a shrunk graph takes the simpler branch (no extra link)."""
        return self.rng.random() >= 1 - p

    def _producers(self, class_type: str, spec: InputSpec) -> list[tuple[str, int]]:
        """The (class, slot) pairs that may feed `spec`: any of its type for a link; for a
        widget, primitives (which take the consumer's value) and producers whose every value
        the widget admits (GetImageSize's sides into a seed, not into a crop's x)."""
        pairs = self.catalog.producers.get(spec.kind, [])
        if not spec.widget:
            return pairs
        low, high = self._declared_range(spec)
        return [
            (c, slot)
            for c, slot in pairs
            if (rule := RULES.get(c)) is not None
            and (
                rule.echoes is not None
                or spec.kind == "STRING"
                or (low <= 1 and high >= MAX_RESOLUTION)
            )
        ]

    def _declared_range(self, spec: InputSpec) -> tuple[float, float]:
        if spec.kind not in ("INT", "FLOAT"):
            return (-math.inf, math.inf)
        return self._range(spec, None)

    def _signature(self, class_type: str, name: str) -> tuple[Any, ...]:
        """What a primitive's value must satisfy for this input: consumers with the same one
        may share it (one seed for two samplers)."""
        spec = self.catalog.specs[class_type].input(name)
        return (spec.kind, self._declared_range(spec), spec.extra.get("step"), class_type, name)

    def _meet(self, consumer: str, name: str) -> None:
        """Feed input `name` of `consumer`: reuse an output that may feed it, or add a producer."""
        consumer_class = self.nodes[consumer].class_type
        spec = self.catalog.specs[consumer_class].input(name)
        pairs = self._producers(consumer_class, spec)
        producers = [c for c, _ in pairs]
        want_sampler = self.samplers_needed > 0 and any(
            c in self.catalog.sampler_cost for c in producers
        )
        signature = self._signature(consumer_class, name) if spec.widget else None
        downstream = self.downstream(consumer)  # linking from these would make a cycle
        offered = set(pairs)
        reusable = [
            (n.id, slot)
            for n in self.nodes.values()
            for slot in range(len(self.catalog.specs[n.class_type].outputs))
            if (n.class_type, slot) in offered
            and n.id not in downstream
            and self.echo_signature.get(n.id, signature) == signature
        ]
        over_budget = len(self.nodes) >= self.target
        if reusable and not want_sampler and (over_budget or self.rng.random() < REUSE):
            self.nodes[consumer].links[name] = self.rng.choice(reusable)
            return
        if over_budget and (spec.widget or not spec.required):
            return  # a link it can do without: the widget keeps a value, the input stays empty
        class_type = self._pick(sorted(set(producers)), want_sampler)
        slots = [s for c, s in pairs if c == class_type]
        produced = self._add(class_type, urgent=want_sampler)
        self.nodes[consumer].links[name] = (produced, self.rng.choice(slots))
        rule = RULES.get(class_type)
        if rule is not None and rule.echoes is not None:
            self.echo_signature[produced] = signature or (ANY,)

    def downstream(self, node_id: str) -> set[str]:
        """`node_id` and every node that depends on it through links."""
        consumers: dict[str, list[str]] = {}
        for node in self.nodes.values():
            for src, _ in node.links.values():
                consumers.setdefault(src, []).append(node.id)
        seen = {node_id}
        stack = [node_id]
        while stack:
            for consumer in consumers.get(stack.pop(), ()):
                if consumer not in seen:
                    seen.add(consumer)
                    stack.append(consumer)
        return seen

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
        """Give every widget a value, producers first; return the prompt and its outputs.
        Raises Unfit when the drawn structure cannot hold values inside the preset."""
        values: dict[tuple[str, int], Any] = {}
        images: dict[str, tuple[Pixels, str, bool]] = {}
        latents: dict[str, Latent] = {}
        texts: dict[str, str | None] = {}
        resolved_of: dict[str, dict[str, Any]] = {}
        for node in self._topological():
            spec = self.catalog.specs[node.class_type]
            rule = RULES.get(node.class_type)
            linked = {name: values[src] for name, src in node.links.items()}
            narrowed = rule.bounds(linked, self.limits) if rule else {}
            for name, value in linked.items():
                linked[name] = self._fed(spec.input(name), value, narrowed.get(name), values)
            files: dict[str, Any] = {}
            if rule is not None and rule.reads is not None:
                name = rule.reads[0]
                node.values[name] = self.rng.choice(self._files_inside(node.class_type, name))
                files[name] = self.catalog.files[node.values[name]]
            for inp in spec.inputs:
                if inp.name in node.links or inp.name in files or not inp.widget:
                    continue
                if not inp.required and self.rng.random() < 0.5:
                    continue
                node.values[inp.name] = self._value(inp, narrowed.get(inp.name))
            if rule is not None and rule.echoes is not None:
                outs: tuple[Any, ...] = (Deferred(node.id),)
                resolved_of[node.id] = node.values
                for slot, out in enumerate(outs):
                    values[(node.id, slot)] = out
                continue
            resolved = {**linked, **node.values, **files}
            resolved_of[node.id] = resolved
            if rule is None:
                outs = (None,) * len(spec.outputs)
            else:
                outs = rule.outputs(resolved)
                if rule.saves and isinstance(resolved.get("images"), Pixels):
                    images[node.id] = (resolved["images"], rule.saves, rule.animated)
                if rule.records == "latents" and isinstance(resolved.get("samples"), Latent):
                    latents[node.id] = resolved["samples"]
                if rule.records == "text":
                    texts[node.id] = preview_text(resolved.get("source"))
            for slot, out in enumerate(outs):
                require(fits(out, self.limits), f"{node.class_type} #{node.id} made {out}")
                values[(node.id, slot)] = out
        self._drop_repeated_outputs()
        kept = self.nodes
        steps = sum(int(resolved_of[n].get("steps", 0)) for n in kept)
        prompt = {
            n.id: {
                "class_type": n.class_type,
                "inputs": {
                    **n.values,
                    **{name: [src, slot] for name, (src, slot) in n.links.items()},
                },
            }
            for n in kept.values()
        }
        return Built(
            prompt,
            {n: image for n, image in images.items() if n in kept},
            {n: latent for n, latent in latents.items() if n in kept},
            {n: text for n, text in texts.items() if n in kept},
            steps,
        )

    def _files_inside(self, class_type: str, name: str) -> list[str]:
        """The files a loader may name whose contents stay inside the preset."""
        rule = RULES[class_type]
        inside = [
            f
            for f in self.catalog.file_options(class_type)
            if all(fits(out, self.limits) for out in rule.outputs({name: self.catalog.files[f]}))
        ]
        require(bool(inside), f"no file {class_type} may read fits the preset")
        return inside

    def _fed(
        self, spec: InputSpec, value: Any, narrowed: Any, values: dict[tuple[str, int], Any]
    ) -> Any:
        """The value a linked input receives: a primitive's, chosen now by its first consumer
        (inside this input's range); a widget fed by a producer must find it in range."""
        if isinstance(value, Deferred):
            primitive = self.nodes[value.node_id]
            own = self.catalog.specs[primitive.class_type].input("value")
            if not spec.widget:
                chosen = self._value(own, None)
            elif spec.kind in ("INT", "FLOAT"):
                low, high = self._range(spec, narrowed)
                inside = (
                    max(low, own.extra.get("min", low)),
                    min(high, own.extra.get("max", high)),
                )
                chosen = self._value(spec, inside)
            else:
                chosen = self._value(spec, narrowed)
            primitive.values["value"] = chosen
            values[(primitive.id, 0)] = chosen
            return chosen
        if spec.kind in ("INT", "FLOAT") and isinstance(value, int | float):
            low, high = self._range(spec, narrowed)
            require(low <= value <= high, f"{value} out of {spec.name}'s range")
        return value

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
        """The input's object_info range, tamed, narrowed by the preset and `narrowed`."""
        extra = spec.extra
        low: float = extra.get("min", -math.inf)
        high: float = extra.get("max", math.inf)
        if high - low > FULL_RANGE and spec.name not in ("seed", "noise_seed"):
            centre = min(max(extra.get("default", 0), low), high)
            low, high = max(low, centre - TAME_SPAN), min(high, centre + TAME_SPAN)
        for bound in (name_bounds(spec.name, self.limits), narrowed):
            if bound is not None:
                low, high = max(low, bound[0]), min(high, bound[1])
        require(low <= high, f"input {spec.name!r} has an empty range after narrowing")
        return low, high


def preview_text(source: Any) -> str | None:
    """What PreviewAny shows for a value (comfy_extras/nodes_preview_any.py): strings as they
    are, numbers and booleans by str(); None for a tensor, whose repr is not predicted here."""
    if isinstance(source, str | int | float | bool):
        return str(source)
    return None


def text_for(rng: random.Random, name: str) -> str:
    """A STRING widget's value: a file prefix, a prompt, or a few words (letters and spaces only,
    so no path separator or %token% ever reaches a node)."""
    if "prefix" in name:
        return f"harness_{rng.choice(_words.NOUNS)}"
    if name in ("text", "prompt"):
        subject = f"{rng.choice(_words.ADJECTIVES)} {rng.choice(_words.NOUNS)}"
        return f"{subject}, {rng.choice(_words.STYLES)}"
    return words(rng, _words.NOUNS + _words.ADJECTIVES, 1, 4)
