"""The Gradio Blocks app: Wan2GP's components and event functions, with Wan2GP's names.

Gradio names each endpoint after its function and appends `_N` to a name already taken, in
the order events are registered (gradio 5.29 `Blocks.set_event_trigger`). The events below
are registered in wgp.py's order (deepbeepmeep/Wan2GP 8681e9f7, `generate_media_tab`), so
`gradio_client` sees the real names: `/process_prompt_and_add_tasks` adds to the queue and
`_1` generates; the generate chain's `validate_wizard_prompt` and `save_inputs` are `_16`.
"""

# No `from __future__ import annotations`: Gradio inspects the gr.Request/gr.Progress
# parameter annotations at runtime.

import inspect
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from .. import NAMESPACE_HEADER
from .._control import clean_namespace
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
from ._fields import DEFAULT_PROMPT, WIZARD_PROMPT_LABEL
from ._form import FIELD_NAMES, FIELDS, build_component

PROMPT_VARS = 10  # wgp.py: the wizard's prompt variable Textboxes
# wgp.py registers validate_wizard_prompt + save_inputs in these chains before the
# generate tab's own (12690-12945; finetune_editor.bind_save x3). Only their first two steps
# are emulated: the rest belongs to flows the mock leaves out (see README).
SIBLING_CHAINS = (
    "extract_settings",
    "extract_audio_settings",
    "prompt_enhancer",
    "save_form",
    "confirm_save_lset",
    "apply_lset",  # save_inputs only
    "export_settings",
    "image_mode_tab",
    "settings_file",
)
FINETUNE_CHAINS = ("finetune_create", "finetune_save", "finetune_save_as")


def _namespace(request: gr.Request | None) -> str:
    headers = getattr(request, "headers", None) or {}
    return clean_namespace(headers.get(NAMESPACE_HEADER.lower()))


def _unique_id() -> str:
    return str(time.time_ns())


def _audio_gallery_state(gen: dict[str, Any]) -> list[Any]:
    """wgp.py `pack_audio_gallery_state`: paths as JSON, selected index, refresh stamp."""
    files = gen.get("audio_file_list", [])
    return [json.dumps(files), len(files) - 1, time.time()]


def _prompt_from_wizard(names: str, wizard_prompt: str, values: tuple[Any, ...]) -> tuple[str, str]:
    """wgp.py 9237 extract_prompt_from_wizard (allow_null_values=False): the first line with
    `{...}` gets a `! {var}="value"` macro line before it; an empty value is an error."""
    out: list[str] = []
    macro_written = False
    for line in wizard_prompt.replace("\r", "").split("\n"):
        if not macro_written and not line.startswith("#") and "{" in line and "}" in line:
            variables = names.split("\n")
            macro = "! "
            for index, (variable, value) in enumerate(zip(variables, values, strict=False)):
                if len(value or "") == 0:
                    return line, "You need to provide a value for '" + variable + "'"
                quoted = ",".join('"' + part + '"' for part in str(value).split("\n"))
                macro += (" : " if index > 0 else "") + "{" + variable + "}" + f"={quoted}"
            if variables:
                macro_written = True
                out.append(macro)
        out.append(line)
    return "\n".join(out), ""


def _with_signature(fn: Callable[..., Any], names: list[str]) -> Callable[..., Any]:
    """Give a `*values` function wgp.py's explicit parameter names (Gradio reads them)."""
    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    fn.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return fn


def build_demo(registry: Registry) -> gr.Blocks:
    """Build the `gr.Blocks(title="WanGP")` app bound to `registry`."""

    def init_generate(
        state: State,
        input_file_list: Any,
        last_choice: Any,
        audio_files_paths: Any,
        audio_file_selected: Any,
    ) -> tuple[str, str]:
        gen = get_gen_info(state)
        gen["last_selected"] = True
        return _unique_id(), ""

    def validate_wizard_prompt(
        state: State,
        wizard_prompt_activated: str,
        wizard_variables_names: str,
        prompt: str,
        wizard_prompt: str,
        *args: Any,
    ) -> str:
        # wgp.py 9266: with the wizard on (the default form), the prompt is rebuilt from
        # `wizard_prompt` (extract_prompt_from_wizard 9237); the `prompt` argument is unused.
        state["validate_success"] = 0
        if wizard_prompt_activated != "on":
            state["validate_success"] = 1
            return prompt
        prompt, errors = _prompt_from_wizard(wizard_variables_names, wizard_prompt or "", args)
        if errors:
            gr.Info(errors)
            return prompt
        state["validate_success"] = 1
        return prompt

    def _save_inputs(target: str, *values: Any) -> None:
        *fields, state, _plugin_data = values
        inputs = dict(zip(FIELD_NAMES, fields, strict=True))
        if target == "settings":
            state["default_settings"] = inputs
            gr.Info("Default Settings have been Saved")
            return
        model_type = state.setdefault("model_type", DEFAULT_MODEL)
        state.setdefault("settings", {})[model_type] = inputs

    save_inputs = _with_signature(_save_inputs, ["target", *FIELD_NAMES, "state", "plugin_data"])
    save_inputs.__name__ = "save_inputs"

    def process_prompt_and_add_tasks(
        state: State, current_gallery_tab: float, model_choice: str, request: gr.Request
    ) -> tuple[Any, Any]:
        # wgp.py 451-468: `ret()` is called without `return`, so a failed validation falls
        # through; a session whose form was never saved raises the restart error.
        gen = get_gen_info(state)
        ns = _namespace(request)
        state["ns"] = ns
        registry.attach(ns, gen)
        gen["last_was_audio"] = current_gallery_tab == 1
        state["validate_success"] = 0
        model_type = state.get("model_type", DEFAULT_MODEL)
        inputs = state.get("settings", {}).get(model_type)
        if model_choice != model_type or inputs is None:
            raise gr.Error(RESTART_ERROR)
        try:
            add_tasks(registry, state, dict(inputs), model_type)
        except ValueError as exc:
            raise gr.Error(str(exc)) from None
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
        # wgp.py 4503 `finalize_generation`: 12 outputs, 6 of them visible to the API.
        gen = get_gen_info(state)
        gen.pop("in_progress", None)
        files = list(gen.get("file_list", []))
        return (
            gr.Tabs(selected="video_images"),
            0,
            gr.Gallery(value=files, selected_index=len(files) - 1 if files else None),
            *_audio_gallery_state(gen),
            gr.Button(interactive=True),
            gr.Button(interactive=True, visible=False),
            gr.Button(visible=True),
            gr.Button(visible=False),
            gr.Column(visible=False),
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
        # wgp.py 4390 `refresh_gallery`, idle branch: 16 outputs, 8 visible to the API.
        gen = get_gen_info(state)
        files = list(gen.get("file_list", []))
        choice = max(len(files) - 1, 0)
        return (
            gr.update(),
            gr.update(),
            gr.Gallery(value=files, selected_index=choice if files else None),
            choice,
            *_audio_gallery_state(gen),
            gr.HTML("", visible=False),
            gr.Button(visible=True),
            gr.Button(visible=False),
            gr.Row(visible=False),
            gr.Row(visible=False),
            queue_html(gen),
            gr.Button(interactive=not gen.get("abort", False)),
            gr.Button(visible=False),
            gr.Button(visible=False),
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

    def goto_model_type_with_filter(state: State, model_type: str) -> tuple[Any, ...]:
        # wgp.py 10096: the default config has a model output filter (create_ui 13337), so
        # the switch chain calls this variant; its 5th output is the filter's refresh box.
        if model_type not in MODEL_TYPES:
            return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
        return gr.update(), gr.update(), gr.Dropdown(value=model_type), gr.update(), gr.update()

    def change_model_from_target(state: State, model_type: str) -> tuple[str, str]:
        # wgp.py 10105: switches the session's model and refreshes description and header.
        if model_type in MODEL_TYPES:
            state["model_type"] = model_type
        current = state.get("model_type", DEFAULT_MODEL)
        return f"<p>Wan2.1 {current} (mock)</p>", f"Model: **{current}**"

    def preload_model_when_switching(state: State) -> Any:
        return gr.update()

    def move_item(step: int, st: Any, gallery: Any) -> tuple[Any, Any]:
        """AdvancedMediaGallery `_on_move`: shift the selected item left or right."""
        items = list(gallery or [])
        selected = (st or {}).get("selected") if isinstance(st, dict) else None
        if selected is None or not 0 <= selected + step < len(items):
            return gr.update(), st
        items[selected], items[selected + step] = items[selected + step], items[selected]
        return gr.Gallery(value=items, selected_index=selected + step), {
            **st,
            "selected": selected + step,
        }

    # delete_cache: Gradio drops its copies of served files hourly and at shutdown.
    with gr.Blocks(title="WanGP", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        state = gr.State({})
        plugin_data = gr.State({})
        gr.Markdown("# WanGP (mock)")
        with gr.Row():
            with gr.Column():
                model_family = gr.Dropdown(["wan"], value="wan", show_label=False)
                model_base_type_choice = gr.Dropdown(["t2v"], value="t2v", show_label=False)
                model_choice = gr.Dropdown(list(MODEL_TYPES), value=DEFAULT_MODEL, show_label=False)
                model_description = gr.HTML("")
                header = gr.Markdown("")
                form = {field.name: build_component(field) for field in FIELDS}
                # wgp.py 11716-11746: `advanced` off, so the wizard is on and shows the prompt.
                wizard_prompt = gr.Textbox(
                    value=DEFAULT_PROMPT, label=WIZARD_PROMPT_LABEL, visible=True, lines=3
                )
                wizard_prompt_activated_var = gr.Text("on", visible=False)
                wizard_variables_var = gr.Text("", visible=False)
                prompt_vars = [gr.Textbox(visible=False) for _ in range(PROMPT_VARS)]
                generate_btn = gr.Button("Generate")
                add_to_queue_btn = gr.Button("Add New Prompt To Queue", visible=False)
                save_settings_btn = gr.Button("Set Settings as Default", visible=False)
                reset_settings_btn = gr.Button("Reset Settings", visible=False)
                sibling_triggers = {
                    name: gr.Button(visible=False) for name in SIBLING_CHAINS + FINETUNE_CHAINS
                }
            with gr.Column():
                gen_status = gr.Text(interactive=False, label="Status", lines=1, max_lines=1)
                status_trigger = gr.Text(interactive=False, visible=False)
                abort_client_id = gr.Text(interactive=False, visible=False)
                current_gallery_tab = gr.Number(0, visible=False)
                with gr.Tabs() as gallery_tabs:
                    with gr.Tab("Video / Images Gallery", id="video_images"):
                        output = gr.Gallery(
                            value=[], label="Generated videos", show_label=False, columns=[3]
                        )
                    with gr.Tab("Audio Files Gallery", id="audio"):
                        audio_files_paths = gr.Textbox(value="[]", visible=False)
                        audio_file_selected = gr.Number(value=-1, visible=False)
                        audio_gallery_refresh_trigger = gr.Textbox(value="", visible=False)
                output_trigger = gr.Text(interactive=False, visible=False)
                refresh_models_trigger = gr.Text(interactive=False, visible=False)
                refresh_form_trigger = gr.Text(interactive=False, visible=False)
                model_choice_target = gr.Text(interactive=False, visible=False)
                # shared/gradio/model_output_filter.py 84: the filter's refresh trigger.
                filter_refresh_trigger = gr.Textbox(value="", show_label=False, visible=False)
                generate_trigger = gr.Text(visible=False)
                add_to_queue_trigger = gr.Text(visible=False)
                with gr.Column(visible=False) as current_gen_column:
                    preview_trigger = gr.Text(visible=False)
                    gen_info = gr.HTML(visible=False, min_height=1)
                    with gr.Row() as current_gen_buttons_row:
                        onemorewindow_btn = gr.Button("Extend this Sample", visible=False)
                        abort_btn = gr.Button("Abort")
                        earlystop_btn = gr.Button("Early Stop")
                with gr.Accordion("Queue Management", open=False) as queue_accordion:
                    queue_html_box = gr.HTML(value=queue_html({}))
                    clear_queue_btn = gr.Button("Clear Queue", size="sm", variant="stop")
        target_state = gr.Text(value="state", interactive=False, visible=False)
        target_settings = gr.Text(value="settings", interactive=False, visible=False)
        last_choice = gr.Number(value=-1, interactive=False, visible=False)

        # 1. AdvancedMediaGallery._wire_events (shared/gradio/gallery.py 478-490), once per
        # image gallery of the form: its move-left/right lambdas are /lambda, /lambda_1, ...
        for name in ("image_start", "image_end", "image_refs"):
            amg_state = gr.State({})
            left = gr.Button("◀ Left", size="sm", visible=False)
            right = gr.Button("Right ▶", size="sm", visible=False)
            gallery = form[name]
            left.click(
                lambda st, gallery: move_item(-1, st, gallery),
                inputs=[amg_state, gallery],
                outputs=[gallery, amg_state],
                trigger_mode="always_last",
            )
            right.click(
                lambda st, gallery: move_item(+1, st, gallery),
                inputs=[amg_state, gallery],
                outputs=[gallery, amg_state],
                trigger_mode="always_last",
            )

        # 2. wgp.py 12640-12681: status, gallery refresh, abort.
        status_trigger.change(
            refresh_status_async,
            inputs=[state],
            outputs=[gen_status],
            show_progress_on=[gen_status],
        )
        output_trigger.change(
            refresh_gallery,
            inputs=[state],
            outputs=[
                gallery_tabs,
                current_gallery_tab,
                output,
                last_choice,
                audio_files_paths,
                audio_file_selected,
                audio_gallery_refresh_trigger,
                gen_info,
                generate_btn,
                add_to_queue_btn,
                current_gen_column,
                current_gen_buttons_row,
                queue_html_box,
                abort_btn,
                earlystop_btn,
                onemorewindow_btn,
            ],
            show_progress="hidden",
        )
        abort_btn.click(
            abort_generation,
            [state, gr.State("")],
            [abort_btn, queue_html_box],
            show_progress="hidden",
        )
        abort_client_id.change(
            abort_generation,
            [state, abort_client_id],
            [abort_btn, queue_html_box],
            show_progress="hidden",
        )

        gen_inputs = [form[name] for name in FIELD_NAMES] + [state, plugin_data]
        wizard_inputs = [
            state,
            wizard_prompt_activated_var,
            wizard_variables_var,
            form["prompt"],
            wizard_prompt,
            *prompt_vars,
        ]

        def validate_then_save(trigger: Any, target: Any = target_state) -> Any:
            return trigger(
                fn=validate_wizard_prompt,
                inputs=wizard_inputs,
                outputs=[form["prompt"]],
                show_progress="hidden",
            ).then(fn=save_inputs, inputs=[target, *gen_inputs], outputs=None)

        # 3. wgp.py 12690: "Set Settings as Default" owns the unsuffixed names.
        validate_then_save(save_settings_btn.click, target_settings)
        # 4. wgp.py 12693-12837: the other form-saving chains, in order.
        for name in SIBLING_CHAINS:
            if name == "apply_lset":
                sibling_triggers[name].click(fn=save_inputs, inputs=[target_state, *gen_inputs])
            else:
                validate_then_save(sibling_triggers[name].click)
        # 5. wgp.py 12850-12871: model switch.
        validate_then_save(model_choice_target.change).then(
            fn=goto_model_type_with_filter,
            inputs=[state, model_choice_target],
            outputs=[
                model_family,
                model_base_type_choice,
                model_choice,
                refresh_form_trigger,
                filter_refresh_trigger,
            ],
            show_progress="hidden",
        ).then(
            fn=change_model_from_target,
            inputs=[state, model_choice_target],
            outputs=[model_description, header],
            show_progress="hidden",
        ).then(fn=preload_model_when_switching, inputs=[state], outputs=[gen_status])
        # 6. shared/gradio/finetune_editor.py bind_save (x3), then wgp.py 12924-12951.
        for name in FINETUNE_CHAINS:
            validate_then_save(sibling_triggers[name].click)
        validate_then_save(reset_settings_btn.click)
        refresh_form_trigger.change(
            fn=validate_wizard_prompt,
            inputs=wizard_inputs,
            outputs=[form["prompt"]],
            show_progress="hidden",
        )

        # 7. wgp.py 12961-13011: generate and add-to-queue (the queue chain first).
        generate_btn.click(
            fn=init_generate,
            inputs=[state, output, last_choice, audio_files_paths, audio_file_selected],
            outputs=[generate_trigger, form["mode"]],
        )
        # Real registers 41 more lambdas before this one (post-processing, modal, toolbar,
        # file pickers, finetune editor, output filter; see README), hence the explicit names.
        add_to_queue_btn.click(
            fn=lambda: (_unique_id(), ""),
            inputs=None,
            outputs=[add_to_queue_trigger, form["mode"]],
            api_name="lambda_47",
        )
        validate_then_save(add_to_queue_trigger.change).then(
            fn=process_prompt_and_add_tasks,
            inputs=[state, current_gallery_tab, model_choice],
            outputs=[queue_html_box, queue_accordion],
            show_progress="hidden",
        ).then(fn=update_status, inputs=[state])
        validate_then_save(generate_trigger.change).then(
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
            finalize_generation,
            inputs=[state],
            outputs=[
                gallery_tabs,
                current_gallery_tab,
                output,
                audio_files_paths,
                audio_file_selected,
                audio_gallery_refresh_trigger,
                abort_btn,
                earlystop_btn,
                generate_btn,
                add_to_queue_btn,
                current_gen_column,
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
            api_name="lambda_48",
        ).then(unload_model_if_needed, inputs=[state], outputs=[])

        # 8. wgp.py 13097: clear queue.
        clear_queue_btn.click(fn=clear_queue_action, inputs=[state], outputs=[queue_html_box]).then(
            fn=lambda: (gr.update(visible=False), gr.Accordion(open=False)),
            inputs=None,
            outputs=[current_gen_column, queue_accordion],
            api_name="lambda_51",  # _49 (load-queue chain) and _50 (save queue) stay out
        )
    return demo
