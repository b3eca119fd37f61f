"""Wan2GP's generation form, field by field, as a fresh install builds it for its default model.

Source: deepbeepmeep/Wan2GP 8681e9f7, wgp.py `generate_media_tab` (11125-12400), read for the
default config (no `wgp_config.json`, so `last_model_type` is unset and the model is `t2v`,
Wan2.1 Text2video 14B, wgp.py 3295-3302) and `advanced` off. Values are `get_default_settings
("t2v")`: `models/_settings.json` updated by `get_factory_settings` (octopus prompt, 832x480,
flow_shift 5.0) and the Wan handler's `sample_solver="unipc"` (models/wan/wan_handler.py 1253).
Labels that wgp.py computes are evaluated for that model: `shared/extra_settings.py` for
`setting_slider` fields (t2v's model_def: NAG, flow_shift, sliding_window, guidance_max_phases
3, no multiple_submodels), `get_prompt_labels("PG", ...)`, `compute_video_length_label(16, 81)`.
"""

from dataclasses import dataclass
from typing import Any

DEFAULT_PROMPT = (
    "A large orange octopus is seen resting on the bottom of the ocean floor, blending in with "
    "the sandy and rocky terrain. Its tentacles are spread out around its body, and its eyes are "
    "closed. The octopus is unaware of a king crab that is crawling towards it from behind a "
    "rock, its claws raised and ready to attack. The crab is brown and spiny, with long legs and "
    "antennae. The scene is captured from a wide angle, showing the vastness and depth of the "
    "ocean. The water is clear and blue, with rays of sunlight filtering through. The shot is "
    "sharp and crisp, with a high dynamic range. The octopus and the crab are in focus, while "
    "the background is slightly blurred, creating a depth of field effect."
)  # wgp.py 3155 get_default_prompt(i2v=False)
_PROMPT_MODE = "each Paragraph of Prompt separated by an Empty Line will generate a new Video"
PROMPT_LABEL = f"Prompts ({_PROMPT_MODE}, # lines = comments, ! lines = macros)"
WIZARD_PROMPT_LABEL = f"Prompts ({_PROMPT_MODE}, # lines = comments)"  # wgp.py 10829
# shared/resolutions.py: the 480p group (832*624 >= pixels > 512*512) of the default choices,
# the group of 832x480 (wgp.py 11863-11875 group_resolution_choices).
RESOLUTIONS = [
    ("832x624 (4:3)", "832x624"),
    ("624x832 (3:4)", "624x832"),
    ("720x720 (1:1)", "720x720"),
    ("832x480 (16:9)", "832x480"),
    ("480x832 (9:16)", "480x832"),
]
_OFF_ON = [("OFF", 0), ("ON", 1)]
_PHASES = [("One Phase", 1), ("Two Phases", 2), ("Three Phases", 3)]
_SWITCH_PHASES = [("Phase 1-2 transition", 1), ("Phase 2-3 transition", 2)]
_SOLVERS = [
    ("unipc", "unipc"),
    ("euler", "euler"),
    ("dpm++", "dpm++"),
    ("flowmatch causvid", "causvid"),
    ("lcm + ltx", "lcm"),
]
_IMAGES_AS_PROMPTS = [
    ("Generate every combination of images and texts", 0),
    ("Match images and text prompts", 1),
]
_OUTPAINT_RATIOS = [
    ("Manual Expansion", ""),
    ("Fit into a 1:1 Box", "1:1"),
    ("Fit into a 4:3 Box", "4:3"),
    ("Fit into a 3:4 Box", "3:4"),
    ("Fit into a 16:9 Box", "16:9"),
    ("Fit into a 9:16 Box", "9:16"),
    ("Fit into a 21:9 Box", "21:9"),
    ("Fit into a 9:21 Box", "9:21"),
]
_RIFLEX = [("Auto (ON if Video longer than 5s)", 0), ("Always ON", 1), ("Always OFF", 2)]
_REFINER = [("Disabled", 0), ("Enabled with P1-Norm", 1), ("Enabled with P2-Norm", 2)]


@dataclass(frozen=True)
class Field:
    """One `save_inputs` parameter: component kind, label, initial value, slider range/choices.

    Kinds: T Textbox, N Number, D Dropdown, S Slider, V Video, I Image, E ImageEditor,
    A Audio, G Gallery, F File, H Wan2GP's HierarchySelector, X State. `choices=None` on a
    Dropdown: choices the mock does not list (computed from models/LoRAs on disk); any value
    is accepted.
    """

    name: str
    kind: str
    label: str | None
    value: Any = None
    span: tuple[float, float, float] = (0, 1, 1)
    choices: list[Any] | None = None
    multiselect: bool = False


def _s(name: str, label: str, value: float, low: float, high: float, step: float) -> Field:
    return Field(name, "S", label, value, (low, high, step))


def _d(name: str, label: str | None, value: Any, choices: list[Any] | None = None) -> Field:
    return Field(name, "D", label, value, choices=choices)


def _t(name: str, label: str | None = None, value: str = "") -> Field:
    return Field(name, "T", label, value)


def _custom_settings() -> list[Field]:
    """wgp.py 11796-11818: 5 text, 5 slider, 5 dropdown inputs, unlabelled when undefined."""
    out = [_t(f"custom_setting_{i}", "") for i in range(1, 6)]
    out += [_s(f"custom_setting_slider_{i}", "", 0, 0, 1, 1) for i in range(1, 6)]
    out += [_d(f"custom_setting_dropdown_{i}", "", None, []) for i in range(1, 6)]
    return out


FIELDS: tuple[Field, ...] = (
    Field("image_mask_guide", "E", None),  # 11571 (image_mode 0 branch)
    _d("lset_name", None, "", None),  # 11218 show_label=False
    _t("client_id"),  # 11716
    Field("image_mode", "N", None, 0),  # 11290
    Field("prompt", "T", PROMPT_LABEL, DEFAULT_PROMPT),  # 11726
    _t("alt_prompt"),  # 11788 (no alt_prompt in t2v's model_def)
    _t(
        "negative_prompt",
        "Negative Prompt (ignored if NAG is disabled and no Guidance that is if CFG = 1)",
    ),
    _d(
        "resolution",
        "Resolution Budget (Pixels will be reallocated to preserve Inputs W/H ratio)",
        "832x480",
        RESOLUTIONS,
    ),  # 11858-11880
    _s("video_length", "Number of frames (16 frames = 1s), current duration: 5.1s", 81, 5, 737, 4),
    _s("duration_seconds", "Max Duration", 0, 0, 1, 1),  # 11824-11853
    _s("pause_seconds", "Pause between Multi Speakers sentences (seconds)", 0, 0, 2, 0.05),
    _s("batch_size", "Number of Images to Generate", 1, 1, 16, 1),  # 11884-11887
    _s("seed", "Seed (-1 for random)", -1, -1, 999999999, 1),
    _d("force_fps", "Override Frames Per Second (model default=16 fps)", "", None),
    _s("num_inference_steps", "Number of Inference Steps", 30, 1, 100, 1),
    _s("guidance_scale", "Guidance (CFG)", 5, 1, 20, 0.1),  # extra_settings.py
    _s("guidance2_scale", "Guidance2 (CFG)", 5, 1, 20, 0.1),
    _s("guidance3_scale", "Guidance3 (CFG)", 5, 1, 20, 0.1),
    _s("switch_threshold", "Guidance Switch Threshold", 0, 0, 1000, 1),
    _s("switch_threshold2", "Phase 2-3", 0, 0, 1000, 1),
    _d("guidance_phases", "Guidance Phases", 1, _PHASES),  # 11929
    _d("model_switch_phase", "Model Switch", 1, _SWITCH_PHASES),
    _s("alt_guidance_scale", "Alternate Guidance", 1.0, 1, 20, 0.5),
    _s("alt_scale", "Alt Scale", 0.0, 0, 1, 0.05),
    _s("audio_guidance_scale", "Audio Guidance", 1, 1, 20, 0.5),
    _s("audio_scale", "Audio Scale", 1, 0, 1, 0.01),
    _s("flow_shift", "Shift Scale", 5.0, 1, 25, 0.1),
    _d("sample_solver", "Sampler Solver / Scheduler", "unipc", _SOLVERS),  # 11979, wan_handler.py
    _s("embedded_guidance_scale", "Embedded Guidance Scale", 6.0, 1, 20, 0.5),
    _s("repeat_generation", "Num. of Generated Videos per Prompt", 1, 1, 25, 1),
    _d("multi_prompts_gen_type", "How to Process each Line of the Text Prompt", "PG", None),
    _d("multi_images_gen_type", "Multiple Images as Texts Prompts", 0, _IMAGES_AS_PROMPTS),
    _d("skip_steps_cache_type", "Skip Steps Cache Type", "", None),
    _d("skip_steps_multiplier", "Skip Steps Cache Global Acceleration", 1.75, None),
    _s("skip_steps_start_step_perc", "Skip Steps starting moment in % of generation", 0, 0, 100, 1),
    Field("loras_choices", "H", "Activated LoRAs", []),  # 12021 HierarchySelector, height 0
    _t(
        "loras_multipliers",
        "LoRAs Multipliers (1.0 by default) separated by Space chars or CR, "
        "lines that start with # are ignored",
    ),
    _t("image_prompt_type"),  # 11315
    Field(
        "image_start", "G", "Images as starting points for new Videos in the Generation Queue", []
    ),
    Field("image_end", "G", "Images as ending points for new Videos in the Generation Queue", []),
    _d("model_mode", "model mode", None, []),  # 11348
    Field("video_source", "V", "Video to Continue"),
    _t(
        "keep_frames_video_source",
        "Truncate Video beyond this number of resampled Frames "
        "(empty=Keep All, negative truncates from End)",
    ),
    _s("input_video_strength", "Input Video Strength", 1.0, 0, 1, 0.01),
    _t("video_guide_outpainting", None, "#"),  # 11584
    _d("video_guide_outpainting_ratio", None, "", _OUTPAINT_RATIOS),  # 11590
    _t("video_prompt_type"),  # 11528
    Field("image_refs", "G", "Reference Images", []),  # 11617
    _t(
        "frames_positions",
        "Positions of Injected Frames (1=first, L=last of a window) "
        "no position for other Image Refs)",
    ),
    Field("video_guide", "V", "Control Video"),
    Field("video_guide2", "V", "Control Video 2"),  # 11534 model_def default
    Field("image_guide", "I", "Control Image"),
    _t(
        "keep_frames_video_guide",
        "Frames to keep in Control Video (empty=All, 1=first, a:b for "
        "a range, space to separate values)",
    ),
    _s(
        "denoising_strength",
        "Denoising Strength (the Lower the Closer to the Control Image/Video)",
        1.0,
        0,
        1,
        0.01,
    ),
    _s(
        "masking_strength",
        "Masking Strength (the Lower the More Freedom for Unmasked Area)",
        1,
        0,
        1,
        0.01,
    ),
    Field(
        "video_mask",
        "V",
        "Video Mask Area (for Inpainting, white = Control Area, black = Unchanged)",
    ),
    Field(
        "image_mask",
        "I",
        "Image Mask Area (for Inpainting, white = Control Area, black = Unchanged)",
    ),
    _s("control_net_weight", "Control Net Weight", 1, 0, 2, 0.01),
    _s("control_net_weight2", "Control Net Weight #2", 1, 0, 2, 0.01),
    _s("control_net_weight_alt", "Control Net Alt Weight", 1, 0, 2, 0.01),
    _s("motion_amplitude", "Motion Amplitude", 1.0, 1, 1.4, 0.01),
    _s("mask_expand", "Expand / Shrink Mask Area", 0, -10, 50, 1),
    Field("audio_guide", "A", "Voice to follow"),
    Field("audio_guide2", "A", "Voice to follow #2"),
    Field("custom_guide", "F", "Custom Guide"),  # 11699
    Field("audio_source", "A", "Soundtrack"),  # postprocessing/audio_processors.py 439
    _d("replace_voice_method", "Replace Voice", "", None),
    Field("replace_voice_sample", "A", "Voice Sample #1"),
    Field("replace_voice_sample2", "A", "Voice Sample #2"),
    _t("audio_prompt_type"),  # 11689
    _t(
        "speakers_locations",
        "Speakers Locations separated by a Space. Each Location = "
        "Left:Right or a BBox Left:Top:Right:Bottom",
        "0:45 55:100",
    ),
    _s("sliding_window_size", "Sliding Window Size", 129, 5, 257, 4),  # 12265
    _s(
        "sliding_window_overlap",
        "Windows Frames Overlap (needed to maintain continuity between "
        "windows, a higher value will require more windows)",
        5,
        1,
        97,
        4,
    ),
    _s("sub_parallel_window_size", "Sub Parallel Window Size (0 = disabled)", 0, 0, 257, 4),
    _s("sub_parallel_window_overlap", "Sub Parallel Window Overlap", 17, 1, 97, 4),
    _s(
        "sliding_window_color_correction_strength",
        "Color Correction Strength (match colors of new window with previous one, 0 = disabled)",
        0,
        0,
        1,
        0.01,
    ),
    _s(
        "sliding_window_overlap_noise",
        "Noise to be added to overlapped frames to reduce blur effect",
        0,
        0,
        150,
        1,
    ),
    _s(
        "sliding_window_discard_last_frames",
        "Discard Last Frames of a Window (that may have bad quality)",
        0,
        0,
        20,
        4,
    ),
    _s(
        "sliding_window_trim_first_frames",
        "Trim First Frames in First Window or if there is no Overlap Frames",
        0,
        0,
        10,
        1,
    ),
    _s(
        "image_refs_relative_size",
        "Rescale Internaly Image Ref (% in relation to Output Video) to change Output Composition",
        50,
        20,
        100,
        1,
    ),
    _d(
        "remove_background_images_ref",
        "Automatic Removal of Background behind People or Objects in Reference Images",
        1,
        None,
    ),
    _t("temporal_upsampling"),  # postprocessing/temporal_upsamplers.py 268 (hidden value box)
    _t("spatial_upsampling"),  # postprocessing/spatial_upsamplers.py 526
    _s("film_grain_intensity", "Film Grain Intensity (0 = disabled)", 0, 0, 1, 0.01),
    _s("film_grain_saturation", "Film Grain Saturation", 0.5, 0, 1, 0.01),
    _d("postprocess_audio", "Postprocess Remux Audio", "", None),  # audio_processors.py 431
    _t("postprocess_audio_prompt", "Prompt"),
    _t("postprocess_audio_neg_prompt", "Negative Prompt"),
    _d("RIFLEx_setting", "RIFLEx positional embedding to generate long video", 0, _RIFLEX),
    _s("NAG_scale", "NAG Scale", 1, 1, 20, 0.01),
    _s("NAG_tau", "NAG Tau", 3.5, 1, 5, 0.01),
    _s("NAG_alpha", "NAG Alpha", 0.5, 0, 2, 0.01),
    _d("perturbation_switch", "Perturbation", 0, None),
    Field("perturbation_layers", "D", "Perturbation Layers", [9], multiselect=True),
    _s("perturbation_start_perc", "Denoising Steps % start", 10, 0, 100, 1),
    _s("perturbation_end_perc", "Denoising Steps % end", 90, 0, 100, 1),
    _d("apg_switch", "Adaptive Projected Guidance (requires Guidance > 1)", 0, _OFF_ON),
    _d("cfg_star_switch", "Classifier-Free Guidance Star (requires Guidance > 1)", 0, _OFF_ON),
    _s("cfg_zero_step", "CFG Zero below this Layer (Extra Process)", -1, -1, 39, 1),
    _t("prompt_enhancer"),  # 11761
    _d(
        "min_frames_if_references",
        "Generate additional frames before keeping the first image",
        1,
        None,
    ),
    _d("override_profile", "Override Memory Profile", -1, None),
    _d("override_attention", "Override Attention Mode", "", None),
    _s("attention_sparsity", "Attention Sparsity", 1.0, 0, 4, 0.05),
    _s("temperature", "Temperature", 0.8, 0.1, 1.5, 0.01),
    *_custom_settings(),
    _s("top_p", "Top-p", 0.9, 0, 1, 0.01),
    _s("top_k", "Top-k (0 = disabled)", 50, 0, 100, 1),
    _d("self_refiner_setting", "Self Refiner", 0, _REFINER),
    Field("self_refiner_plan", "X", None),  # 12203 gr.State
    _s("self_refiner_f_uncertainty", "Uncertainty Threshold", 0.0, 0, 1, 0.01),
    _s("self_refiner_certain_percentage", "Certainty Percentage Skip", 0.999, 0, 1, 0.001),
    _t("output_filename", " Output Filename ( Leave Blank for Auto Naming)"),
    _t("config"),  # 12367
    _t("mode"),  # 12396
)
FIELD_NAMES = tuple(field.name for field in FIELDS)
