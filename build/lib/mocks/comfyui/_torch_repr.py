"""str(tensor) as torch prints a CPU float32 tensor with its default print options
(precision 4, threshold 1000, edgeitems 3, linewidth 80): what a real ComfyUI puts in
PreviewAny's text and in execution_error's current_inputs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80
PREFIX = "tensor("


def _summarized(values: np.ndarray) -> np.ndarray:
    """The edge items of every dimension longer than 2 * EDGEITEMS."""
    if values.ndim == 0:
        return values
    if values.shape[0] > 2 * EDGEITEMS:
        values = np.concatenate([values[:EDGEITEMS], values[-EDGEITEMS:]])
    if values.ndim == 1:
        return values
    return np.stack([_summarized(v) for v in values])


class _Formatter:
    """One width and notation for every element (fixed, integer-valued or scientific)."""

    def __init__(self, values: np.ndarray) -> None:
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = values.reshape(-1)
        shown = flat[np.isfinite(flat) & (flat != 0)]
        if shown.size == 0:
            return
        magnitudes = np.abs(shown).astype(np.float64)
        low, high = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        if self.int_mode:
            self.sci_mode = high / low > 1000.0 or high > 1.0e8
            texts = [self._sci(v) if self.sci_mode else f"{v:.0f}." for v in shown.tolist()]
        else:
            self.sci_mode = high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
            texts = [
                self._sci(v) if self.sci_mode else f"{v:.{PRECISION}f}" for v in shown.tolist()
            ]
        self.width = max(len(t) for t in texts)

    @staticmethod
    def _sci(value: float) -> str:
        return f"{value:.{PRECISION}e}"

    def format(self, value: float) -> str:
        if self.sci_mode:
            text = f"{value:{self.width}.{PRECISION}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRECISION}f}"
        return text.rjust(self.width)


def _vector(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    per_line = max(1, math.floor((LINEWIDTH - indent) / (fmt.width + 2)))
    if summarize and values.shape[0] > 2 * EDGEITEMS:
        data = [fmt.format(v) for v in values[:EDGEITEMS].tolist()] + [" ..."]
        data += [fmt.format(v) for v in values[-EDGEITEMS:].tolist()]
    else:
        data = [fmt.format(v) for v in values.tolist()]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if values.ndim == 0:
        return fmt.format(float(values))
    if values.ndim == 1:
        return _vector(values, indent, summarize, fmt)
    rows = range(values.shape[0])
    if summarize and values.shape[0] > 2 * EDGEITEMS:
        head = [_nested(values[i], indent + 1, summarize, fmt) for i in rows[:EDGEITEMS]]
        tail = [_nested(values[i], indent + 1, summarize, fmt) for i in rows[-EDGEITEMS:]]
        slices = [*head, "...", *tail]
    else:
        slices = [_nested(values[i], indent + 1, summarize, fmt) for i in rows]
    joiner = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + joiner.join(slices) + "]"


def tensor_str(values: np.ndarray) -> str:
    """`str(torch.from_numpy(values))` for a float32 array."""
    values = np.asarray(values, np.float32)
    if values.size == 0:
        size = "" if values.ndim == 1 else f", size={tuple(values.shape)}"
        return f"{PREFIX}[]{size})"
    summarize = values.size > THRESHOLD
    fmt = _Formatter(_summarized(values) if summarize else values)
    return PREFIX + _nested(values, len(PREFIX), summarize, fmt) + ")"


def value_str(value: Any) -> str:
    """str() of a node value: tensors as torch prints them, dicts and lists as Python
    prints them with their tensors inside."""
    if isinstance(value, np.ndarray):
        return tensor_str(value)
    if isinstance(value, dict):
        items = (f"{k!r}: {_inner(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        inner = ", ".join(_inner(v) for v in value)
        return (
            f"[{inner}]"
            if isinstance(value, list)
            else f"({inner}{',' if len(value) == 1 else ''})"
        )
    return str(value)


def _inner(value: Any) -> str:
    if isinstance(value, np.ndarray | dict | list | tuple):
        return value_str(value)
    return repr(value)
