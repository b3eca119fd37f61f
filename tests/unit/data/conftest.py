"""A ComfyUI mock subprocess and a real client (httpx + websocket-client) that runs a graph."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import websocket
from PIL import Image

from harness.data import InputFile, InputImage, InputLatent
from tests.unit.mocks.conftest import NAMESPACE_HEADER, MockProcesses

RUN_TIMEOUT = 60.0  # seconds for one graph, from POST /prompt to `executing` None


@dataclass
class Run:
    """What a client saw of one POST /prompt: status, body, messages, binary frames by node."""

    headers: dict[str, str]
    status: int
    body: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    frames: dict[str, list[bytes]] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)

    def types(self) -> list[str]:
        """The websocket message types, in order."""
        return [m["type"] for m in self.messages]


class ComfyClient:
    """Runs a graph in a fresh namespace (so no output cache is shared between examples)."""

    def __init__(self, base: str, files: Mapping[str, bytes] | None = None) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=30)
        self.files = dict(files or {})

    @contextmanager
    def run(self, prompt: dict[str, Any]) -> Iterator[Run]:
        """Upload the input files (POST /upload/image), POST the graph; when accepted, follow
        /ws to the end and read /history. On exit the namespace is reset (POST
        /__harness/reset), so the mock keeps no outputs from it."""
        headers = {NAMESPACE_HEADER: f"data-{uuid.uuid4().hex[:12]}"}
        for name, data in self.files.items():
            answer = self.http.post("/upload/image", files={"image": (name, data)}, headers=headers)
            assert answer.status_code == 200 and answer.json()["name"] == name, answer.text
        client_id = uuid.uuid4().hex
        ws = websocket.WebSocket()
        ws.connect(
            f"ws://{self.base.removeprefix('http://')}/ws?clientId={client_id}",
            header=[f"{k}: {v}" for k, v in headers.items()],
            timeout=RUN_TIMEOUT,
        )
        try:
            answer = self.http.post(
                "/prompt", json={"prompt": prompt, "client_id": client_id}, headers=headers
            )
            run = Run(headers, answer.status_code, answer.json())
            if answer.status_code == 200:
                pid = run.body["prompt_id"]
                self._follow(ws, run, pid)
                run.history = self.http.get(f"/history/{pid}", headers=headers).json()[pid]
            yield run
        finally:
            ws.close()
            self.http.post("/__harness/reset", headers=headers)

    @staticmethod
    def _follow(ws: websocket.WebSocket, run: Run, prompt_id: str) -> None:
        deadline = time.monotonic() + RUN_TIMEOUT
        node: str | None = None
        while time.monotonic() < deadline:
            frame = ws.recv()
            if isinstance(frame, bytes):
                run.frames.setdefault(node or "", []).append(frame)
                continue
            message = json.loads(frame)
            run.messages.append(message)
            data = message.get("data", {})
            if message["type"] == "executing" and data.get("prompt_id") == prompt_id:
                node = data["node"]
                if node is None:
                    return
        raise AssertionError(f"prompt {prompt_id} did not finish within {RUN_TIMEOUT} s")

    def view(self, run: Run, entry: dict[str, str]) -> bytes:
        """The bytes of a /history image entry, read back through /view in the run's namespace."""
        answer = self.http.get("/view", params=entry, headers=run.headers)
        assert answer.status_code == 200, (entry, answer.status_code)
        return answer.content


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of PNG (or WEBP) bytes."""
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def latent_shape(data: bytes) -> tuple[int, ...]:
    """The `latent_tensor` shape of a .latent file (safetensors: an 8-byte little-endian
    header length, then the JSON header)."""
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    return tuple(header["latent_tensor"]["shape"])


@pytest.fixture(scope="module")
def comfyui_base() -> Iterator[str]:
    """A ComfyUI mock with no step delay and no sampler previews (binary frames then come only
    from SaveImageWebsocket)."""
    procs = MockProcesses()
    try:
        yield procs.start("comfyui", "--step-seconds", "0", "--no-previews")
    finally:
        procs.close()


# the loaders' files: an RGB image, an animated RGBA one, a latent (harness.data describes
# them, so generated graphs declare what LoadImage & co. give)
INPUT_FILES: dict[str, InputFile] = {
    "harness_rgb.png": InputImage(96, 72),
    "harness_frames.png": InputImage(80, 120, frames=2, alpha=True),
    "harness_cells.latent": InputLatent(64, 96),
}


@pytest.fixture(scope="module")
def comfy(comfyui_base: str) -> Iterator[ComfyClient]:
    """A client of the module's ComfyUI mock; each run's namespace holds INPUT_FILES."""
    files = {name: f.encode(seed=7) for name, f in INPUT_FILES.items()}
    client = ComfyClient(comfyui_base, files)
    try:
        yield client
    finally:
        client.http.close()
