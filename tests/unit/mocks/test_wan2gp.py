"""Wan2GP mock conformance through gradio_client (1.10, as pinned by gradio 5.29) and httpx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from harness._waiting import wait_for
from harness.mocks.wan2gp._video import frame_pixels

# Real source: deepbeepmeep/Wan2GP, commit 8681e9f777f9f847f74a0bdefd13d5b9a6efe12d.
REAL = "deepbeepmeep/Wan2GP@8681e9f7"
RESTART = (
    "Webform can not be used as the App has been restarted since the form was displayed. "
    "Please refresh the page"
)


# wgp.py 3295-3302: a fresh install (no last_model_type) opens on "t2v", the session's model
# that process_prompt_and_add_tasks' `model_choice` must name.
MODEL = "t2v"
VALIDATE = "/validate_wizard_prompt_16"
SAVE_INPUTS = "/save_inputs_16"
GENERATE = "/process_prompt_and_add_tasks_1"


def _endpoints(client: Client) -> dict[str, Any]:
    return client.view_api(return_format="dict", print_info=False)["named_endpoints"]


def endpoint_args(client: Client, api_name: str, **values: Any) -> list[Any]:
    """Every parameter of `api_name` by position: the form default unless named in `values`."""
    params = _endpoints(client)[api_name]["parameters"]
    return [values.get(p["parameter_name"], p["parameter_default"]) for p in params]


@pytest.fixture(scope="module")
def base(mock_server_module: Callable[..., str]) -> str:
    return mock_server_module("wan2gp", "--step-seconds", "0.02", "--seed", "5", timeout=90)


@pytest.fixture
def client(base: str, namespace: str) -> Iterator[Client]:
    gradio = Client(base + "/", headers={"X-Harness-Namespace": namespace}, verbose=False)
    try:
        yield gradio
    finally:
        gradio.close()


def _enqueue(
    client: Client,
    prompt: str,
    frames: int = 17,
    steps: int = 3,
    seed: int = 7,
    resolution: str = "832x480",
) -> str:
    """The Generate chain up to the queue: validate_wizard_prompt_16 -> save_inputs_16 ->
    process_prompt_and_add_tasks_1 (wgp.py 12980-12990); returns the queue HTML."""
    form = {
        "prompt": prompt,
        "resolution": resolution,
        "video_length": frames,
        "seed": seed,
        "num_inference_steps": steps,
    }
    # The default form has the prompt wizard on: validate rebuilds the prompt from
    # wizard_prompt (wgp.py 9266), so a client fills both boxes.
    wizard = endpoint_args(client, VALIDATE, wizard_prompt=prompt, **form)
    assert client.predict(*wizard, api_name=VALIDATE) == prompt
    client.predict(
        *endpoint_args(client, SAVE_INPUTS, target="state", **form), api_name=SAVE_INPUTS
    )
    queue = client.predict(0, MODEL, api_name=GENERATE)
    client.predict(api_name="/prepare_generate_media")
    return str(queue["value"] if isinstance(queue, dict) else queue)


def _gallery_files(client: Client) -> list[str]:
    gallery = client.predict(api_name="/refresh_gallery")[1]
    return [item["video"] for item in gallery["value"]]


def test_generation_chain_produces_a_real_mp4(client: Client, base: str, namespace: str) -> None:
    queue = _enqueue(client, "a red fox in snow", frames=24, steps=3, seed=1234)
    assert "a red fox in snow" in queue
    assert client.predict(api_name="/activate_status")
    status_job = client.submit(api_name="/refresh_status_async")
    job = client.submit(api_name="/process_tasks")
    job.result(timeout=60)
    assert len(job.outputs()) >= 1 + 3 + 1  # start, one per denoising step, one per file
    statuses = status_job.outputs() if status_job.result(timeout=30) is not None else []
    assert any("Denoising Step" in s for s in statuses)
    assert statuses[-1].startswith("Total Generation Time")
    finalized = client.predict(api_name="/finalize_generation")
    files = [item["video"] for item in finalized[1]["value"]]
    assert len(files) == 1 and Path(files[0]).suffix == ".mp4"
    with av.open(files[0]) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        assert stream.average_rate == 16
        assert container.duration is not None and abs(container.duration / 1e6 - 1.5) < 0.01
    assert len(frames) == 24 and frames[0].shape == (36, 64, 3)
    expected = frame_pixels("a red fox in snow", 1234, 0, 64, 36)
    assert abs(int(frames[0][18, 40].astype(int).sum()) - int(expected[18, 40].sum())) < 30
    journal = httpx.get(
        f"{base}/__harness/requests", headers={"X-Harness-Namespace": namespace}
    ).json()
    assert any("/gradio_api/file=" in e["path"] and e["status"] == 200 for e in journal)


def test_each_prompt_paragraph_is_a_task_and_queue_empties(client: Client) -> None:
    # Default multi_prompts_gen_type "PG" (models/_settings.json): one task per paragraph,
    # `#` lines dropped (shared/utils/prompt_parser.py split_prompt_units).
    queue = _enqueue(client, "first clip\n\n# a comment\nsecond clip", steps=1)
    assert queue.count("data-task-id") == 2
    client.predict(api_name="/activate_status")
    client.submit(api_name="/process_tasks").result(timeout=60)
    files = _gallery_files(client)
    assert len(files) == 2 and "first_clip" in files[0] and "second_clip" in files[1]
    assert "Queue is empty" in client.predict(api_name="/refresh_gallery")[7]


def test_abort_stops_the_running_generation(client: Client) -> None:
    _enqueue(client, "very long render", frames=8, steps=100)
    client.predict(api_name="/activate_status")
    job = client.submit(api_name="/process_tasks")
    wait_for(lambda: len(job.outputs()) >= 3, 20, "the job started and denoising", interval=0.01)
    client.predict(api_name="/abort_generation")
    job.result(timeout=30)
    assert len(job.outputs()) < 100
    assert _gallery_files(client) == []
    assert "Queue is empty" in client.predict(api_name="/refresh_gallery")[7]


def test_clear_queue_drops_pending_tasks(client: Client) -> None:
    queue = _enqueue(client, "one\n\ntwo\n\nthree", steps=1)
    assert queue.count("data-task-id") == 3
    cleared = client.predict(api_name="/clear_queue_action")
    assert "Queue is empty" in str(cleared)
    client.predict(api_name="/activate_status")
    client.submit(api_name="/process_tasks").result(timeout=30)
    assert _gallery_files(client) == []


def test_sessions_are_isolated(base: str, namespace: str, client: Client) -> None:
    _enqueue(client, "mine only", steps=1)
    client.predict(api_name="/activate_status")
    client.submit(api_name="/process_tasks").result(timeout=30)
    other = Client(base + "/", headers={"X-Harness-Namespace": namespace}, verbose=False)
    try:
        assert len(_gallery_files(client)) == 1 and _gallery_files(other) == []
    finally:
        other.close()


def test_errors_surface_as_app_errors(client: Client) -> None:
    with pytest.raises(AppError, match="not in the list of choices"):
        _enqueue(client, "bad size", resolution="huge")
    _enqueue(client, "this will FAIL_GEN now", steps=2)
    client.predict(api_name="/activate_status")
    with pytest.raises(AppError, match="CUDA out of memory"):
        client.submit(api_name="/process_tasks").result(timeout=30)
    assert _gallery_files(client) == []


def test_reset_empties_the_namespace_sessions(base: str, namespace: str, client: Client) -> None:
    assert _enqueue(client, "a\n\nb", steps=1).count("data-task-id") == 2
    resp = httpx.post(f"{base}/__harness/reset", headers={"X-Harness-Namespace": namespace})
    assert resp.status_code == 200
    assert "Queue is empty" in client.predict(api_name="/refresh_gallery")[7]


def test_root_is_the_gradio_page_and_api_health_is_absent(base: str) -> None:
    root = httpx.get(base + "/")
    assert root.status_code == 200 and "text/html" in root.headers["content-type"]
    assert httpx.get(base + "/config").json()["title"] == "WanGP"
    assert httpx.get(base + "/api/health").status_code == 404


def test_health_route_switch(mock_server: Callable[..., str]) -> None:
    url = mock_server("wan2gp", "--health-route", timeout=90)
    assert httpx.get(url + "/api/health").json() == {"status": "ok"}
    assert httpx.get(url + "/").status_code == 200


def test_namespace_settings_change_the_fail_token(
    base: str, namespace: str, client: Client
) -> None:
    headers = {"X-Harness-Namespace": namespace}
    resp = httpx.put(
        f"{base}/__harness/wan2gp/settings", headers=headers, json={"failToken": "BOOM"}
    )
    assert resp.json()["failToken"] == "BOOM"
    assert (
        httpx.put(
            f"{base}/__harness/wan2gp/settings", headers=headers, json={"stepSeconds": "slow"}
        ).status_code
        == 400
    )
    _enqueue(client, "BOOM goes the render", steps=1)
    client.predict(api_name="/activate_status")
    with pytest.raises(AppError, match="CUDA out of memory"):
        client.submit(api_name="/process_tasks").result(timeout=30)
    other = httpx.get(
        f"{base}/__harness/wan2gp/settings", headers={"X-Harness-Namespace": namespace + "-x"}
    ).json()
    assert other["failToken"] == "FAIL_GEN"


# --- Conformance with the real app's API (REAL: wgp.py and shared/gradio/*, read statically;
# gradio 5.29 names a taken endpoint name `name_N` in registration order). ---


def test_fresh_session_add_to_queue_raises_the_restart_error(client: Client) -> None:
    # wgp.py 451-468 process_prompt_and_add_tasks: `ret()` is called without `return`, so an
    # unsaved form reaches `get_model_settings(...) is None` and raises this gr.Error.
    for api_name in ("/process_prompt_and_add_tasks", GENERATE):
        with pytest.raises(AppError) as caught:
            client.predict(0, MODEL, api_name=api_name)
        assert str(caught.value) == RESTART


def test_add_to_queue_chain_is_registered_before_generate(client: Client) -> None:
    # wgp.py 12962-12978: add_to_queue_trigger.change -> validate_wizard_prompt_15 ->
    # save_inputs_15 -> process_prompt_and_add_tasks -> update_status; 12980-13011: the
    # generate chain gets _16/_16/_1.
    names = list(_endpoints(client))
    queue_chain = ["/validate_wizard_prompt_15", "/save_inputs_15", "/process_prompt_and_add_tasks"]
    generate_chain = [VALIDATE, SAVE_INPUTS, GENERATE, "/prepare_generate_media"]
    generate_chain += ["/activate_status", "/process_tasks", "/finalize_generation"]
    positions = [names.index(name) for name in [*queue_chain, "/update_status", *generate_chain]]
    assert positions == sorted(positions)
    form = {"prompt": "queued only", "video_length": 5, "num_inference_steps": 1}
    client.predict(
        *endpoint_args(client, "/validate_wizard_prompt_15", **form),
        api_name="/validate_wizard_prompt_15",
    )
    client.predict(
        *endpoint_args(client, "/save_inputs_15", target="state", **form),
        api_name="/save_inputs_15",
    )
    queue = client.predict(0, MODEL, api_name="/process_prompt_and_add_tasks")
    assert "queued only" in str(queue)
    assert client.predict(api_name="/update_status") == ()  # no outputs


def test_unsuffixed_form_endpoints_are_set_settings_as_default(client: Client) -> None:
    # wgp.py 12690: save_settings_btn.click(validate_wizard_prompt).then(save_inputs,
    # [target_settings] + gen_inputs) is the first registration of both functions.
    endpoints = _endpoints(client)
    target = endpoints["/save_inputs"]["parameters"][0]
    assert target["parameter_default"] == "settings"
    assert endpoints["/save_inputs_1"]["parameters"][0]["parameter_default"] == "state"
    client.predict(
        *endpoint_args(client, "/validate_wizard_prompt", prompt="p"),
        api_name="/validate_wizard_prompt",
    )
    client.predict(*endpoint_args(client, "/save_inputs", prompt="p"), api_name="/save_inputs")
    with pytest.raises(AppError, match="restarted"):  # defaults saved, the session form not
        client.predict(0, MODEL, api_name="/process_prompt_and_add_tasks")


def test_save_inputs_signature(client: Client) -> None:
    # wgp.py 10141 save_inputs(target, image_mask_guide, ..., mode, state, plugin_data) and
    # 12686 `[target_state] + gen_inputs`: state, plugin_data and self_refiner_plan are States.
    params = _endpoints(client)[SAVE_INPUTS]["parameters"]
    assert len(params) == 129
    names = [p["parameter_name"] for p in params]
    assert names[:6] == [
        "target",
        "image_mask_guide",
        "lset_name",
        "client_id",
        "image_mode",
        "prompt",
    ]
    assert names[-3:] == ["output_filename", "config", "mode"]
    assert "self_refiner_plan" not in names and "state" not in names
    assert params[0]["component"] == "Textbox"  # target_state = gr.Text(value="state")
    kinds = {p["parameter_name"]: p["component"] for p in params}
    assert kinds["image_mask_guide"] == "Imageeditor" and kinds["image_start"] == "Gallery"
    assert kinds["video_length"] == "Slider" and kinds["resolution"] == "Dropdown"
    labels = {p["parameter_name"]: p["label"] for p in params}
    assert labels["seed"] == "Seed (-1 for random)"
    assert kinds["temporal_upsampling"] == kinds["spatial_upsampling"] == "Textbox"


def test_loras_choices_is_wan2gps_hierarchy_selector(client: Client) -> None:
    """deepbeepmeep/Wan2GP 8681e9f7 wgp.py 12021: `loras_choices = HierarchySelector(...,
    label="Activated LoRAs")`, parameter 36 of every save_inputs form; its class
    (shared/gradio/hierarchy_selector/hierarchy_selector.py) is a FormComponent whose
    api_info is an array of strings and example_payload []. Gradio 5.29's view_api names the
    component after the class (get_block_name, capitalised)."""
    endpoints = _endpoints(client)
    forms = [name for name in endpoints if name.startswith("/save_inputs")]
    assert len(forms) == 17
    for name in forms:
        param = endpoints[name]["parameters"][36]
        assert param == {
            "label": "Activated LoRAs",
            "parameter_name": "loras_choices",
            "parameter_has_default": True,
            "parameter_default": [],
            "type": {"type": "array", "items": {"type": "string"}},
            "python_type": {"type": "list[str]", "description": ""},
            "component": "Hierarchyselector",
            "example_input": [],
        }, name


def test_save_inputs_labels_and_defaults_are_the_default_models(client: Client) -> None:
    # Labels wgp.py computes, evaluated for a fresh install's t2v: get_prompt_labels("PG")
    # (10829), compute_video_length_label(16, 81) (10996), the fit_canvas 0 resolution label
    # (11862), shared/extra_settings.py (switch_threshold without multiple_submodels, NAG on);
    # defaults: models/_settings.json + get_factory_settings (3160) + wan_handler.py 1253.
    params = {p["parameter_name"]: p for p in _endpoints(client)[SAVE_INPUTS]["parameters"]}
    labels = {name: p["label"] for name, p in params.items()}
    assert labels["prompt"] == (
        "Prompts (each Paragraph of Prompt separated by an Empty Line will generate a new "
        "Video, # lines = comments, ! lines = macros)"
    )
    assert labels["video_length"] == "Number of frames (16 frames = 1s), current duration: 5.1s"
    assert labels["resolution"].startswith("Resolution Budget")
    assert labels["switch_threshold"] == "Guidance Switch Threshold"
    assert labels["negative_prompt"].startswith("Negative Prompt (ignored if NAG is disabled")
    assert labels["top_k"] == "Top-k (0 = disabled)"
    defaults = {name: p["parameter_default"] for name, p in params.items()}
    assert defaults["prompt"].startswith("A large orange octopus")
    assert (defaults["resolution"], defaults["video_length"]) == ("832x480", 81)
    assert (defaults["num_inference_steps"], defaults["flow_shift"]) == (30, 5.0)
    assert (defaults["sample_solver"], defaults["multi_prompts_gen_type"]) == ("unipc", "PG")
    assert defaults["perturbation_layers"] == [9] and defaults["speakers_locations"] == (
        "0:45 55:100"
    )
    # The 480p group of shared/resolutions.py's default choices: 1280x720 is refused.
    choices = params["resolution"]["type"]["enum"]
    assert choices == ["832x624", "624x832", "720x720", "832x480", "480x832"]


def test_validate_init_and_result_signatures(client: Client) -> None:
    endpoints = _endpoints(client)
    # wgp.py 9266 validate_wizard_prompt(state, wizard_prompt_activated, wizard_variables_names,
    # prompt, wizard_prompt, *args) with 10 prompt_vars: 14 visible inputs, returns prompt.
    validate = endpoints[VALIDATE]
    assert len(validate["parameters"]) == 14 and len(validate["returns"]) == 1
    assert [p["parameter_name"] for p in validate["parameters"][:4]] == [
        "wizard_prompt_activated",
        "wizard_variables_names",
        "prompt",
        "wizard_prompt",
    ]
    # wgp.py 9444 init_generate(state, input_file_list, last_choice, audio_files_paths,
    # audio_file_selected), 12961.
    init = endpoints["/init_generate"]
    assert [p["parameter_name"] for p in init["parameters"]] == [
        "input_file_list",
        "last_choice",
        "audio_files_paths",
        "audio_file_selected",
    ]
    # wgp.py 13000 finalize_generation outputs: Tabs, Buttons, Column are not API values.
    final = [r["component"] for r in endpoints["/finalize_generation"]["returns"]]
    assert final == ["Number", "Gallery", "Textbox", "Number", "Textbox", "Html"]
    # wgp.py 12644 refresh_gallery outputs: current_gallery_tab first, queue_html last.
    gallery = [r["component"] for r in endpoints["/refresh_gallery"]["returns"]]
    assert gallery == [
        "Number",
        "Gallery",
        "Number",
        "Textbox",
        "Number",
        "Textbox",
        "Html",
        "Html",
    ]
    # wgp.py 451 process_prompt_and_add_tasks(state, current_gallery_tab, model_choice).
    for api_name in ("/process_prompt_and_add_tasks", GENERATE):
        assert [p["parameter_name"] for p in endpoints[api_name]["parameters"]] == [
            "current_gallery_tab",
            "model_choice",
        ]


def test_gallery_lambdas_and_model_switch(client: Client) -> None:
    # shared/gradio/gallery.py 478-490 AdvancedMediaGallery._wire_events: btn_left/btn_right
    # lambdas (st, gallery) -> [gallery, state], the first lambdas wgp.py registers.
    endpoints = _endpoints(client)
    for api_name in ("/lambda", "/lambda_1", "/lambda_2"):
        lam = endpoints[api_name]
        assert [p["parameter_name"] for p in lam["parameters"]] == ["gallery"]
        assert [r["component"] for r in lam["returns"]] == ["Gallery"]
    labels = [endpoints[n]["parameters"][0]["label"] for n in ("/lambda", "/lambda_2")]
    assert labels[0].startswith("Images as starting points")
    # wgp.py 10105 change_model_from_target(state, model_type), 12861: outputs
    # [model_description, header].
    switch = endpoints["/change_model_from_target"]
    assert [p["parameter_name"] for p in switch["parameters"]] == ["model_type"]
    assert [r["component"] for r in switch["returns"]] == ["Html", "Markdown"]
    _description, header = client.predict("t2v_1.3B", api_name="/change_model_from_target")
    assert "t2v_1.3B" in header
    with pytest.raises(AppError, match="restarted"):  # model_choice no longer the state's
        client.predict(0, MODEL, api_name="/process_prompt_and_add_tasks")


def test_model_switch_chain_uses_the_output_filter_variant(client: Client) -> None:
    # wgp.py 12847-12849: with the model output filter of the default config (create_ui
    # 13337 `not args.lock_model`), model_choice_target.change calls
    # goto_model_type_with_filter (10096), whose outputs add the filter's refresh Textbox.
    endpoints = _endpoints(client)
    assert "/goto_model_type" not in endpoints
    goto = endpoints["/goto_model_type_with_filter"]
    assert [p["parameter_name"] for p in goto["parameters"]] == ["model_type"]
    assert [r["component"] for r in goto["returns"]] == [
        "Dropdown",
        "Dropdown",
        "Dropdown",
        "Textbox",
        "Textbox",
    ]
    # The session's model is a fresh install's: the Dropdown default that clients pass back.
    generate = endpoints[GENERATE]["parameters"]
    assert generate[1]["parameter_default"] == MODEL


def test_lambda_suffixes_follow_the_real_registration_order(client: Client) -> None:
    # Lambdas registered before the generate chain's, in wgp.py's order (deepbeepmeep/Wan2GP
    # 8681e9f7): 6 gallery moves (shared/gradio/gallery.py 479/485 x3), skip-steps,
    # self-refiner and attention visibility (wgp.py 12062, 12218, 12403), the image modal
    # (12657), the settings export tail (12805), 3 model toolbar (model_selector_toolbar.py
    # 231/248/259), 14 file-picker closes (local_file_picker.py 246/247 x7, finetune editor),
    # 18 finetune editor (finetune_editor.py 299-439), the output filter (112): the
    # Add-to-queue button's is /lambda_47 (12962), the Generate chain's accordion /lambda_48
    # (12980-13008); the load-queue (13013) and save-queue (13081) lambdas take _49 and _50,
    # Clear Queue's is /lambda_51 (13097).
    endpoints = _endpoints(client)
    lambdas = sorted(n for n in endpoints if n.startswith("/lambda"))
    expected = ["/lambda", *(f"/lambda_{i}" for i in (1, 2, 3, 4, 5, 47, 48, 51))]
    assert lambdas == sorted(expected)
    assert [r["component"] for r in endpoints["/lambda_47"]["returns"]] == ["Textbox"] * 2
    assert endpoints["/lambda_48"]["parameters"] == endpoints["/lambda_48"]["returns"] == []
    assert endpoints["/lambda_51"]["returns"] == []  # a Column and an Accordion: not values


def test_wizard_prompt_is_on_by_default(client: Client) -> None:
    # wgp.py 11716-11746: `advanced` off, so wizard_prompt_activated_var starts "on" and the
    # wizard box holds the default prompt; validate_wizard_prompt (9266) then returns the
    # prompt rebuilt from wizard_prompt (extract_prompt_from_wizard 9237), not `prompt`.
    params = _endpoints(client)[VALIDATE]["parameters"]
    defaults = {p["parameter_name"]: p["parameter_default"] for p in params}
    assert defaults["wizard_prompt_activated"] == "on"
    assert defaults["wizard_prompt"].startswith("A large orange octopus")
    args = endpoint_args(client, VALIDATE, prompt="ignored")
    assert client.predict(*args, api_name=VALIDATE) == defaults["wizard_prompt"]
    off = endpoint_args(client, VALIDATE, wizard_prompt_activated="off", prompt="kept")
    assert client.predict(*off, api_name=VALIDATE) == "kept"
    # A {variable} line gets its macro line; an empty value is refused (the line comes back).
    filled = endpoint_args(
        client, VALIDATE, wizard_variables_names="animal", wizard_prompt="a {animal}"
    )
    filled[4] = "fox"  # param_5: the first prompt variable
    assert client.predict(*filled, api_name=VALIDATE) == '! {animal}="fox"\na {animal}'
    filled[4] = ""
    assert client.predict(*filled, api_name=VALIDATE) == "a {animal}"


def test_line_mode_makes_one_task_per_line(client: Client) -> None:
    # shared/utils/prompt_parser.py split_prompt_units: a mode without "P" ("G") splits lines.
    form = {"prompt": "one\ntwo", "multi_prompts_gen_type": "G", "num_inference_steps": 1}
    client.predict(*endpoint_args(client, VALIDATE, wizard_prompt="one\ntwo"), api_name=VALIDATE)
    client.predict(
        *endpoint_args(client, SAVE_INPUTS, target="state", **form), api_name=SAVE_INPUTS
    )
    queue = client.predict(0, MODEL, api_name=GENERATE)
    assert str(queue).count("data-task-id") == 2
