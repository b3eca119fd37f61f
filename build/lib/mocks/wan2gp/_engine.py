"""Generation engine behind the Gradio functions: per-session queue, worker loop, registry.

Session state mirrors Wan2GP: `state["gen"]` holds `queue` (tasks, queue[0] is the running one),
`in_progress`, `abort`, `status`, `status_display`, `progress_args`, `file_list`, ...
The registry keeps per-namespace settings and the sessions seen in each namespace so that a
control-plane reset can abort and empty them.
"""

from __future__ import annotations

import html
import random
import re
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ._video import FPS, encode_mp4, tiny_size

MODEL_TYPES = ("t2v", "t2v_1.3B", "i2v", "vace_1.3B")
# wgp.py 3295-3302: a fresh install (no last_model_type, no transformer_types) opens on "t2v".
DEFAULT_MODEL = "t2v"
RESTART_ERROR = (
    "Webform can not be used as the App has been restarted since the form was displayed. "
    "Please refresh the page"
)

State = dict[str, Any]


class GenerationError(Exception):
    """A task failed; the Gradio layer turns it into gr.Error."""


@dataclass(frozen=True)
class Settings:
    """Per-namespace knobs: seconds per denoising step, prompt token that forces an error."""

    step_seconds: float = 0.05
    fail_token: str = "FAIL_GEN"

    def updated(self, changes: dict[str, Any]) -> Settings:
        """Validated copy (keys stepSeconds / failToken)."""
        out = self
        for key, value in changes.items():
            if (
                key == "stepSeconds"
                and isinstance(value, int | float)
                and not isinstance(value, bool)
                and value >= 0
            ):
                out = replace(out, step_seconds=float(value))
            elif key == "failToken" and isinstance(value, str):
                out = replace(out, fail_token=value)
            else:
                raise ValueError(f"invalid setting {key!r}={value!r}")
        return out

    def public(self) -> dict[str, Any]:
        """camelCase view for the settings route."""
        return {"stepSeconds": self.step_seconds, "failToken": self.fail_token}


class _Gen(dict[str, Any]):
    """A weak-referenceable dict hashed by identity (the `gen` cache inside a session state)."""

    __hash__ = object.__hash__  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return self is other


class Registry:
    """Namespaces -> settings and live sessions; also owns the output folder and RNG."""

    def __init__(self, defaults: Settings, output_dir: Path, seed: int) -> None:
        self.defaults = defaults
        self.output_dir = output_dir
        self._settings: dict[str, Settings] = {}
        self._sessions: dict[str, weakref.WeakSet[_Gen]] = {}
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._counter = 0

    def settings(self, ns: str) -> Settings:
        """Effective settings of namespace `ns`."""
        return self._settings.get(ns, self.defaults)

    def set_settings(self, ns: str, settings: Settings) -> None:
        """Replace the settings of `ns`."""
        self._settings[ns] = settings

    def attach(self, ns: str, gen: dict[str, Any]) -> None:
        """Remember that session cache `gen` belongs to `ns`."""
        if isinstance(gen, _Gen):
            with self._lock:
                self._sessions.setdefault(ns, weakref.WeakSet()).add(gen)

    def random_seed(self) -> int:
        """A seed for tasks submitted with seed -1 (deterministic per process seed)."""
        with self._lock:
            return self._rng.randrange(0, 2**31 - 1)

    def next_index(self) -> int:
        """Monotonic counter for output file names."""
        with self._lock:
            self._counter += 1
            return self._counter

    def reset(self, ns: str | None) -> None:
        """Abort and empty every session of `ns` (None: all) and restore default settings."""
        with self._lock:
            names = list(self._sessions) if ns is None else [ns]
            gens = [gen for name in names for gen in list(self._sessions.get(name, ()))]
            if ns is None:
                self._settings.clear()
            else:
                self._settings.pop(ns, None)
        for gen in gens:
            with gen_lock(gen):
                if gen.get("in_progress"):
                    gen["abort"] = True
                gen.get("queue", []).clear()
                gen["file_list"] = []
                gen["file_settings_list"] = []
                gen["status"] = ""


_LOCKS: weakref.WeakKeyDictionary[_Gen, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def get_gen_info(state: State) -> dict[str, Any]:
    """The session's generation cache (created on first use), as in Wan2GP."""
    gen = state.get("gen")
    if gen is None:
        gen = _Gen()
        state["gen"] = gen
    return gen


def gen_lock(gen: dict[str, Any]) -> threading.RLock:
    """Lock guarding one session's queue."""
    with _LOCKS_GUARD:
        if not isinstance(gen, _Gen):
            return threading.RLock()
        lock = _LOCKS.get(gen)
        if lock is None:
            lock = _LOCKS[gen] = threading.RLock()
        return lock


def set_status(gen: dict[str, Any], text: str) -> None:
    """Set the session status and log it for /refresh_status_async (which drains the log)."""
    gen["status"] = text
    log: list[str] = gen.setdefault("status_log", [])
    log.append(text)
    del log[:-200]


def queue_html(gen: dict[str, Any]) -> str:
    """HTML table of the queue (empty message like Wan2GP's)."""
    queue = gen.get("queue", [])
    if not queue:
        return "<div style='text-align: center; color: grey; padding: 20px;'>Queue is empty.</div>"
    rows = []
    for index, task in enumerate(queue):
        running = index == 0 and gen.get("in_progress")
        rows.append(
            f"<tr data-task-id='{task['id']}'><td>{index + 1}</td>"
            f"<td>{'In Progress' if running else 'Pending'}</td>"
            f"<td>{html.escape(task['prompt'])}</td><td>{task['length']}</td>"
            f"<td>{task['steps']}</td></tr>"
        )
    head = "<tr><th>Qty</th><th>Status</th><th>Prompt</th><th>Length</th><th>Steps</th></tr>"
    return f"<table class='queue'><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def split_prompt_units(text: str, mode: Any) -> list[str]:
    """shared/utils/prompt_parser.py split_prompt_units: `#` lines dropped; "FG" one prompt,
    a mode with "P" (the default "PG") one prompt per paragraph, otherwise one per line."""
    mode = str(mode or "")
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    text = "\n".join(line for line in lines if not line.strip().startswith("#")).strip()
    if not text:
        return []
    if mode == "FG":
        return [text]
    if "P" in mode:
        prompts: list[str] = []
        current: list[str] = []
        for line in [*text.split("\n"), ""]:
            if line.strip():
                current.append(line)
            elif current:
                prompts.append("\n".join(current).strip())
                current = []
        return prompts
    return [line.strip() for line in text.split("\n") if line.strip()]


def add_tasks(registry: Registry, state: State, inputs: dict[str, Any], model_type: str) -> int:
    """Validate saved inputs and append one task per prompt line; return the count added."""
    gen = get_gen_info(state)
    prompts = split_prompt_units(
        str(inputs.get("prompt") or ""), inputs.get("multi_prompts_gen_type")
    )
    if not prompts:
        raise ValueError("Prompt cannot be empty.")
    resolution = str(inputs.get("resolution") or "832x480")
    tiny_size(resolution)  # raises ValueError on a malformed resolution
    length = _int_in(inputs.get("video_length"), "video_length", 1, 481)
    steps = _int_in(inputs.get("num_inference_steps"), "num_inference_steps", 1, 100)
    seed = _int_in(inputs.get("seed"), "seed", -1, 2**32 - 1)
    with gen_lock(gen):
        queue = gen.setdefault("queue", [])
        for prompt in prompts:
            task_seed = registry.random_seed() if seed == -1 else seed
            params = {
                **inputs,
                "prompt": prompt,
                "seed": task_seed,
                "model_type": model_type,
                "resolution": resolution,
                "video_length": length,
                "num_inference_steps": steps,
            }
            gen["task_counter"] = gen.get("task_counter", 0) + 1
            queue.append(
                {
                    "id": gen["task_counter"],
                    "params": params,
                    "prompt": prompt,
                    "length": length,
                    "steps": steps,
                    "repeats": 1,
                }
            )
        gen["prompts_max"] = gen.get("prompts_max", 0) + len(prompts)
    return len(prompts)


def _int_in(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if not low <= number <= high or float(value) != number:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return number


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text)[:40].strip("_") or "video"


def run_queue(registry: Registry, ns: str, state: State) -> Iterator[str]:
    """Process the session's queue; yields "preview" per denoising step, "output" per file.

    Raises GenerationError when a prompt contains the namespace's fail token (queue cleared).
    """
    gen = get_gen_info(state)
    queue: list[dict[str, Any]] = gen.setdefault("queue", [])
    if not queue:
        gen["status_display"] = False
        return
    settings = registry.settings(ns)
    started = time.time()
    gen["in_progress"] = True
    gen["abort"] = False
    gen["prompt_no"] = 0
    set_status(gen, "Generating...")
    aborted_any = False
    try:
        while True:
            with gen_lock(gen):
                if not queue:
                    break
                task = queue[0]
            gen["prompt_no"] += 1
            params = task["params"]
            steps = task["steps"]
            for step in range(1, steps + 1):
                if _wait(gen, settings.step_seconds):
                    break
                gen["progress_args"] = [(step, steps), f"Denoising {step}/{steps}"]
                set_status(
                    gen,
                    f"Prompt {gen['prompt_no']}/{gen.get('prompts_max', 1)} | "
                    f"Denoising Step {step}/{steps}",
                )
                if settings.fail_token and settings.fail_token in task["prompt"]:
                    with gen_lock(gen):
                        queue.clear()
                    gen["prompts_max"] = 0
                    raise GenerationError(
                        "The generation of the video has encountered an error: "
                        "CUDA out of memory (forced by the Wan2GP mock)"
                    )
                yield "preview"
            if gen.get("abort"):
                aborted_any = True
                gen["abort"] = False
                set_status(gen, "Video Generation Aborted")
            else:
                index = registry.next_index()
                stamp = datetime.now().strftime("%Y-%m-%d-%Hh%Mm%Ss")
                name = f"{stamp}_{index:04d}_seed{params['seed']}_{_slug(task['prompt'])}.mp4"
                path = encode_mp4(
                    registry.output_dir / name,
                    task["prompt"],
                    params["seed"],
                    task["length"],
                    params["resolution"],
                )
                with gen_lock(gen):
                    gen.setdefault("file_list", []).append(str(path))
                    gen.setdefault("file_settings_list", []).append(
                        {**params, "fps": FPS, "frames": task["length"]}
                    )
            with gen_lock(gen):
                queue[:] = [item for item in queue if item["id"] != task["id"]]
            yield "output"
        elapsed = time.time() - started
        set_status(
            gen,
            f"Video generation was aborted. Total Generation Time: {elapsed:.1f}s"
            if aborted_any
            else f"Total Generation Time: {elapsed:.1f}s",
        )
    finally:
        gen.pop("in_progress", None)
        gen["prompts_max"] = 0
        gen["status_display"] = False


def _wait(gen: dict[str, Any], seconds: float) -> bool:
    """Wait `seconds` (abortable); True when an abort was requested."""
    deadline = time.monotonic() + seconds
    while True:
        if gen.get("abort"):
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(remaining, 0.01))
