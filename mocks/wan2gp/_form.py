"""Build Wan2GP's generation form: one Gradio component per `save_inputs` parameter.

Wan2GP (deepbeepmeep/Wan2GP 8681e9f7, wgp.py `save_inputs` 10141 and `build_save_inputs`
10400) wires `[target] + gen_inputs` into `save_inputs`: one component per parameter after
`target`, the `custom_setting_*` parameters filled by the 15 custom-setting inputs, then the
hidden `state` and `plugin_data` States. `self_refiner_plan` is a `gr.State` too, so
`gradio_client` sees 129 parameters. The fields themselves are in `_fields.py`.
"""

from typing import Any

import gradio as gr

from ._fields import FIELD_NAMES, FIELDS, RESOLUTIONS, Field
from ._hierarchy import HierarchySelector

__all__ = ["FIELDS", "FIELD_NAMES", "RESOLUTIONS", "build_component"]

# The fields a person sees first; the rest exist but stay hidden (visibility is not API).
_VISIBLE = {"prompt", "negative_prompt", "resolution", "video_length", "seed"}
_VISIBLE |= {"num_inference_steps", "guidance_scale", "flow_shift"}


def build_component(field: Field) -> Any:
    """The component wgp.py declares for `field`: its kind, label and initial value."""
    common: dict[str, Any] = {"label": field.label, "visible": field.name in _VISIBLE}
    if field.kind == "T":
        lines = 3 if field.name == "prompt" else 1
        return gr.Textbox(value=field.value, lines=lines, **common)
    if field.kind == "N":
        return gr.Number(value=field.value, **common)
    if field.kind == "D":
        return gr.Dropdown(
            choices=field.choices or [],
            value=field.value,
            multiselect=field.multiselect or None,
            allow_custom_value=field.choices is None,
            **common,
        )
    if field.kind == "S":
        low, high, step = field.span
        return gr.Slider(low, high, value=field.value, step=step, **common)
    if field.kind == "H":
        return HierarchySelector(
            {"folders": [], "items": []},
            value=field.value,
            height=0,
            search_empty_label="No matching LoRAs",
            **common,
        )
    if field.kind == "G":
        return gr.Gallery(value=field.value, **common)
    component_class = {
        "V": gr.Video,
        "I": gr.Image,
        "E": gr.ImageEditor,
        "A": gr.Audio,
        "F": gr.File,
    }.get(field.kind)
    if component_class is not None:
        return component_class(**common)
    return gr.State(None)
