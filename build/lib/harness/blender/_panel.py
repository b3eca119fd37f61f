"""What a panel's draw() showed, as recorded by the session's stand-in layout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class PanelTree:
    """A panel's poll() result and the tree its draw() built.

    Each node is a dict: containers (`layout`, `row`, `column`, `box`, `split` ...) have
    `enabled`, `active`, `alert` and `children`; leaves are `label` (text, icon), `prop`
    (property, value, text), `operator` (idname, text, properties) and `separator`.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def poll(self) -> bool:
        return bool(self.data["poll"])

    @property
    def root(self) -> dict[str, Any]:
        return dict(self.data.get("layout") or {"type": "layout", "children": []})

    def walk(self) -> Iterator[tuple[dict[str, Any], dict[str, bool]]]:
        """Every leaf with its effective state: disabled, inactive or alert if any parent is."""

        def visit(node: dict[str, Any], state: dict[str, bool]) -> Iterator[Any]:
            for child in node.get("children", []):
                if "children" in child:
                    inner = {
                        "enabled": state["enabled"] and child["enabled"],
                        "active": state["active"] and child["active"],
                        "alert": state["alert"] or child["alert"],
                    }
                    yield from visit(child, inner)
                else:
                    yield child, state

        yield from visit(self.root, {"enabled": True, "active": True, "alert": False})

    def find(self, type: str, **match: Any) -> list[dict[str, Any]]:
        """Leaves of a type whose fields equal `match`, each with its effective state merged
        (so `enabled`, `active` and `alert` match the state inherited from its layouts)."""
        leaves = ({**node, **state} for node, state in self.walk())
        return [
            leaf
            for leaf in leaves
            if leaf["type"] == type and all(leaf.get(k) == v for k, v in match.items())
        ]

    def labels(self) -> list[str]:
        return [node["text"] for node in self.find("label")]

    def prop(self, property: str) -> dict[str, Any]:
        """The one prop of that name (effective state included)."""
        found = self.find("prop", property=property)
        if len(found) != 1:
            raise LookupError(f"panel shows {len(found)} props named {property!r}")
        return found[0]

    def operators(self) -> list[dict[str, Any]]:
        return self.find("operator")

    def __repr__(self) -> str:
        return f"PanelTree({self.data!r})"
