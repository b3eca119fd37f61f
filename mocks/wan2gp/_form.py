"""Wan2GP's generation form: the components `save_inputs` reads, in its parameter order.

Wan2GP (deepbeepmeep/Wan2GP 8681e9f7, wgp.py `save_inputs` and `build_save_inputs`) wires
`[target] + gen_inputs` into `save_inputs`: one component per parameter after `target`, the
`custom_setting_*` parameters filled by the 15 custom-setting inputs, then the hidden
`state` and `plugin_data` States. `self_refiner_plan` is a `gr.State` too, so
`gradio_client` sees 129 parameters. Labels are wgp.py's literals; where wgp.py computes a
label from the selected model, the value is the default text-to-video model's.
"""

from typing import Any

import gradio as gr

# name, kind, label (None: the component has no label). Kinds: T Textbox, N Number,
# D Dropdown, S Slider, V Video, I Image, E ImageEditor, A Audio, G Gallery, F File, X State.
FIELDS: tuple[tuple[str, str, str | None], ...] = (
    ("image_mask_guide", "E", "Control Image and Mask"),
    ("lset_name", "D", None),
    ("client_id", "T", None),
    ("image_mode", "N", None),
    (
        "prompt",
        "T",
        "Prompts (each new line of prompt will generate a new video, # lines = comments)",
    ),
    ("alt_prompt", "T", "Alternate Prompt"),
    ("negative_prompt", "T", "Negative Prompt (ignored if no Guidance that is if CFG = 1)"),
    ("resolution", "D", "Resolution"),
    ("video_length", "S", "Number of frames"),
    ("duration_seconds", "S", "Duration (seconds)"),
    ("pause_seconds", "S", "Pause between Multi Speakers sentences (seconds)"),
    ("batch_size", "S", "Batch Size"),
    ("seed", "S", "Seed (-1 for random)"),
    ("force_fps", "D", "Override Frames Per Second (model default=16 fps)"),
    ("num_inference_steps", "S", "Number of Inference Steps"),
    ("guidance_scale", "S", "Guidance (CFG)"),
    ("guidance2_scale", "S", "Guidance2 (CFG)"),
    ("guidance3_scale", "S", "Guidance3 (CFG)"),
    ("switch_threshold", "S", "Guidance / Model Switch Threshold"),
    ("switch_threshold2", "S", "Guidance / Model Switch Threshold 2"),
    ("guidance_phases", "D", "Phases"),
    ("model_switch_phase", "D", "Model Switch"),
    ("alt_guidance_scale", "S", "Alt Guidance"),
    ("alt_scale", "S", "Alt Scale"),
    ("audio_guidance_scale", "S", "Audio Guidance"),
    ("audio_scale", "S", "Audio Scale"),
    ("flow_shift", "S", "Shift Scale"),
    ("sample_solver", "D", "Sampler Solver / Scheduler"),
    ("embedded_guidance_scale", "S", "Embedded Guidance Scale"),
    ("repeat_generation", "S", "Num. of Generated Videos per Prompt"),
    ("multi_prompts_gen_type", "D", "How to Process each Line of the Text Prompt"),
    ("multi_images_gen_type", "D", "Multiple Images as Texts Prompts"),
    ("skip_steps_cache_type", "D", "Skip Steps Cache Type"),
    ("skip_steps_multiplier", "D", "Skip Steps Cache Global Acceleration"),
    ("skip_steps_start_step_perc", "S", "Skip Steps starting moment in % of generation"),
    ("loras_choices", "D", "Activated LoRAs"),
    (
        "loras_multipliers",
        "T",
        "LoRAs Multipliers (1.0 by default) separated by Space chars or CR, "
        "lines that start with # are ignored",
    ),
    ("image_prompt_type", "T", None),
    ("image_start", "G", "Images as starting points for new Videos in the Generation Queue"),
    ("image_end", "G", "Images as ending points for new Videos in the Generation Queue"),
    ("model_mode", "D", "model mode"),
    ("video_source", "V", "Video to Continue"),
    (
        "keep_frames_video_source",
        "T",
        "Truncate Video beyond this number of resampled Frames "
        "(empty=Keep All, negative truncates from End)",
    ),
    ("input_video_strength", "S", "Input Video Strength"),
    ("video_guide_outpainting", "T", None),
    ("video_guide_outpainting_ratio", "D", None),
    ("video_prompt_type", "T", None),
    ("image_refs", "G", "Reference Images"),
    (
        "frames_positions",
        "T",
        "Positions of Injected Frames (1=first, L=last of a window) "
        "no position for other Image Refs)",
    ),
    ("video_guide", "V", "Control Video"),
    ("video_guide2", "V", "Control Video #2"),
    ("image_guide", "I", "Control Image"),
    (
        "keep_frames_video_guide",
        "T",
        "Frames to keep in Control Video (empty=All, 1=first, a:b for a range, "
        "space to separate values)",
    ),
    ("denoising_strength", "S", "Denoising Strength"),
    ("masking_strength", "S", "Masking Strength"),
    ("video_mask", "V", "Video Mask Area"),
    (
        "image_mask",
        "I",
        "Image Mask Area (for Inpainting, white = Control Area, black = Unchanged)",
    ),
    ("control_net_weight", "S", "Control Net Weight"),
    ("control_net_weight2", "S", "Control Net Weight #2"),
    ("control_net_weight_alt", "S", "Control Net Weight Alt"),
    ("motion_amplitude", "S", "Motion Amplitude"),
    ("mask_expand", "S", "Expand / Shrink Mask Area"),
    ("audio_guide", "A", "Voice to follow"),
    ("audio_guide2", "A", "Voice to follow #2"),
    ("custom_guide", "F", "Custom Guide"),
    ("audio_source", "A", "Custom Soundtrack"),
    ("replace_voice_method", "D", "Replace Voice"),
    ("replace_voice_sample", "A", "Voice Sample"),
    ("replace_voice_sample2", "A", "Voice Sample #2"),
    ("audio_prompt_type", "T", None),
    (
        "speakers_locations",
        "T",
        "Speakers Locations separated by a Space. Each Location = Left:Right or a BBox "
        "Left:Top:Right:Bottom",
    ),
    ("sliding_window_size", "S", "Sliding Window Size"),
    ("sliding_window_overlap", "S", "Windows Frames Overlap"),
    ("sub_parallel_window_size", "S", "Sub Parallel Window Size"),
    ("sub_parallel_window_overlap", "S", "Sub Parallel Window Overlap"),
    ("sliding_window_color_correction_strength", "S", "Color Correction Strength"),
    ("sliding_window_overlap_noise", "S", "Noise to be added to overlapped frames"),
    ("sliding_window_discard_last_frames", "S", "Discard Last Frames of a Window"),
    ("sliding_window_trim_first_frames", "S", "Trim First Frames of a Window"),
    ("image_refs_relative_size", "S", "Rescale Internaly Image Ref"),
    (
        "remove_background_images_ref",
        "D",
        "Automatic Removal of Background behind People or Objects in Reference Images",
    ),
    ("temporal_upsampling", "D", "Temporal Upsampling"),
    ("spatial_upsampling", "D", "Spatial Upsampling"),
    ("film_grain_intensity", "S", "Film Grain Intensity (0 = disabled)"),
    ("film_grain_saturation", "S", "Film Grain Saturation"),
    ("postprocess_audio", "D", "Audio Post Processing"),
    ("postprocess_audio_prompt", "T", "Audio Prompt"),
    ("postprocess_audio_neg_prompt", "T", "Audio Negative Prompt"),
    ("RIFLEx_setting", "D", "RIFLEx positional embedding to generate long video"),
    ("NAG_scale", "S", "NAG Scale"),
    ("NAG_tau", "S", "NAG Tau"),
    ("NAG_alpha", "S", "NAG Alpha"),
    ("perturbation_switch", "D", "Perturbation"),
    ("perturbation_layers", "D", "Perturbation Layers"),
    ("perturbation_start_perc", "S", "Denoising Steps % start"),
    ("perturbation_end_perc", "S", "Denoising Steps % end"),
    ("apg_switch", "D", "Adaptive Projected Guidance (requires Guidance > 1)"),
    ("cfg_star_switch", "D", "Classifier-Free Guidance Star (requires Guidance > 1)"),
    ("cfg_zero_step", "S", "CFG Zero below this Layer (Extra Process)"),
    ("prompt_enhancer", "T", None),
    ("min_frames_if_references", "D", "Generate additional frames before keeping the first image"),
    ("override_profile", "D", "Override Memory Profile"),
    ("override_attention", "D", "Override Attention Mode"),
    ("attention_sparsity", "S", "Attention Sparsity"),
    ("temperature", "S", "Temperature"),
    *((f"custom_setting_{i}", "T", "") for i in range(1, 6)),
    *((f"custom_setting_slider_{i}", "S", "") for i in range(1, 6)),
    *((f"custom_setting_dropdown_{i}", "D", "") for i in range(1, 6)),
    ("top_p", "S", "Top-p"),
    ("top_k", "S", "Top-k"),
    ("self_refiner_setting", "D", "Self Refiner"),
    ("self_refiner_plan", "X", None),
    ("self_refiner_f_uncertainty", "S", "Uncertainty Threshold"),
    ("self_refiner_certain_percentage", "S", "Certainty Percentage Skip"),
    ("output_filename", "T", " Output Filename ( Leave Blank for Auto Naming)"),
    ("config", "T", None),
    ("mode", "T", None),
)
FIELD_NAMES = tuple(name for name, _, _ in FIELDS)

# Defaults for the fields the fake generation reads (Wan2GP's t2v defaults).
DEFAULTS: dict[str, Any] = {
    "prompt": "",
    "negative_prompt": "",
    "resolution": "832x480",
    "video_length": 81,
    "seed": -1,
    "num_inference_steps": 30,
    "guidance_scale": 5.0,
    "flow_shift": 5.0,
}
RESOLUTIONS = [
    ("1280x720 (16:9)", "1280x720"),
    ("720x1280 (9:16)", "720x1280"),
    ("832x480 (16:9)", "832x480"),
    ("480x832 (9:16)", "480x832"),
    ("512x512 (1:1)", "512x512"),
]
_VISIBLE = {"prompt", "negative_prompt", "resolution", "video_length", "seed"}
_VISIBLE |= {"num_inference_steps", "guidance_scale", "flow_shift"}


def build_component(name: str, kind: str, label: str | None) -> Any:
    """One form component as wgp.py declares it (kind and label), hidden unless core."""
    value = DEFAULTS.get(name)
    common: dict[str, Any] = {"label": label, "visible": name in _VISIBLE}
    if kind == "T":
        return gr.Textbox(value=value, lines=3 if name == "prompt" else 1, **common)
    if kind == "N":
        return gr.Number(value=0, **common)
    if kind == "D":
        if name == "resolution":
            return gr.Dropdown(RESOLUTIONS, value=value, **common)
        return gr.Dropdown(choices=[], value=None, allow_custom_value=True, **common)
    if kind == "S":
        return _slider(name, value, common)
    component_class = {
        "V": gr.Video,
        "I": gr.Image,
        "E": gr.ImageEditor,
        "A": gr.Audio,
        "G": gr.Gallery,
        "F": gr.File,
    }.get(kind)
    if component_class is not None:
        return component_class(**common)
    return gr.State(None)


_SLIDER_RANGES: dict[str, tuple[float, float, float]] = {
    "video_length": (1, 481, 1),
    "seed": (-1, 999999999, 1),
    "num_inference_steps": (1, 100, 1),
    "guidance_scale": (1.0, 20.0, 0.5),
    "flow_shift": (0.0, 25.0, 0.1),
}


def _slider(name: str, value: Any, common: dict[str, Any]) -> Any:
    low, high, step = _SLIDER_RANGES.get(name, (-1e9, 1e9, 0.001))
    return gr.Slider(low, high, value=value if value is not None else 0, step=step, **common)
