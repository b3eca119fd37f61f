"""The Gradio Blocks app: Wan2GP's components and event functions, with Wan2GP's names.

Gradio names each API endpoint after its function (no api_name is set, as in wgp.py), so
`gradio_client` sees /validate_wizard_prompt, /save_inputs, /process_prompt_and_add_tasks,
/prepare_generate_media, /activate_status, /process_tasks, /finalize_generation,
/refresh_status_async, /refresh_gallery, /abort_generation, /clear_queue_action, ...
"""

# No `from __future__ import annotations`: Gradio inspects the gr.Request/gr.Progress
# parameter annotations at runtime.

import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from mocks._control import clean_namespace

from ._engine import (
    DEFAULT_MODEL,
    MODEL_TYPES,
    RESTART_ERROR,
    GenerationError,
    Registry,
    State,
    add_tasks,
    gen_lock,
    get_gen_info,
    queue_html,
    run_queue,
)

RESOLUTIONS = [
    ("1280x720 (16:9)", "1280x720"),
    ("720x1280 (9:16)", "720x1280"),
    ("832x480 (16:9)", "832x480"),
    ("480x832 (9:16)", "480x832"),
    ("512x512 (1:1)", "512x512"),
]
INPUT_NAMES = (
    "prompt",
    "negative_prompt",
    "resolution",
    "video_length",
    "seed",
    "num_inference_steps",
    "guidance_scale",
    "flow_shift",
)


def _namespace(request: gr.Request | None) -> str:
    headers = getattr(request, "headers", None) or {}
    return clean_namespace(headers.get("x-harness-namespace"))


def _unique_id() -> str:
    return str(time.time_ns())


def build_demo(registry: Registry) -> gr.Blocks:
    """Build the `gr.Blocks(title="WanGP")` app bound to `registry`."""

    def init_generate(state: State, input_file_list: Any, last_choice: Any) -> tuple[str, str]:
        gen = get_gen_info(state)
        gen["last_selected"] = True
        return _unique_id(), ""

    def validate_wizard_prompt(
        state: State,
        wizard_prompt_activated: str,
        wizard_variables_names: str,
        prompt: str,
        wizard_prompt: str,
    ) -> str:
        state["validate_success"] = 0
        if wizard_prompt_activated == "on":
            prompt = wizard_prompt
        if not (prompt or "").strip():
            gr.Info("Prompt cannot be empty")
            return prompt
        state["validate_success"] = 1
        return prompt

    def save_inputs(
        target: str,
        prompt: str,
        negative_prompt: str,
        resolution: str,
        video_length: float,
        seed: float,
        num_inference_steps: float,
        guidance_scale: float,
        flow_shift: float,
        state: State,
    ) -> None:
        values = (
            prompt,
            negative_prompt,
            resolution,
            video_length,
            seed,
            num_inference_steps,
            guidance_scale,
            flow_shift,
        )
        state["saved_inputs"] = dict(zip(INPUT_NAMES, values, strict=True))

    def process_prompt_and_add_tasks(
        state: State, current_gallery_tab: float, model_choice: str, request: gr.Request
    ) -> tuple[Any, Any]:
        gen = get_gen_info(state)
        ns = _namespace(request)
        state["ns"] = ns
        registry.attach(ns, gen)
        if state.get("validate_success", 0) != 1:
            return gr.update(), gr.update()
        state["validate_success"] = 0
        inputs = state.get("saved_inputs")
        if model_choice not in MODEL_TYPES or inputs is None:
            raise gr.Error(RESTART_ERROR)
        try:
            add_tasks(registry, state, inputs, model_choice)
        except ValueError as exc:
            raise gr.Error(str(exc)) from None
        state["model_type"] = model_choice
        state["validate_success"] = 1
        return gr.HTML(value=queue_html(gen)), gr.Accordion(open=True)

    def prepare_generate_media(state: State) -> tuple[Any, Any, Any, Any]:
        if state.get("validate_success", 0) != 1:
            return (
                gr.Button(visible=True),
                gr.Button(visible=False),
                gr.Column(visible=False),
                gr.update(visible=False),
            )
        return (
            gr.Button(visible=False),
            gr.Button(visible=True),
            gr.Column(visible=True),
            gr.update(visible=False),
        )

    def activate_status(state: State) -> Any:
        if state.get("validate_success", 0) != 1:
            return None
        gen = get_gen_info(state)
        gen["status_display"] = True
        gen["status_log"] = []
        return time.time()

    def process_tasks(state: State, request: gr.Request) -> Iterator[tuple[Any, Any, Any]]:
        ns = state.get("ns") or _namespace(request)
        registry.attach(ns, get_gen_info(state))
        try:
            yield time.time(), time.time(), gr.update()
            for event in run_queue(registry, ns, state):
                if event == "preview":
                    yield time.time(), gr.update(), gr.update()
                else:
                    yield gr.update(), time.time(), gr.update()
        except GenerationError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    def finalize_generation(state: State) -> tuple[Any, ...]:
        gen = get_gen_info(state)
        gen.pop("in_progress", None)
        files = list(gen.get("file_list", []))
        return (
            0,
            gr.Gallery(value=files, selected_index=len(files) - 1 if files else None),
            gr.Button(interactive=True),
            gr.Button(visible=True),
            gr.Button(visible=False),
            gr.HTML(visible=False, value=""),
        )

    def refresh_status_async(state: State, progress: gr.Progress = gr.Progress()) -> Iterator[str]:  # noqa: B008
        gen = get_gen_info(state)
        while True:
            progress_args = gen.get("progress_args")
            if progress_args is not None:
                progress(progress_args[0], desc=progress_args[1])
                gen["progress_args"] = None
            finished = not gen.get("status_display", False)
            log: list[str] = gen.get("status_log", [])
            while log:
                yield log.pop(0)
            if finished:
                return
            time.sleep(0.05)

    def refresh_gallery(state: State) -> tuple[Any, ...]:
        gen = get_gen_info(state)
        files = list(gen.get("file_list", []))
        choice = max(len(files) - 1, 0)
        info = f"{len(files)} video(s) generated"
        return (
            gr.Gallery(value=files, selected_index=choice if files else None),
            choice,
            info,
            queue_html(gen),
            gr.Button(interactive=not gen.get("abort", False)),
        )

    def abort_generation(state: State, client_id: str = "") -> tuple[Any, Any]:
        gen = get_gen_info(state)
        queue = gen.get("queue", [])
        with gen_lock(gen):
            if queue and "in_progress" not in gen:
                del queue[0]
                return gr.update(), gr.HTML(value=queue_html(gen))
        if "in_progress" in gen:
            gen["abort"] = True
            gen["status"] = "Processing Request to abort Current Generation"
            gr.Info(gen["status"])
            return gr.Button(interactive=False), gr.update()
        return gr.Button(interactive=True), gr.update()

    def clear_queue_action(state: State) -> Any:
        gen = get_gen_info(state)
        with gen_lock(gen):
            if gen.get("in_progress"):
                gen["abort"] = True
            gen.get("queue", []).clear()
            gen["prompts_max"] = 0
        return gr.HTML(value=queue_html(gen))

    def update_status(state: State) -> None:
        gen = get_gen_info(state)
        gen["progress_status"] = gen.get("status", "")
        gen["refresh"] = _unique_id()

    def unload_model_if_needed(state: State) -> None:
        return None

    # delete_cache: Gradio drops its copies of served files hourly and at shutdown.
    with gr.Blocks(title="WanGP", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        state = gr.State({})
        target_state = gr.State("state")
        gr.Markdown("# WanGP (mock)")
        with gr.Row():
            with gr.Column():
                model_choice = gr.Dropdown(list(MODEL_TYPES), value=DEFAULT_MODEL, label="Model")
                prompt = gr.Textbox(
                    label="Prompts (each new line of prompt will generate a new video, "
                    "# lines = comments)",
                    lines=3,
                )
                wizard_prompt = gr.Textbox(visible=False)
                wizard_prompt_activated_var = gr.Text("off", visible=False)
                wizard_variables_var = gr.Text("", visible=False)
                negative_prompt = gr.Textbox(label="Negative Prompt")
                resolution = gr.Dropdown(RESOLUTIONS, value="832x480", label="Resolution")
                video_length = gr.Slider(1, 481, value=81, step=1, label="Number of frames")
                seed = gr.Slider(-1, 999999999, value=-1, step=1, label="Seed (-1 for random)")
                num_inference_steps = gr.Slider(
                    1, 100, value=30, step=1, label="Number of Inference Steps"
                )
                guidance_scale = gr.Slider(1.0, 20.0, value=5.0, step=0.5, label="Guidance (CFG)")
                flow_shift = gr.Slider(0.0, 25.0, value=5.0, step=0.1, label="Shift Scale")
                generate_btn = gr.Button("Generate")
                add_to_queue_btn = gr.Button("Add New Prompt To Queue", visible=False)
            with gr.Column():
                current_gallery_tab = gr.Number(0, visible=False)
                output = gr.Gallery(label="Generated videos", columns=3)
                last_choice = gr.Number(value=-1, visible=False)
                gen_status = gr.Text(label="Status", interactive=False)
                gen_info = gr.HTML()
                with gr.Column(visible=False) as current_gen_column:
                    with gr.Row() as current_gen_buttons_row:
                        abort_btn = gr.Button("Abort")
                    with gr.Accordion("Queue Management", open=False) as queue_accordion:
                        queue_html_box = gr.HTML()
                        clear_queue_btn = gr.Button("Clear Queue", variant="stop")
                generate_trigger = gr.Text(visible=False)
                add_to_queue_trigger = gr.Text(visible=False)
                mode = gr.Text(visible=False)
                status_trigger = gr.Text(visible=False)
                output_trigger = gr.Text(visible=False)
                preview_trigger = gr.Text(visible=False)
                refresh_models_trigger = gr.Text(visible=False)

        gen_inputs = [
            prompt,
            negative_prompt,
            resolution,
            video_length,
            seed,
            num_inference_steps,
            guidance_scale,
            flow_shift,
        ]
        wizard_inputs = [
            state,
            wizard_prompt_activated_var,
            wizard_variables_var,
            prompt,
            wizard_prompt,
        ]
        generate_btn.click(
            fn=init_generate, inputs=[state, output, last_choice], outputs=[generate_trigger, mode]
        )
        generate_trigger.change(
            fn=validate_wizard_prompt,
            inputs=wizard_inputs,
            outputs=[prompt],
            show_progress="hidden",
        ).then(fn=save_inputs, inputs=[target_state, *gen_inputs, state], outputs=None).then(
            fn=process_prompt_and_add_tasks,
            inputs=[state, current_gallery_tab, model_choice],
            outputs=[queue_html_box, queue_accordion],
            show_progress="hidden",
        ).then(
            fn=prepare_generate_media,
            inputs=[state],
            outputs=[generate_btn, add_to_queue_btn, current_gen_column, current_gen_buttons_row],
        ).then(fn=activate_status, inputs=[state], outputs=[status_trigger]).then(
            fn=process_tasks,
            inputs=[state],
            outputs=[preview_trigger, output_trigger, refresh_models_trigger],
            show_progress="hidden",
        ).then(
            fn=finalize_generation,
            inputs=[state],
            outputs=[
                current_gallery_tab,
                output,
                abort_btn,
                generate_btn,
                add_to_queue_btn,
                gen_info,
            ],
        ).then(
            fn=lambda s: (
                gr.Accordion(open=False)
                if len(get_gen_info(s).get("queue", [])) <= 1
                else gr.update()
            ),
            inputs=[state],
            outputs=[queue_accordion],
        ).then(fn=unload_model_if_needed, inputs=[state], outputs=[])

        add_to_queue_btn.click(
            fn=lambda: (_unique_id(), ""), inputs=None, outputs=[add_to_queue_trigger, mode]
        )
        add_to_queue_trigger.change(
            fn=validate_wizard_prompt,
            inputs=wizard_inputs,
            outputs=[prompt],
            show_progress="hidden",
        ).then(fn=save_inputs, inputs=[target_state, *gen_inputs, state], outputs=None).then(
            fn=process_prompt_and_add_tasks,
            inputs=[state, current_gallery_tab, model_choice],
            outputs=[queue_html_box, queue_accordion],
            show_progress="hidden",
        ).then(fn=update_status, inputs=[state])

        status_trigger.change(refresh_status_async, inputs=[state], outputs=[gen_status])
        output_trigger.change(
            refresh_gallery,
            inputs=[state],
            outputs=[output, last_choice, gen_info, queue_html_box, abort_btn],
            show_progress="hidden",
        )
        abort_btn.click(
            abort_generation,
            [state, gr.State("")],
            [abort_btn, queue_html_box],
            show_progress="hidden",
        )
        clear_queue_btn.click(fn=clear_queue_action, inputs=[state], outputs=[queue_html_box]).then(
            fn=lambda: (gr.update(visible=False), gr.Accordion(open=False)),
            inputs=None,
            outputs=[current_gen_column, queue_accordion],
        )
    return demo
