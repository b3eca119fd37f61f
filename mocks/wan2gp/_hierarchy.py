"""Wan2GP's own LoRA picker, `HierarchySelector` (deepbeepmeep/Wan2GP 8681e9f7,
`shared/gradio/hierarchy_selector/hierarchy_selector.py`, used for `loras_choices` in wgp.py
12021), as Gradio's API sees it.

A `FormComponent` subclass: Gradio names it after its class (`get_block_name`, lowercased), so
`view_api` reports the component `Hierarchyselector`; `api_info` is an array of strings
(`List[str]` for gradio_client), `example_payload` `[]`, and a value is a list of LoRA file
names (`preprocess`: None is `[]`, one string a one-item list; `postprocess` the same for
outputs). The real component's Svelte frontend (its folder tree) is not shipped: the page does
not draw it, the API takes and gives the same values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import gradio.component_meta
from gradio.components.base import FormComponent
from gradio.events import Events

HierarchyNode = dict[str, Any]


@contextmanager
def _no_stub_file() -> Iterator[None]:
    """Gradio's ComponentMeta writes a `.pyi` stub beside the module of every component class
    it creates (`create_or_modify_pyi`); the mock's tree stays as committed."""
    write = gradio.component_meta.create_or_modify_pyi
    gradio.component_meta.create_or_modify_pyi = lambda *args, **kwargs: None
    try:
        yield
    finally:
        gradio.component_meta.create_or_modify_pyi = write


with _no_stub_file():

    class HierarchySelector(FormComponent):  # type: ignore[misc]
        """Ordered multi-selection backed by a folder/item hierarchy (the mock's has no items:
        it finds no LoRA files)."""

        EVENTS = [Events.change, Events.input, Events.select, Events.focus, Events.blur]  # noqa: RUF012 - Gradio's

        def __init__(
            self,
            hierarchy: HierarchyNode | None = None,
            *,
            value: Sequence[str] | str | None = None,
            height: int = 10,
            search_empty_label: str = "No matches",
            label: str | None = None,
            visible: bool = True,
        ) -> None:
            self.hierarchy = hierarchy or {"folders": [], "items": []}
            self.height = int(height)
            self.display_mode = "file"
            self.breadcrumb_separator = " "
            self.sort_hierarchy = True
            self.search_empty_label = search_empty_label
            self.show_placeholder = False
            super().__init__(label=label, visible=visible, value=value)

        def preprocess(self, payload: list[str] | str | None) -> list[str]:
            if payload is None:
                return []
            return payload if isinstance(payload, list) else [payload]

        def postprocess(self, value: Any) -> list[Any]:
            if value is None:
                return []
            return list(value) if isinstance(value, list | tuple) else [value]

        def example_payload(self) -> list[str]:
            return []

        def example_value(self) -> list[str]:
            return []

        def api_info(self) -> dict[str, Any]:
            return {"type": "array", "items": {"type": "string"}}
