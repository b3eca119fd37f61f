"""Wan2GP clips through gradio_client, calling the Generate button's chain step by step.

Each attempt uses a fresh Client (a fresh Gradio session, so its queue holds only this clip).
The endpoint names are Wan2GP's (8681e9f7): the Generate chain is validate_wizard_prompt_16 ->
save_inputs_16 -> process_prompt_and_add_tasks_1 -> prepare_generate_media -> activate_status
-> process_tasks (streams until the clip is written) -> finalize_generation, whose gallery names
the MP4 that gradio_client has downloaded. The form endpoints take every form field (129 for
save_inputs), so the arguments are built from `view_api`: the form's defaults, overridden by
parameter name. The prompt wizard is on in Wan2GP's default form, so the prompt goes into
`wizard_prompt` too, and `model_choice` is the server's current model (the Dropdown default).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradio_client import Client
from gradio_client.exceptions import AppError

from ._backends import Backends
from ._errors import PipelineError
from ._retry import call

VALIDATE = "/validate_wizard_prompt_16"
SAVE_INPUTS = "/save_inputs_16"
GENERATE = "/process_prompt_and_add_tasks_1"


def endpoint_args(client: Client, api_name: str, **values: Any) -> list[Any]:
    """Positional arguments for `api_name`: each parameter's default unless given by name."""
    endpoint = client.view_api(return_format="dict", print_info=False)["named_endpoints"][api_name]
    return [
        values.get(param["parameter_name"], param["parameter_default"])
        for param in endpoint["parameters"]
    ]


@dataclass(frozen=True)
class ClipRequest:
    """What to render."""

    prompt: str
    frames: int
    steps: int
    seed: int
    resolution: str


def generate_clip(
    url: str, headers: dict[str, str], request: ClipRequest, timeout: float, download: Path
) -> Path:
    """Blocking: run the generation chain in one Gradio session; path of the downloaded MP4."""
    client = Client(
        url + "/",
        headers=headers,
        verbose=False,
        download_files=str(download),
        httpx_kwargs={"timeout": timeout},
    )
    try:
        form = {
            "prompt": request.prompt,
            "resolution": request.resolution,
            "video_length": request.frames,
            "seed": request.seed,
            "num_inference_steps": request.steps,
        }
        wizard = endpoint_args(client, VALIDATE, wizard_prompt=request.prompt, **form)
        client.predict(*wizard, api_name=VALIDATE)
        client.predict(
            *endpoint_args(client, SAVE_INPUTS, target="state", **form), api_name=SAVE_INPUTS
        )
        client.predict(*endpoint_args(client, GENERATE, current_gallery_tab=0), api_name=GENERATE)
        client.predict(api_name="/prepare_generate_media")
        client.predict(api_name="/activate_status")
        client.submit(api_name="/process_tasks").result(timeout=timeout)
        finalized: Any = client.predict(api_name="/finalize_generation")
    finally:
        client.close()
    gallery = finalized[1]["value"] if isinstance(finalized[1], dict) else finalized[1]
    files = [
        item["video"] for item in gallery or [] if isinstance(item, dict) and item.get("video")
    ]
    if not files:
        raise PipelineError("Wan2GP finished without producing a video")
    return Path(files[-1])


class Wan2GP:
    """Render one clip per episode."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends

    async def render(self, request: ClipRequest, destination: Path) -> Path:
        """Render `request` and move the MP4 to `destination`."""
        settings = self.backends.settings

        async def attempt(_number: int) -> Path:
            download = Path(tempfile.mkdtemp(prefix="studio-wan2gp-"))
            try:
                source = await asyncio.to_thread(
                    generate_clip,
                    settings.wan2gp_url,
                    settings.mock_headers(),
                    request,
                    settings.render_timeout,
                    download,
                )
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(source), destination)
                return destination
            except AppError as exc:
                raise PipelineError(f"Wan2GP failed: {exc}") from None
            finally:
                shutil.rmtree(download, ignore_errors=True)

        return await call(
            "wan2gp",
            "render_clip",
            attempt,
            self.backends.policy(),
            self.backends.metrics,
            timeout=settings.render_timeout,
        )
